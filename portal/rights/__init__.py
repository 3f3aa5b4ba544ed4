"""The customer's rights over their data: a copy, deletion (erasure), restriction and objection."""

from flask import Blueprint

bp = Blueprint("rights", __name__)

from portal.rights import views  # noqa: E402,F401  (its routes join bp)
