"""The dashboard: open tickets by department and status, overdue counts, last month's median times."""

from __future__ import annotations

from flask import render_template
from flask_login import current_user

from portal import clock, page_cache
from portal.access import staff_required
from portal.board_version import board_version
from portal.tickets.board import bp, charts, figures
from portal.tickets.settings import queue_setting


@bp.route("/dashboard")
@staff_required("dashboard.view")
def dashboard():
    """Open tickets by department and status, overdue counts, and last month's median times.

    Kept per member under the board's counter and the minute (overdue counts move with time)."""
    member, now = current_user.staff, clock.now()
    parts = ("staff", member.id, member.role, member.full_name, board_version(), now.replace(second=0, microsecond=0))
    return page_cache.serve(parts, lambda values: render_template(
        "board/dashboard.html", figures=figures.figures(now), charts=charts, window_days=figures.WINDOW_DAYS,
        clocks=queue_setting("clocks")), max_age=60)
