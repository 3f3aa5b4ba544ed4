"""Oversight of staff access to customers' data: the insider-leak alert (a member shown the data of
far more customers than usual in a day, checked by ``flask worker``), and the board's pages that list
the alerts and each member's access history. Board only (``access.review``); the thresholds are the
``insider_alerts`` setting (``portal/settings/insider_alerts.py``)."""

from flask import Blueprint

bp = Blueprint("oversight", __name__, url_prefix="/board/oversight")

from portal.oversight import views  # noqa: E402,F401  (its routes join the blueprint)
