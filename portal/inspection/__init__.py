"""The inspection pack: the registers an inspector of the personal-data protection authority asks
for, for a range of days, in one zip the board downloads — the request register with its clocks, the
consent ledger, the breach incidents and their notices, the access log, and a printable summary."""

from flask import Blueprint

bp = Blueprint("inspection", __name__, url_prefix="/board/inspection")

from portal.inspection import views  # noqa: E402,F401  (its routes join bp)
