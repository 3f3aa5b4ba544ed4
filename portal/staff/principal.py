"""A signed-in staff member, as Flask-Login sees them. Role and active flag are read afresh on every
request, so a change by an administrator applies at the member's next page."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin

from portal.access import principal_loader, resume_session
from portal.db import db
from portal.enums import Role
from portal.staff.models import StaffMember, StaffSession
from portal.staff.services import (
    LiveStaffSession,
    active_staff_session,
    end_staff_session,
    remember_language,
)


class StaffPrincipal(UserMixin):
    is_customer = False
    is_staff = True

    def __init__(self, row: LiveStaffSession, key: str):
        self.session_row = row
        self.key = key

    def get_id(self) -> str:
        return f"s:{self.key}"

    @property
    def staff(self) -> StaffMember:
        return self.session_row.staff

    @property
    def preferred_locale(self) -> str | None:
        return self.staff.preferred_locale

    def remember_language(self, locale: str) -> None:
        remember_language(self.staff, locale)

    @property
    def audit_name(self) -> str:
        return self.staff.audit_name

    @property
    def role(self) -> Role:
        return self.staff.role

    def can(self, action: str) -> bool:
        return self.staff.can(action)

    def end_session(self, now: datetime, reason: str) -> None:
        end_staff_session(db.session.get(StaffSession, self.session_row.id), now, reason)


@principal_loader("s")
def load_staff(key: str) -> StaffPrincipal | None:
    return resume_session(key, active_staff_session, StaffPrincipal, StaffSession)
