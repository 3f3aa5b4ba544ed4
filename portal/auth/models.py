"""Sign-in links and the server-side record of customer sessions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.account.models import Customer
from portal.db import UTCDateTime, db, utcnow


class SignInLink(db.Model):
    """One e-mailed link and code. Only hashes of the token, code and browser nonce are stored."""

    __tablename__ = "sign_in_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    nonce_hash: Mapped[str] = mapped_column(String(64))
    # Keyed hash of the normalised address typed, so a newer link can void the older ones.
    address_key: Mapped[str] = mapped_column(String(64), index=True)
    email: Mapped[str] = mapped_column(String(320))  # where it was sent: the stored address if known
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    next_path: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    wrong_code_count: Mapped[int] = mapped_column(default=0)

    customer: Mapped[Customer | None] = relationship()

    def is_usable(self, now: datetime) -> bool:
        return self.used_at is None and self.voided_at is None and now < self.expires_at


class CustomerSession(db.Model):
    """A signed-in browser. The cookie holds a random key; only its hash is here, and a session
    that is ended or timed out here is anonymous whatever cookie is replayed."""

    __tablename__ = "customer_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    email: Mapped[str] = mapped_column(String(320))  # the address the customer proved they read
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_reason: Mapped[str | None] = mapped_column(String(20))  # signed_out | idle | expired

    customer: Mapped[Customer | None] = relationship()
