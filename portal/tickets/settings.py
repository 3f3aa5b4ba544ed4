"""Queue settings an administrator edits: routing, clocks, assignment. Defaults follow DESIGN §4.

Stored as JSON rows in ``settings``; a stored value is merged over the default, so a setting added
later has a value before anyone edits it. Changes apply to tickets created afterwards.
"""

from __future__ import annotations

import copy

from sqlalchemy import select

from portal.db import db
from portal.enums import Department, Priority, TicketKind
from portal.tickets.models import DayOff, Setting

K = TicketKind
DEFAULTS: dict[str, dict] = {
    "routing": {
        K.CORRECTION: {"department": Department.CARE, "priority": Priority.NORMAL},
        K.ACCESS: {"department": Department.CARE, "priority": Priority.NORMAL},
        K.ERASURE: {"department": Department.CARE, "priority": Priority.NORMAL},
        K.RESTRICTION: {"department": Department.CARE, "priority": Priority.NORMAL},
        K.QUESTION: {"department": Department.CARE, "priority": Priority.NORMAL},
        K.OTHER: {"department": Department.CARE, "priority": Priority.NORMAL},
        K.CONSENT_WITHDRAWAL: {"department": Department.SALES, "priority": Priority.NORMAL},
        K.LEAK_COMPLAINT: {"department": Department.BOARD, "priority": Priority.HIGH},
        K.MISUSE_REPORT: {"department": Department.BOARD, "priority": Priority.HIGH},
    },
    "clocks": {
        "acknowledge_working_days": 2,
        "fulfil_in_working_days": False,
        # Decree 356 Art. 5: view/correct/provide 10 days (+10), withdraw/restrict/object 15 (+15),
        # delete 20 (+20), protection measures 15 (+15). Questions follow "provide information".
        "fulfil_days": {K.CORRECTION: 10, K.ACCESS: 10, K.QUESTION: 10, K.OTHER: 10,
                        K.CONSENT_WITHDRAWAL: 15, K.RESTRICTION: 15, K.ERASURE: 20,
                        K.LEAK_COMPLAINT: 15, K.MISUSE_REPORT: 15},
        "extension_days": {K.CORRECTION: 10, K.ACCESS: 10, K.QUESTION: 10, K.OTHER: 10,
                           K.CONSENT_WITHDRAWAL: 15, K.RESTRICTION: 15, K.ERASURE: 20,
                           K.LEAK_COMPLAINT: 15, K.MISUSE_REPORT: 15},
    },
    "assignment": {Department.BOARD: "pickup", Department.SALES: "auto", Department.CARE: "auto"},
}
# The law's ceilings: an administrator may shorten a clock, never lengthen it past these.
LEGAL_MAXIMUM = copy.deepcopy(DEFAULTS["clocks"])


def _plain(value):
    """Enum keys and values as their strings, as JSON stores them."""
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    return str(value) if hasattr(value, "value") else value


def _merge(default: dict, stored: dict) -> dict:
    merged = dict(default)
    for key, value in stored.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        elif key in merged:
            merged[key] = value
    return merged


def get_setting(key: str) -> dict:
    row = db.session.get(Setting, key)
    default = _plain(DEFAULTS[key])
    return _merge(default, row.value) if row else default


def save_setting(key: str, value: dict, staff_id: int | None, now) -> None:
    row = db.session.get(Setting, key)
    if row is None:
        row = Setting(key=key, value={})
        db.session.add(row)
    row.value = _plain(value)
    row.updated_at = now
    row.updated_by_id = staff_id


def extra_days_off() -> frozenset:
    return frozenset(db.session.scalars(select(DayOff.day)))
