"""The customer's record: My data, and what the customer does with their data here."""

from flask import Blueprint

bp = Blueprint("account", __name__)

from portal.account import views  # noqa: E402,F401  (its routes join bp)
