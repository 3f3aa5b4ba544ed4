"""The customer's record: My data, and what the customer does with their data here."""

from flask import Blueprint

bp = Blueprint("account", __name__)

from portal.account import correction_views, views  # noqa: E402,F401,I001  (their routes join bp)
