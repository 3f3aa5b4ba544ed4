"""The append-only audit log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import UTCDateTime, db, utcnow


class AuditRecord(db.Model):
    """Who did what to which thing, when, from where. Rows are only ever inserted."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(100))  # "customer:12", "staff:3", "anonymous", "system"
    action: Mapped[str] = mapped_column(String(60), index=True)
    target: Mapped[str] = mapped_column(String(100), default="")  # "customer:12", "outbox:5"
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    client_address: Mapped[str | None] = mapped_column(String(64))
