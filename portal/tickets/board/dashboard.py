"""The dashboard: open tickets by department and status, overdue counts, last month's median times."""

from __future__ import annotations

from flask import render_template

from portal import clock
from portal.access import staff_required
from portal.tickets.board import bp, charts, figures
from portal.tickets.settings import queue_setting


@bp.route("/dashboard")
@staff_required("dashboard.view")
def dashboard():
    """Open tickets by department and status, overdue counts, and last month's median times."""
    return render_template("board/dashboard.html", figures=figures.figures(clock.now()), charts=charts,
                           window_days=figures.WINDOW_DAYS, clocks=queue_setting("clocks"))
