"""Staff accounts: sign-in with password and TOTP, password links, and the administrator's pages."""

from flask import Blueprint

bp = Blueprint("staff", __name__, url_prefix="/staff")

from portal.staff import admin, views  # noqa: E402,F401  (their routes join bp)
