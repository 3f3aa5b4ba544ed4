"""A breach incident, the complaints it was raised from and the customers it affects."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import EnumText, UTCDateTime, db, utcnow
from portal.enums import TitledEnum

# Law 91/2025 Art. 23(1): the authority is told within 72 hours of the discovery.
AUTHORITY_NOTICE_HOURS = 72

# The categories of personal data an incident can involve (the keys a leak complaint uses, and more).
DATA_CATEGORIES = {
    "name": _l("Full name"),
    "phone": _l("Phone number"),
    "address": _l("Address"),
    "email": _l("E-mail address"),
    "order": _l("Order and installation details"),
    "camera": _l("Camera images and recordings"),
    "credentials": _l("Account or device passwords"),
    "other": _l("Other data"),
}


class IncidentStatus(TitledEnum):
    OPEN = "open", _l("Open")
    CLOSED = "closed", _l("Closed")


class AffectedSource(TitledEnum):
    """How a customer came onto an incident's list of affected customers."""

    COMPLAINT = "complaint", _l("Filed a complaint raised into it")
    PICKED = "picked", _l("Picked by a board member")
    IMPORTED = "imported", _l("Imported from a CSV file")


class BreachIncident(db.Model):
    """A violation of the personal-data rules the company found: what the notice to the authority
    (Decree 356/2025 Art. 28) and the written record (Law 91/2025 Art. 23(2)) say, and where the
    notices stand."""

    __tablename__ = "breach_incidents"
    __table_args__ = (IncidentStatus.check("status", "status_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[IncidentStatus] = mapped_column(EnumText(IncidentStatus, 10), default=IncidentStatus.OPEN)
    discovered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The nature of the violation: when it happened, where, what was done, by whom.
    occurred_from: Mapped[datetime | None] = mapped_column(UTCDateTime)
    occurred_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    place: Mapped[str] = mapped_column(Text, default="")
    acts: Mapped[str] = mapped_column(Text, default="")
    parties: Mapped[str] = mapped_column(Text, default="")
    categories: Mapped[list] = mapped_column(JSON, default=list)  # keys of DATA_CATEGORIES
    # How much data is involved, in words beyond the count of affected customers ("about 300 orders").
    volume: Mapped[str] = mapped_column(Text, default="")
    consequences: Mapped[str] = mapped_column(Text, default="")
    measures: Mapped[str] = mapped_column(Text, default="")
    # The notice to the authority (the personal-data protection agency of the Ministry of Public Security).
    authority_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    authority_notified_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_members.id"))
    authority_reference: Mapped[str | None] = mapped_column(String(100))
    # The notice to the affected customers: asked for when, by whom (the worker queues it in batches).
    customers_notice_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    customers_notice_started_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_members.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("staff_members.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    complaints: Mapped[list[IncidentComplaint]] = relationship(
        cascade="all, delete-orphan", order_by="IncidentComplaint.ticket_id")

    __mapper_args__ = {"version_id_col": version}

    @property
    def reference(self) -> str:
        return format_incident_reference(self.created_at.year, self.id)

    @property
    def audit_name(self) -> str:
        return f"incident:{self.id}"

    @property
    def authority_due_at(self) -> datetime:
        return self.discovered_at + timedelta(hours=AUTHORITY_NOTICE_HOURS)

    def authority_notice_late(self, now: datetime) -> bool:
        """The 72 hours have passed without the notice (or it went after them)."""
        sent = self.authority_notified_at
        return (sent or now) > self.authority_due_at

    @property
    def category_titles(self) -> list:
        return [DATA_CATEGORIES[key] for key in self.categories or [] if key in DATA_CATEGORIES]


def format_incident_reference(year: int, incident_id: int) -> str:
    return f"SC-{year}-{incident_id:04d}"


class IncidentComplaint(db.Model):
    """A complaint (a leak complaint or misuse report ticket) raised into an incident."""

    __tablename__ = "incident_complaints"

    incident_id: Mapped[int] = mapped_column(ForeignKey("breach_incidents.id"), primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), primary_key=True, index=True)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    added_by_id: Mapped[int] = mapped_column(ForeignKey("staff_members.id"))

    ticket = relationship("Ticket", lazy="raise")


class AffectedCustomer(db.Model):
    """A customer whose data the incident involves. One row per customer per incident (the unique
    key is what keeps anyone from being told twice); ``notice_queued_at`` and ``outbox_id`` say
    their notice has joined the outbox."""

    __tablename__ = "incident_affected_customers"
    __table_args__ = (
        UniqueConstraint("incident_id", "customer_id", name="uq_incident_affected_customers_one_row"),
        AffectedSource.check("source", "source_known"),
        Index("ix_incident_affected_customers_waiting", "incident_id", "notice_queued_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("breach_incidents.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    source: Mapped[AffectedSource] = mapped_column(EnumText(AffectedSource, 10))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_members.id"))
    notice_queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox_messages.id"))

    customer = relationship("Customer", lazy="raise")
