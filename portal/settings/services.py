"""Reading and changing settings. Each feature owns its settings' defaults and passes them in; a
stored value is merged over the default, so a setting added later has a value before anyone edits
it. Every change is audited with the old and the new value."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select

from portal.audit.services import record
from portal.db import db
from portal.settings.models import DayOff, Setting


def plain(value):
    """Enum keys and values as their strings, as JSON stores them."""
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    return str(value) if hasattr(value, "value") else value


def _merge(default: dict, stored: dict) -> dict:
    merged = dict(default)
    for key, value in stored.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        elif key in merged:
            merged[key] = value
    return merged


def get_setting(key: str, default: dict) -> dict:
    row = db.session.get(Setting, key)
    default = plain(default)
    return _merge(default, row.value) if row else default


def save_setting(key: str, value: dict, actor, now: datetime, old: dict | None = None) -> None:
    """Store ``value`` for ``key``; ``actor`` is the member who changed it (None: the system)."""
    row = db.session.get(Setting, key)
    if row is None:
        row = Setting(key=key, value={})
        db.session.add(row)
    row.value = plain(value)
    row.updated_at = now
    row.updated_by_id = getattr(actor, "id", None)
    record(actor, "settings.changed", f"setting:{key}", old=plain(old) if old is not None else None, new=row.value)


def extra_days_off() -> frozenset[date]:
    return frozenset(db.session.scalars(select(DayOff.day)))


def days_off() -> list[DayOff]:
    return list(db.session.scalars(select(DayOff).order_by(DayOff.day)))


def is_day_off(day: date) -> bool:
    return db.session.get(DayOff, day) is not None


def add_day_off(day: date, name: str, actor, now: datetime) -> DayOff:
    row = DayOff(day=day, name=name.strip())
    db.session.add(row)
    record(actor, "settings.day_off_added", f"day_off:{day.isoformat()}", name=row.name)
    return row


def remove_day_off(day: date, actor, now: datetime) -> bool:
    """Remove a company day off; False if there is none that day."""
    row = db.session.get(DayOff, day)
    if row is None:
        return False
    record(actor, "settings.day_off_removed", f"day_off:{day.isoformat()}", name=row.name)
    db.session.delete(row)
    return True
