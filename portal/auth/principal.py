"""A signed-in customer, as Flask-Login sees them: their live session, read as plain values."""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace

from flask_login import UserMixin

from portal.access import principal_loader, resume_session
from portal.auth.models import CustomerSession
from portal.auth.services import end_session, live_session, remember_language
from portal.db import db


class CustomerPrincipal(UserMixin):
    is_customer = True
    is_staff = False

    def __init__(self, row, key: str):
        self._row = row
        self.key = key

    def get_id(self) -> str:
        return f"c:{self.key}"

    @property
    def customer_id(self) -> int | None:
        return self._row.customer_id

    @property
    def customer(self) -> SimpleNamespace | None:
        """The customer's record as My data shows it, or None for an address we hold no record for."""
        row = self._row
        if row.customer_id is None:
            return None
        return SimpleNamespace(id=row.customer_id, full_name=row.full_name, notes=row.notes, source=row.source,
                               preferred_locale=row.preferred_locale, created_at=row.customer_since,
                               restricted_at=row.restricted_at, erased_at=row.erased_at)

    @property
    def customer_since(self):
        """When the customer's record was made (None: no record), which with its id names it alone."""
        return self._row.customer_since

    @property
    def record_version(self) -> tuple:
        """What My data's content depends on besides the page: the record's version and the latest
        staff view of it (None for an address we hold no record for)."""
        row = self._row  # the record's creation time too: an id alone may come back after a restore
        return (row.customer_id, row.customer_since, row.email, row.data_version, row.latest_view, row.several_records)

    @property
    def several_records(self) -> bool:
        """The address signed in with is held by several records: one is chosen at a time."""
        return bool(self._row.several_records)

    @property
    def must_choose_record(self) -> bool:
        """No record is chosen yet for an address held by several: the customer's pages wait."""
        return self.several_records and self._row.customer_id is None

    @property
    def session_id(self) -> int:
        return self._row.id

    @property
    def fresh_since(self) -> datetime:
        """When the customer last proved they read the mailbox: the sign-in, or a fresh code since."""
        row = self._row
        return max(row.created_at, row.fresh_at) if row.fresh_at else row.created_at

    @property
    def preferred_locale(self) -> str | None:
        return self._row.preferred_locale

    @property
    def audit_name(self) -> str:
        return f"customer:{self._row.customer_id}"

    @property
    def email(self) -> str:
        return self._row.email

    def remember_language(self, locale: str) -> None:
        if self._row.customer_id is not None:
            remember_language(self._row.customer_id, locale)

    def end_session(self, now: datetime, reason: str) -> None:
        end_session(db.session.get(CustomerSession, self._row.id), now, reason)


@principal_loader("c")
def load_customer(key: str) -> CustomerPrincipal | None:
    return resume_session(key, live_session, CustomerPrincipal, CustomerSession)
