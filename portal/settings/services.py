"""Reading and changing settings. Each feature owns its settings' defaults and passes them in; a
stored value is merged over the default, so a setting added later has a value before anyone edits
it. Every change is audited with the old and the new value."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select

from portal.audit.services import record
from portal.db import db
from portal.settings.models import CalendarOverride, Setting


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
    return merged_setting(row.value if row else None, default)


def merged_setting(stored: dict | None, default: dict) -> dict:
    """A setting's value from what is stored for it (None: nothing), read by a statement of the
    caller's, merged over its default."""
    default = plain(default)
    return _merge(default, stored) if stored else default


def get_settings(defaults: dict[str, dict]) -> dict[str, dict]:
    """Several settings read with one statement, each merged over its default (``defaults`` by key)."""
    rows = {row.key: row.value for row in db.session.scalars(select(Setting).where(Setting.key.in_(sorted(defaults))))}
    return {key: _merge(plain(default), rows[key]) if key in rows else plain(default)
            for key, default in defaults.items()}


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


def calendar_overrides() -> list[CalendarOverride]:
    return list(db.session.scalars(select(CalendarOverride).order_by(CalendarOverride.day)))


def overridden_days() -> tuple[frozenset[date], frozenset[date]]:
    """The company's extra days off, and the holidays or weekend days it works."""
    rows = db.session.execute(select(CalendarOverride.day, CalendarOverride.is_working_day)).all()
    return (frozenset(day for day, working in rows if not working),
            frozenset(day for day, working in rows if working))


def override_on(day: date) -> CalendarOverride | None:
    return db.session.get(CalendarOverride, day)


def _audit_action(is_working_day: bool, change: str) -> str:
    return f"settings.{'day_worked' if is_working_day else 'day_off'}_{change}"


def add_calendar_override(day: date, is_working_day: bool, name: str, actor, now: datetime) -> CalendarOverride:
    """Mark ``day`` as a day off or as a day worked, whatever the public calendar says (audited)."""
    row = CalendarOverride(day=day, is_working_day=is_working_day, name=name.strip())
    db.session.add(row)
    record(actor, _audit_action(is_working_day, "added"), f"calendar:{day.isoformat()}", name=row.name)
    return row


def remove_calendar_override(day: date, is_working_day: bool, actor, now: datetime) -> bool:
    """Give ``day`` back to the public calendar; False if it has no override of that sort."""
    row = override_on(day)
    if row is None or row.is_working_day != is_working_day:
        return False
    record(actor, _audit_action(is_working_day, "removed"), f"calendar:{day.isoformat()}", name=row.name)
    db.session.delete(row)
    return True
