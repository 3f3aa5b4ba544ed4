"""The server-side record of customer sessions (sign-in links are :mod:`portal.email_links`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.account.models import Customer
from portal.db import UTCDateTime, db, utcnow


class CustomerSession(db.Model):
    """A signed-in browser. The cookie holds a random key; only its hash is here, and a session
    that is ended or timed out here is anonymous whatever cookie is replayed."""

    __tablename__ = "customer_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    email: Mapped[str] = mapped_column(String(320))  # the address the customer proved they read
    # The address is the contact of several records (a shared mailbox): the customer chooses one,
    # and only that choice sets customer_id (portal/auth/records.py).
    several_records: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the customer last proved again that they read the mailbox (a fresh code, see auth/fresh.py);
    # the sign-in itself counts as fresh from created_at.
    fresh_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_reason: Mapped[str | None] = mapped_column(String(20))  # signed_out | idle | expired | email_changed

    customer: Mapped[Customer | None] = relationship()
