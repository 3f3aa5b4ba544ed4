"""What the company holds about a customer: the record, contact points, orders, consents, history."""

from __future__ import annotations

from datetime import date, datetime
from itertools import chain
from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, Text, event, update
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from portal.db import EnumText, UTCDateTime, db, utcnow
from portal.enums import ActorKind, Channel, ContactKind, DataSource, Purpose

if TYPE_CHECKING:
    from portal.consent.models import ConsentEntry

# Which kinds each channel admits: addresses are home/office, phones mobile/home/office,
# e-mail addresses personal/company.
KINDS_BY_CHANNEL = {
    Channel.ADDRESS: (ContactKind.HOME, ContactKind.OFFICE),
    Channel.PHONE: (ContactKind.MOBILE, ContactKind.HOME, ContactKind.OFFICE),
    Channel.EMAIL: (ContactKind.PERSONAL, ContactKind.COMPANY),
}


def _channel_kind_rule() -> str:
    clauses = []
    for channel, kinds in KINDS_BY_CHANNEL.items():
        allowed = ", ".join(f"'{kind.value}'" for kind in kinds)
        clauses.append(f"(channel = '{channel.value}' AND kind IN ({allowed}))")
    return " OR ".join(clauses)


class Customer(db.Model):
    __tablename__ = "customers"
    __table_args__ = (DataSource.check("source", "source_known"),)

    shown_on_board = True  # a change moves the board's counter on (portal/board_version.py)

    id: Mapped[int] = mapped_column(primary_key=True)
    full_name: Mapped[str] = mapped_column(String(200))
    notes: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[DataSource] = mapped_column(EnumText(DataSource, 20))
    preferred_locale: Mapped[str | None] = mapped_column(String(5))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Moves on with every change to the record (see bump_data_versions): pages drawn from the record
    # are kept only as long as it has not moved.
    data_version: Mapped[int] = mapped_column(default=1, server_default="1")
    # A new full name the customer asked for, waiting for staff to approve or reject it.
    proposed_full_name: Mapped[str | None] = mapped_column(String(200))
    # Processing restricted (the customer asked, or what an erasure keeps): the record is kept and
    # nothing else is done with it — no edits, no marketing (see portal/rights/services.py).
    restricted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The customer's data was erased at their request; what the law still requires is kept, restricted.
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The record's key in the company's sales system (``flask customers import``); None: not imported.
    external_id: Mapped[str | None] = mapped_column(String(100), unique=True)

    contact_points: Mapped[list[ContactPoint]] = relationship(
        back_populates="customer", order_by="ContactPoint.id")
    orders: Mapped[list[Order]] = relationship(back_populates="customer", order_by="Order.ordered_on")
    # The consent ledger (portal/consent), oldest entry first.
    consents: Mapped[list[ConsentEntry]] = relationship(
        order_by="[ConsentEntry.recorded_at, ConsentEntry.id]", viewonly=True)
    changes: Mapped[list[DataChange]] = relationship(
        back_populates="customer", order_by="DataChange.changed_at.desc()")

    @property
    def audit_name(self) -> str:
        return f"customer:{self.id}"


