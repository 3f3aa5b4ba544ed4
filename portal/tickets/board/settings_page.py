"""The administrator's queue settings: routing, assignment, clocks and extra days off.

Changes apply to tickets filed afterwards: a ticket keeps the department and deadlines it was
given when it was filed. Every change is audited with the old and the new value.
"""

from __future__ import annotations

from datetime import date

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal import clock
from portal.access import staff_required
from portal.db import db
from portal.enums import Department
from portal.settings.services import add_day_off, days_off, remove_day_off
from portal.tickets.board import bp
from portal.tickets.board.forms import DayOffForm, settings_form
from portal.tickets.due import public_holidays
from portal.tickets.kinds import all_kinds
from portal.tickets.settings import SETTING_KEYS, legal_maximum, queue_setting, save_queue_setting


def current_settings() -> dict[str, dict]:
    return {key: queue_setting(key) for key in SETTING_KEYS}


def form_data(current: dict[str, dict]) -> dict:
    """The settings form's fields, filled in from the settings in force."""
    data = {"acknowledge_working_days": current["clocks"]["acknowledge_working_days"],
            "fulfil_in_working_days": current["clocks"]["fulfil_in_working_days"]}
    for kind in all_kinds():
        data[f"department_{kind}"] = current["routing"][kind]["department"]
        data[f"priority_{kind}"] = current["routing"][kind]["priority"]
        data[f"fulfil_{kind}"] = current["clocks"]["fulfil_days"][kind]
        data[f"extension_{kind}"] = current["clocks"]["extension_days"][kind]
    for department in Department:
        data[f"assignment_{department}"] = current["assignment"][department]
    return data


def _values_from(form) -> dict[str, dict]:
    field = form.__getitem__
    kinds = all_kinds()
    return {
        "routing": {kind: {"department": field(f"department_{kind}").data,
                           "priority": field(f"priority_{kind}").data} for kind in kinds},
        "assignment": {d: field(f"assignment_{d}").data for d in Department},
        "clocks": {
            "acknowledge_working_days": form.acknowledge_working_days.data,
            "fulfil_in_working_days": bool(form.fulfil_in_working_days.data),
            "fulfil_days": {kind: field(f"fulfil_{kind}").data for kind in kinds},
            "extension_days": {kind: field(f"extension_{kind}").data for kind in kinds},
        },
    }


def _page(form, day_off_form, status: int = 200):
    year = clock.now().year
    holidays = sorted(day for y in (year, year + 1) for day in public_holidays(y))
    return render_template("board/settings.html", form=form, day_off_form=day_off_form, days_off=days_off(),
                           kinds=all_kinds(), departments=list(Department), legal=legal_maximum(),
                           holidays=holidays), status


def _settings_form():
    return settings_form(formdata=None, data=form_data(current_settings()))


@bp.route("/settings", methods=["GET"])
@staff_required("settings.edit")
def settings():
    """Routing per kind, assignment per department, the legal clocks and extra days off."""
    return _page(_settings_form(), DayOffForm(formdata=None, prefix="day_off"))


@bp.route("/settings", methods=["POST"])
@staff_required("settings.edit")
def save_settings():
    """Save the settings; requests filed from now on follow them."""
    form = settings_form()
    if not form.validate_on_submit():
        return _page(form, DayOffForm(formdata=None, prefix="day_off"), 400)
    new, now = _values_from(form), clock.now()
    changed = [key for key in SETTING_KEYS if save_queue_setting(key, new[key], current_user.staff, now)]
    db.session.commit()
    flash(_("Settings saved. They apply to requests filed from now on; existing requests keep their "
            "department and deadlines.") if changed else _("Nothing was changed."), "success")
    return redirect(url_for(".settings"), 303)


@bp.route("/settings/days-off", methods=["POST"], endpoint="add_day_off")
@staff_required("settings.edit")
def add_day_off_view():
    """Add a company day off: deadlines of new requests skip it."""
    form = DayOffForm(prefix="day_off")
    if not form.validate_on_submit():
        return _page(_settings_form(), form, 400)
    add_day_off(form.day.data, form.name.data, current_user.staff, clock.now())
    db.session.commit()
    flash(_("Day off added."), "success")
    return redirect(url_for(".settings"), 303)


@bp.route("/settings/days-off/<day>/remove", methods=["POST"], endpoint="remove_day_off")
@staff_required("settings.edit")
def remove_day_off_view(day: str):
    """Remove a company day off (deadlines already given stay as they are)."""
    try:
        removed = remove_day_off(date.fromisoformat(day), current_user.staff, clock.now())
    except ValueError:
        removed = False
    if not removed:
        abort(404)
    db.session.commit()
    flash(_("Day off removed."), "success")
    return redirect(url_for(".settings"), 303)
