"""A signed-in customer, as Flask-Login sees them: the server-side session row and its cookie key."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin

from portal.access import principal_loader, resume_session
from portal.auth.models import CustomerSession
from portal.auth.services import active_session, end_session


class CustomerPrincipal(UserMixin):
    is_customer = True
    is_staff = False

    def __init__(self, row: CustomerSession, key: str):
        self.session_row = row
        self.key = key

    def get_id(self) -> str:
        return f"c:{self.key}"

    @property
    def customer(self):
        return self.session_row.customer

    @property
    def customer_id(self) -> int | None:
        return self.session_row.customer_id

    @property
    def locale_owner(self):
        """Where this person's language choice is kept (None: a visitor with no customer record)."""
        return self.session_row.customer

    @property
    def audit_name(self) -> str:
        return f"customer:{self.session_row.customer_id}"

    @property
    def email(self) -> str:
        return self.session_row.email

    def end_session(self, now: datetime, reason: str) -> None:
        end_session(self.session_row, now, reason)


@principal_loader("c")
def load_customer(key: str) -> CustomerPrincipal | None:
    return resume_session(key, active_session, CustomerPrincipal)
