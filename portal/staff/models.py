"""Staff members of the website admin board, their sign-in secrets and sessions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal import permissions
from portal.db import EnumText, UTCDateTime, db, utcnow
from portal.enums import Role


class StaffMember(db.Model):
    """A member of the board, sales, customer care, or an administrator. Deactivated, never deleted."""

    __tablename__ = "staff_members"
    __table_args__ = (Role.check("role", "role_known"),)

    shown_on_board = True  # a change moves the board's counter on (portal/board_version.py)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)  # lower-cased
    full_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(EnumText(Role, 10))
    is_active: Mapped[bool] = mapped_column(default=True)
    password_hash: Mapped[str | None] = mapped_column(String(200))  # argon2; None until the member sets one
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enrolled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The last TOTP time step accepted: a code from that step or earlier is refused (no replay).
    totp_last_step: Mapped[int | None]
    failed_sign_in_count: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deactivated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    preferred_locale: Mapped[str | None] = mapped_column(String(5))  # pages and e-mails; None: Vietnamese

    @property
    def audit_name(self) -> str:
        return f"staff:{self.id}"

    def can(self, action: str) -> bool:
        """Whether this member's role may do ``action`` (the table in :mod:`portal.permissions`)."""
        return permissions.can(self.role, action)


class StaffRecoveryCode(db.Model):
    """A one-time code that replaces a TOTP code when the phone is lost. Stored as a keyed hash."""

    __tablename__ = "staff_recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_members.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class StaffSession(db.Model):
    """A signed-in staff browser; ended on sign-out, timeout or deactivation."""

    __tablename__ = "staff_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_members.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_reason: Mapped[str | None] = mapped_column(String(20))

    staff: Mapped[StaffMember] = relationship()
