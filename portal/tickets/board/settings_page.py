"""The administrator's settings: routing, assignment, clocks (the law's, and the company's own promise
of a first answer to complaints and misuse reports, in hours), the company's calendar (extra days
off, and holidays or weekend days worked) and the thresholds of the insider-leak alert.

Changes apply to tickets filed afterwards: a ticket keeps the department and deadlines it was
given when it was filed. Every change is audited with the old and the new value.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from portal import clock
from portal.access import staff_required
from portal.db import db
from portal.enums import Department
from portal.settings.insider_alerts import DEFAULTS as INSIDER_DEFAULTS
from portal.settings.insider_alerts import KEY as INSIDER_KEY
from portal.settings.insider_alerts import insider_thresholds, save_insider_thresholds
from portal.settings.models import CalendarOverride
from portal.settings.services import (
    add_calendar_override,
    calendar_overrides,
    get_settings,
    remove_calendar_override,
)
from portal.tickets.board import bp
from portal.tickets.board.forms import DayOffForm, DayWorkedForm, settings_form
from portal.tickets.due import public_holiday_names
from portal.tickets.kinds import all_kinds, get_kind
from portal.tickets.settings import (
    FIRST_RESPONSE,
    SETTING_KEYS,
    defaults,
    first_response_kinds,
    legal_maximum,
    save_queue_setting,
)

PAGE_KEYS = (*SETTING_KEYS, FIRST_RESPONSE)  # the queue settings this page edits


def current_settings() -> dict[str, dict]:
    """The settings this page edits, read with one statement."""
    return get_settings({**{key: defaults(key) for key in PAGE_KEYS}, INSIDER_KEY: INSIDER_DEFAULTS})


def form_data(current: dict[str, dict]) -> dict:
    """The settings form's fields, filled in from the settings in force."""
    thresholds = insider_thresholds(current[INSIDER_KEY])
    data = {"acknowledge_working_days": current["clocks"]["acknowledge_working_days"],
            "fulfil_in_working_days": current["clocks"]["fulfil_in_working_days"],
            "insider_customers": thresholds["distinct_customers"], "insider_factor": f"{thresholds['factor']:g}"}
    for kind in first_response_kinds():
        data[f"first_response_{kind}"] = current[FIRST_RESPONSE]["hours"][kind]
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
        FIRST_RESPONSE: {"hours": {kind: field(f"first_response_{kind}").data for kind in first_response_kinds()}},
    }


CALENDAR_FORMS = {False: ("day_off", DayOffForm), True: ("day_worked", DayWorkedForm)}
WHAT = {"holiday": _l("Public holiday"), "holiday_worked": _l("Public holiday, worked"),
        "day_off": _l("Company day off"), "weekend_worked": _l("Weekend day, worked")}


@dataclass(frozen=True)
class CalendarDay:
    """A day of a year's calendar that is not an ordinary weekday or weekend day."""

    day: date
    what: str  # a key of WHAT
    name: str

    @property
    def is_working_day(self) -> bool:
        return self.what in ("holiday_worked", "weekend_worked")


def year_calendar(year: int, overrides: list[CalendarOverride]) -> list[CalendarDay]:
    """The public holidays of ``year`` and the company's overrides, as the clocks count them."""
    holidays = public_holiday_names(year, str(get_locale()))
    days = {day: CalendarDay(day, "holiday", name) for day, name in holidays.items()}
    for override in overrides:
        if override.day.year != year:
            continue
        if override.is_working_day:
            what = "holiday_worked" if override.day in holidays else "weekend_worked"
        else:
            what = "day_off"
        name = f"{holidays[override.day]} — {override.name}" if override.day in holidays else override.name
        days[override.day] = CalendarDay(override.day, what, name)
    return sorted(days.values(), key=lambda calendar_day: calendar_day.day)


def _page(form, calendar_forms: dict | None = None, status: int = 200):
    overrides, next_year = calendar_overrides(), clock.now().year + 1
    forms = {name: form_class(formdata=None, prefix=name) for name, form_class in CALENDAR_FORMS.values()}
    forms.update(calendar_forms or {})
    return render_template("board/settings.html", form=form, calendar_forms=forms, overrides=overrides,
                           first_response_kinds=[get_kind(code) for code in first_response_kinds()],
                           kinds=all_kinds(), departments=list(Department), legal=legal_maximum(),
                           year=next_year, year_calendar=year_calendar(next_year, overrides), what=WHAT), status


def _settings_form():
    return settings_form(formdata=None, data=form_data(current_settings()))


@bp.route("/settings", methods=["GET"])
@staff_required("settings.edit")
def settings():
    """Routing per kind, assignment per department, the legal clocks and extra days off."""
    return _page(_settings_form())


@bp.route("/settings", methods=["POST"])
@staff_required("settings.edit")
def save_settings():
    """Save the settings; requests filed from now on follow them."""
    form = settings_form()
    if not form.validate_on_submit():
        return _page(form, status=400)
    new, now = _values_from(form), clock.now()
    changed = [key for key in PAGE_KEYS if save_queue_setting(key, new[key], current_user.staff, now)]
    alerts_changed = save_insider_thresholds(form.insider_customers.data, form.insider_factor.data,
                                             current_user.staff, now)
    db.session.commit()
    if changed:
        flash(_("Settings saved. They apply to requests filed from now on; existing requests keep their "
                "department and deadlines."), "success")
    elif alerts_changed:
        flash(_("Settings saved. The insider-leak alert uses the new thresholds from its next check."), "success")
    else:
        flash(_("Nothing was changed."), "success")
    return redirect(url_for(".settings"), 303)


@bp.route("/settings/days-off", methods=["POST"], endpoint="add_day_off")
@staff_required("settings.edit")
def add_day_off_view():
    """Add a company day off: deadlines of new requests skip it."""
    return _add_override(is_working_day=False)


@bp.route("/settings/days-worked", methods=["POST"], endpoint="add_day_worked")
@staff_required("settings.edit")
def add_day_worked_view():
    """Mark a public holiday or a weekend day as worked: deadlines of new requests count it."""
    return _add_override(is_working_day=True)


def _add_override(is_working_day: bool):
    prefix, form_class = CALENDAR_FORMS[is_working_day]
    form = form_class(prefix=prefix)
    if not form.validate_on_submit():
        return _page(_settings_form(), {prefix: form}, 400)
    add_calendar_override(form.day.data, is_working_day, form.name.data, current_user.staff, clock.now())
    db.session.commit()
    flash(_("Day worked added.") if is_working_day else _("Day off added."), "success")
    return redirect(url_for(".settings"), 303)


@bp.route("/settings/days-off/<day>/remove", methods=["POST"], endpoint="remove_day_off")
@staff_required("settings.edit")
def remove_day_off_view(day: str):
    """Remove a company day off (deadlines already given stay as they are)."""
    return _remove_override(day, is_working_day=False)


@bp.route("/settings/days-worked/<day>/remove", methods=["POST"], endpoint="remove_day_worked")
@staff_required("settings.edit")
def remove_day_worked_view(day: str):
    """Give a day worked back to the public calendar (deadlines already given stay as they are)."""
    return _remove_override(day, is_working_day=True)


def _remove_override(day: str, is_working_day: bool):
    try:
        removed = remove_calendar_override(date.fromisoformat(day), is_working_day, current_user.staff, clock.now())
    except ValueError:
        removed = False
    if not removed:
        abort(404)
    db.session.commit()
    flash(_("Day worked removed.") if is_working_day else _("Day off removed."), "success")
    return redirect(url_for(".settings"), 303)