class ContactPoint(db.Model):
    """One address, phone number or e-mail address, with its kind and where it came from."""

    __tablename__ = "contact_points"
    __table_args__ = (
        Channel.check("channel", "channel_known"),
        CheckConstraint(_channel_kind_rule(), name="kind_fits_channel"),
        DataSource.check("source", "source_known"),
        Index("ix_contact_points_lookup", "channel", "value_normalized"),
    )

    belongs_to_record = True  # a change here moves the customer's record on (see below)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    channel: Mapped[Channel] = mapped_column(EnumText(Channel, 10))
    kind: Mapped[ContactKind] = mapped_column(EnumText(ContactKind, 10))
    value: Mapped[str] = mapped_column(String(400))
    # The form used for look-ups: a lower-cased e-mail address, a phone number in E.164.
    value_normalized: Mapped[str] = mapped_column(String(400))
    source: Mapped[DataSource] = mapped_column(EnumText(DataSource, 20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Moves on with every change: a form drawn from an older version is refused (two tabs).
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    customer: Mapped[Customer] = relationship(back_populates="contact_points")

    __mapper_args__ = {"version_id_col": version}


class Order(db.Model):
    __tablename__ = "orders"

    belongs_to_record = True  # a change here moves the customer's record on (see below)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    description: Mapped[str] = mapped_column(String(400))
    ordered_on: Mapped[date] = mapped_column(Date)
    warranty_ends_on: Mapped[date | None] = mapped_column(Date)

    customer: Mapped[Customer] = relationship(back_populates="orders")


# What DataChange.field names, for people: "<field>" or "<field>:<kind>" (e.g. "phone:mobile").
FIELD_TITLES = {
    "record": _l("Record created"),
    "full_name": _l("Full name"),
    "notes": _l("Notes"),
    "address": _l("Address"),
    "phone": _l("Phone"),
    "email": _l("E-mail"),
    "consent": _l("Consent"),
    "restriction_lifted": _l("Restriction of processing lifted"),
}


class DataChange(db.Model):
    """One change to a customer's data: who, when, which field, old value and new value."""

    __tablename__ = "data_changes"
    __table_args__ = (ActorKind.check("actor_kind", "actor_kind_known"), DataSource.check("via", "via_known"))

    belongs_to_record = True  # a change here moves the customer's record on (see below)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_kind: Mapped[ActorKind] = mapped_column(EnumText(ActorKind, 10))
    actor_name: Mapped[str] = mapped_column(String(200), default="")
    field: Mapped[str] = mapped_column(String(100))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    # Where the change came from: this portal, the board, a phone call, the import (None: before 0010).
    # A change that names none takes its unit of work's (see changes_come_from).
    via: Mapped[DataSource | None] = mapped_column(EnumText(DataSource, 20))

    customer: Mapped[Customer] = relationship(back_populates="changes")

    @property
    def field_title(self) -> str:
        return field_title(self.field)


def note_change(customer_id: int, field: str, old: str | None, new: str | None, *, now: datetime,
                actor_kind: ActorKind, actor_name: str = "", via: DataSource | None = None) -> DataChange:
    """Add one line to a customer's history of changes (the caller's transaction commits it). A line
    that names no ``via`` takes its unit of work's (see :func:`changes_come_from`)."""
    change = DataChange(customer_id=customer_id, changed_at=now, actor_kind=actor_kind, actor_name=actor_name,
                        field=field, old_value=old, new_value=new, via=via)
    db.session.add(change)
    return change


def field_title(field: str) -> str:
    """What a change's ``field`` ("phone:mobile", "consent:surveys") names, for people."""
    name, _, detail = field.partition(":")
    title = str(FIELD_TITLES.get(name, name))
    if name == "consent" and detail in Purpose.__members__.values():
        return f"{title}: {Purpose(detail).title}"
    if detail in ContactKind.__members__.values():
        return f"{title} ({ContactKind(detail).title})"
    return title


# --- the record's version ---------------------------------------------------------------------------



CHANGE_SOURCE = "data_change_source"


def changes_come_from(session: Session, source: DataSource) -> None:
    """Say where the changes of ``session``'s unit of work come from: every history line flushed
    from now on that names no ``via`` of its own is marked with ``source`` (lines written by other
    services, such as the consent ledger's, included)."""
    session.info[CHANGE_SOURCE] = DataSource(source)


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_soft_rollback")
def _forget_change_source(session, *args) -> None:
    session.info.pop(CHANGE_SOURCE, None)


@event.listens_for(Session, "before_flush")
def _note_changed_records(session, flush_context, instances) -> None:
    """Note which customers' records this flush changes (through the ORM)."""
    changed = session.info.setdefault("changed_customers", set())
    source = session.info.get(CHANGE_SOURCE)
    for thing in chain(session.new, session.dirty, session.deleted):
        if source is not None and isinstance(thing, DataChange) and thing.via is None:
            thing.via = source
        if isinstance(thing, Customer) and thing.id is not None:
            changed.add(thing.id)
        elif getattr(thing, "belongs_to_record", False) and thing.customer_id is not None:
            changed.add(thing.customer_id)


@event.listens_for(Session, "after_flush")
def _move_changed_versions_on(session, flush_context) -> None:
    changed = session.info.pop("changed_customers", None)
    if changed:
        bump_data_versions(session.connection(), changed)


def bump_data_versions(connection, customer_ids) -> None:
    """Move on the version of these customers' records. Changes the ORM flushes do it themselves;
    code that changes a record with a bulk statement calls this in the same transaction."""
    connection.execute(update(Customer).where(Customer.id.in_(sorted(customer_ids)))
                       .values(data_version=Customer.data_version + 1)
                       .execution_options(synchronize_session=False))
