"""The queue settings an administrator edits — routing, clocks, assignment — and their defaults,
which come from each request kind's own declaration. Changes apply to tickets filed afterwards."""

from __future__ import annotations

from datetime import datetime

from portal.enums import Department
from portal.settings.services import get_setting, merged_setting, overridden_days, plain, save_setting
from portal.tickets.due import Calendar
from portal.tickets.kinds import all_kinds

SETTING_KEYS = ("routing", "assignment", "clocks")
ACKNOWLEDGE_WORKING_DAYS = 2  # Decree 356/2025 Art. 5: acknowledge within 2 working days
# The company's own promise of a first answer, in hours, for the kinds that declare one (complaints and
# misuse reports: 24), edited on the settings page (1 to FIRST_RESPONSE_MAX_HOURS); like every clock,
# it applies to requests filed afterwards, and it can only shorten the law's acknowledgement.
FIRST_RESPONSE = "first_response"
FIRST_RESPONSE_MAX_HOURS = 48


def defaults(key: str) -> dict:
    """The value a queue setting has until an administrator changes it, as JSON stores it."""
    if key == "routing":
        value = {kind: {"department": kind.department, "priority": kind.priority} for kind in all_kinds()}
    elif key == "clocks":
        value = {
            "acknowledge_working_days": ACKNOWLEDGE_WORKING_DAYS,
            "fulfil_in_working_days": False,
            "fulfil_days": {kind: kind.legal_days for kind in all_kinds()},
            "extension_days": {kind: kind.extension_days for kind in all_kinds()},
        }
    elif key == FIRST_RESPONSE:
        value = {"hours": {kind: kind.first_response_hours for kind in all_kinds()
                           if getattr(kind, "first_response_hours", None)}}
    elif key == "assignment":
        value = {Department.BOARD: "pickup", Department.SALES: "auto", Department.CARE: "auto"}
    else:
        raise KeyError(key)
    return plain(value)


def legal_maximum() -> dict:
    """The law's ceilings: an administrator may shorten a clock, never lengthen it past these."""
    return defaults("clocks")


def queue_setting(key: str) -> dict:
    return get_setting(key, defaults(key))


def queue_setting_from(key: str, stored: dict | None) -> dict:
    """A queue setting from its stored value (None: nothing stored), read by a statement of the caller's."""
    return merged_setting(stored, defaults(key))


def save_queue_setting(key: str, value: dict, actor, now: datetime) -> bool:
    """Store a queue setting if it changed (audited); True when it did."""
    old = queue_setting(key)
    if plain(value) == old:
        return False
    save_setting(key, value, actor, now, old=old)
    return True


def first_response_kinds() -> list[str]:
    """The kinds the company promises a first answer to within some hours."""
    return list(defaults(FIRST_RESPONSE)["hours"])


def first_response_hours(kind) -> int | None:
    """The hours within which the company promises a first answer to a request of ``kind``, or None."""
    hours = queue_setting(FIRST_RESPONSE)["hours"].get(str(kind))
    return int(hours) if hours else None


def company_calendar() -> Calendar:
    """The public calendar with the administrator's overrides, as the clocks count it now."""
    days_off, days_worked = overridden_days()
    return Calendar(days_off=days_off, days_worked=days_worked)
