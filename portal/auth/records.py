"""One e-mail address on several customer records (a company's shared accounting mailbox).

Signing in with such an address proves control of every record that holds it, but a page shows one
record only: the session starts with no record, and only the customer's choice here sets it. Until
then the customer's pages send to the chooser, which names each record by its name and one hint —
its latest order number, or else the city of its first address — and nothing more.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update

from portal.account.models import ContactPoint, Customer, Order
from portal.audit.services import record
from portal.auth.models import CustomerSession
from portal.contact_values import InvalidAddress, normalize_email
from portal.db import db
from portal.enums import Channel


def comparable(address: str) -> str:
    """The form an address is looked up in (a stored address is compared as stored, lower-cased)."""
    try:
        return normalize_email(address)
    except InvalidAddress:
        return (address or "").strip().lower()


def _holders(address: str):
    return (select(ContactPoint.customer_id)
            .where(ContactPoint.channel == Channel.EMAIL, ContactPoint.value_normalized == comparable(address)))


def records_holding(address: str) -> int:
    """How many customer records hold ``address`` as an e-mail contact."""
    return db.session.scalar(select(func.count(func.distinct(ContactPoint.customer_id)))
                             .where(ContactPoint.customer_id.in_(_holders(address)))) or 0


@dataclass(frozen=True)
class RecordChoice:
    id: int
    full_name: str
    order_reference: str | None
    city: str | None


def city_of(address: str | None) -> str | None:
    """The last part of a written address ("12 Lê Lợi, Quận 1, TP. Hồ Chí Minh" → "TP. Hồ Chí Minh")."""
    if not address:
        return None
    return address.rsplit(",", 1)[-1].strip() or None


def record_choices(address: str) -> list[RecordChoice]:
    """The records ``address`` may choose among, by name, with their hint. One statement."""
    first_address = (select(ContactPoint.value).where(ContactPoint.customer_id == Customer.id,
                                                      ContactPoint.channel == Channel.ADDRESS)
                     .order_by(ContactPoint.id).limit(1).correlate(Customer).scalar_subquery())
    latest_order = (select(Order.reference).where(Order.customer_id == Customer.id)
                    .order_by(Order.ordered_on.desc(), Order.id.desc()).limit(1).correlate(Customer).scalar_subquery())
    rows = db.session.execute(select(Customer.id, Customer.full_name, latest_order, first_address)
                              .where(Customer.id.in_(_holders(address)))
                              .order_by(Customer.full_name, Customer.id))
    return [RecordChoice(row[0], row[1], row[2], None if row[2] else city_of(row[3])) for row in rows]


def choose_record(session_id: int, address: str, customer_id: int, now: datetime) -> bool:
    """Make ``customer_id`` the record of the session, if that record holds the session's address;
    False (nothing changed) otherwise."""
    chosen = db.session.execute(update(CustomerSession)
                                .where(CustomerSession.id == session_id, CustomerSession.ended_at.is_(None),
                                       CustomerSession.email == address, _holds(customer_id, address))
                                .values(customer_id=customer_id)
                                .execution_options(synchronize_session=False))
    if chosen.rowcount != 1:
        return False
    record(f"customer:{customer_id}", "session.record_chosen", f"customer:{customer_id}", session=session_id)
    return True


def _holds(customer_id: int, address: str):
    return select(ContactPoint.id).where(ContactPoint.customer_id == customer_id,
                                         ContactPoint.channel == Channel.EMAIL,
                                         ContactPoint.value_normalized == comparable(address)).exists()
