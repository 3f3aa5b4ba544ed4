"""The privacy notice as pages of the portal (every version), and "your rights": each right, how to
use it here and the law's deadline for it, the portal's cookies, its logging of IP addresses and how
long it keeps its own data. These pages read the request kinds (their legal periods), the retention
settings and the sign-in cookies from the code that defines them, so they never say anything else."""

from flask import Blueprint

bp = Blueprint("privacy", __name__)

from portal.privacy import views  # noqa: E402,F401  (its routes join bp)
