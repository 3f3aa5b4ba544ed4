"""The board's pages on staff access: the alerts and each member's counts, and one member's access
history. Board only (``access.review``). A page that names customers logs them as a review."""

from __future__ import annotations

from flask import abort, render_template, request
from flask_login import current_user

from portal import clock
from portal.access import staff_required
from portal.db import db
from portal.oversight import bp, services
from portal.settings.insider_alerts import USUAL_DAYS, insider_thresholds
from portal.staff.models import StaffMember


@bp.route("")
@staff_required("access.review")
def index():
    """Recent alerts, and every member's count of customers today beside their usual."""
    now = clock.now()
    thresholds = insider_thresholds()
    return render_template("oversight/index.html", alerts=services.recent_alerts(),
                           members=services.member_counts(now, thresholds), thresholds=thresholds,
                           usual_days=USUAL_DAYS, now=now, number=services.one_decimal)


@bp.route("/members/<int:staff_id>")
@staff_required("access.review")
def member(staff_id: int):
    """The customers whose data the member was shown, by day, with the page and the request; the
    customers named here are logged as viewed in a review."""
    reviewed = db.session.get(StaffMember, staff_id)
    if reviewed is None:
        abort(404)
    before = request.args.get("before")
    cursor = services.parse_cursor(before) if before else None
    if before and cursor is None:
        abort(404)
    history = services.member_history(staff_id, cursor)
    now = clock.now()
    services.log_review(current_user.staff, history, reviewed, now)
    page = render_template("oversight/member.html", reviewed=reviewed, history=history, paged=cursor is not None,
                           page_titles=services.PAGE_TITLES)
    db.session.commit()
    return page
