"""Stored settings and the company's calendar overrides."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import UTCDateTime, db, utcnow


class Setting(db.Model):
    """An admin-editable setting (routing rules, clocks, assignment modes) stored as JSON."""

    __tablename__ = "settings"

    shown_on_board = True  # a change moves the board's counter on (portal/board_version.py)

    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[dict] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_members.id"))


class CalendarOverride(db.Model):
    """A day the company's calendar differs from the public one: an extra day off (a bridge day), or
    a day worked (a public holiday the company works, a weekend make-up day of its Tết plan)."""

    __tablename__ = "calendar_overrides"

    shown_on_board = True  # a change moves the board's counter on (portal/board_version.py)

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    is_working_day: Mapped[bool]
    name: Mapped[str] = mapped_column(String(200))
