"""The administrator's queue settings: routing, assignment, clocks and extra days off.

Changes apply to tickets filed afterwards: a ticket keeps the department and deadlines it was
given when it was filed. Every change is audited with the old and the new value.
"""

from __future__ import annotations

from datetime import date

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from portal import clock
from portal.access import staff_required
from portal.audit.services import record
from portal.db import db
from portal.enums import Department, TicketKind
from portal.tickets.board_forms import DayOffForm, SettingsForm
from portal.tickets.board_views import bp
from portal.tickets.due import public_holidays
from portal.tickets.models import DayOff
from portal.tickets.settings import LEGAL_MAXIMUM, get_setting, save_setting

SETTING_KEYS = ("routing", "assignment", "clocks")


def _current() -> dict[str, dict]:
    return {key: get_setting(key) for key in SETTING_KEYS}


def _form_data(current: dict[str, dict]) -> dict:
    data = {"acknowledge_working_days": current["clocks"]["acknowledge_working_days"],
            "fulfil_in_working_days": current["clocks"]["fulfil_in_working_days"]}
    for kind in TicketKind:
        data[f"department_{kind.value}"] = current["routing"][kind.value]["department"]
        data[f"priority_{kind.value}"] = current["routing"][kind.value]["priority"]
        data[f"fulfil_{kind.value}"] = current["clocks"]["fulfil_days"][kind.value]
        data[f"extension_{kind.value}"] = current["clocks"]["extension_days"][kind.value]
    for department in Department:
        data[f"assignment_{department.value}"] = current["assignment"][department.value]
    return data


def _values_from(form) -> dict[str, dict]:
    field = form.__getitem__
    return {
        "routing": {kind.value: {"department": field(f"department_{kind.value}").data,
                                 "priority": field(f"priority_{kind.value}").data} for kind in TicketKind},
        "assignment": {d.value: field(f"assignment_{d.value}").data for d in Department},
        "clocks": {
            "acknowledge_working_days": form.acknowledge_working_days.data,
            "fulfil_in_working_days": bool(form.fulfil_in_working_days.data),
            "fulfil_days": {kind.value: field(f"fulfil_{kind.value}").data for kind in TicketKind},
            "extension_days": {kind.value: field(f"extension_{kind.value}").data for kind in TicketKind},
        },
    }


def _page(form, day_off_form, status: int = 200):
    days_off = list(db.session.scalars(select(DayOff).order_by(DayOff.day)))
    year = clock.now().year
    holidays = sorted(day for y in (year, year + 1) for day in public_holidays(y))
    return render_template("board/settings.html", form=form, day_off_form=day_off_form, days_off=days_off,
                           kinds=list(TicketKind),
                           departments=list(Department), legal=LEGAL_MAXIMUM, holidays=holidays), status


@bp.route("/settings", methods=["GET"])
@staff_required("settings.edit")
def settings():
    """Routing per kind, assignment per department, the legal clocks and extra days off."""
    return _page(SettingsForm(formdata=None, data=_form_data(_current())), DayOffForm(formdata=None, prefix="day_off"))


@bp.route("/settings", methods=["POST"])
@staff_required("settings.edit")
def save_settings():
    """Save the settings; requests filed from now on follow them."""
    form = SettingsForm()
    if not form.validate_on_submit():
        return _page(form, DayOffForm(formdata=None, prefix="day_off"), 400)
    old, new = _current(), _values_from(form)
    staff, now = current_user.staff, clock.now()
    changed = [key for key in SETTING_KEYS if new[key] != old[key]]
    for key in changed:
        save_setting(key, new[key], staff.id, now)
        record(f"staff:{staff.id}", "settings.changed", f"setting:{key}", old=old[key], new=new[key])
    db.session.commit()
    flash(_("Settings saved. They apply to requests filed from now on; existing requests keep their "
            "department and deadlines.") if changed else _("Nothing was changed."), "success")
    return redirect(url_for(".settings"), 303)


@bp.route("/settings/days-off", methods=["POST"])
@staff_required("settings.edit")
def add_day_off():
    """Add a company day off: deadlines of new requests skip it."""
    form = DayOffForm(prefix="day_off")
    if not form.validate_on_submit():
        return _page(SettingsForm(formdata=None, data=_form_data(_current())), form, 400)
    db.session.add(DayOff(day=form.day.data, name=form.name.data.strip()))
    record(f"staff:{current_user.staff.id}", "settings.day_off_added", f"day_off:{form.day.data.isoformat()}",
           name=form.name.data.strip())
    db.session.commit()
    flash(_("Day off added."), "success")
    return redirect(url_for(".settings"), 303)


@bp.route("/settings/days-off/<day>/remove", methods=["POST"])
@staff_required("settings.edit")
def remove_day_off(day: str):
    """Remove a company day off (deadlines already given stay as they are)."""
    try:
        row = db.session.get(DayOff, date.fromisoformat(day))
    except ValueError:
        row = None
    if row is None:
        abort(404)
    record(f"staff:{current_user.staff.id}", "settings.day_off_removed", f"day_off:{day}", name=row.name)
    db.session.delete(row)
    db.session.commit()
    flash(_("Day off removed."), "success")
    return redirect(url_for(".settings"), 303)
