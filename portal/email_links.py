"""E-mailed links: the one way the portal proves that someone reads a mailbox.

A customer's sign-in link, a staff member's invitation or password reset, and the confirmations
that later features send (a new e-mail address, an erasure) are all rows of ``email_links``: a
random token of 256 bits of which only the SHA-256 is stored, a purpose, an expiry, and a use that
happens once — an atomic UPDATE, so of several simultaneous posts exactly one wins. Issuing a link
voids the older usable links of the same purpose for the same address, so only the newest works.

Features add what their link needs in the spare columns (the sign-in code and browser nonce, the
page to go to afterwards, ``data``); this module knows none of them.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import JSON, ForeignKey, Index, String, select, update
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import UTCDateTime, db, utcnow
from portal.hashing import sha256

MAX_TOKEN_LENGTH = 100


class EmailLink(db.Model):
    """One e-mailed link. Only hashes of its secrets are stored."""

    __tablename__ = "email_links"
    __table_args__ = (Index("ix_email_links_address", "purpose", "address_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[str] = mapped_column(String(20))  # sign_in, staff_invite, staff_reset, ...
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Keyed hash of the normalised address the link answers for, so a newer link voids the older.
    address_key: Mapped[str] = mapped_column(String(64))
    email: Mapped[str] = mapped_column(String(320))  # where it was sent
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_members.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_members.id"))
    next_path: Mapped[str | None] = mapped_column(String(500))
    code_hash: Mapped[str | None] = mapped_column(String(64))  # a short code typed instead of the link
    nonce_hash: Mapped[str | None] = mapped_column(String(64))  # the browser that asked for it
    wrong_code_count: Mapped[int] = mapped_column(default=0)
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def is_usable(self, now: datetime) -> bool:
        return self.used_at is None and self.voided_at is None and now < self.expires_at


def _unused():
    return (EmailLink.used_at.is_(None), EmailLink.voided_at.is_(None))


def void(*conditions, now: datetime) -> None:
    """Void every unused link that meets ``conditions``."""
    db.session.execute(update(EmailLink).where(*_unused(), *conditions).values(voided_at=now)
                       .execution_options(synchronize_session=False))


def issue(purpose: str, *, email: str, address_key: str, lifetime: timedelta, now: datetime,
          **columns) -> tuple[EmailLink, str]:
    """Void the older links of ``purpose`` for this address, add a new one and return it with its
    token (to put in the e-mail; it is stored nowhere)."""
    void(EmailLink.purpose == purpose, EmailLink.address_key == address_key, now=now)
    token = secrets.token_urlsafe(32)
    link = EmailLink(purpose=purpose, token_hash=sha256(token), address_key=address_key, email=email,
                     created_at=now, expires_at=now + lifetime, **columns)
    db.session.add(link)
    db.session.flush()
    return link, token


def find(token: str | None, *purposes: str) -> EmailLink | None:
    """The link of one of ``purposes`` whose token this is, used or not; None for anything else."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    statement = select(EmailLink).where(EmailLink.token_hash == sha256(token), EmailLink.purpose.in_(purposes))
    return db.session.scalars(statement).first()


def use(link: EmailLink, now: datetime) -> bool:
    """Mark the link used; True for exactly one caller even when several race for it."""
    result = db.session.execute(
        update(EmailLink).where(EmailLink.id == link.id, *_unused(), EmailLink.expires_at > now)
        .values(used_at=now).execution_options(synchronize_session=False))
    db.session.refresh(link)
    return result.rowcount == 1
