"""Tickets, their threads, the log of staff views of customer data, and the queue settings."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.account.models import Customer
from portal.db import UTCDateTime, db, utcnow
from portal.enums import Department, EntryKind, Priority, TicketKind, TicketStatus
from portal.staff.models import StaffMember

OPEN_STATUSES = (TicketStatus.NEW.value, TicketStatus.OPEN.value, TicketStatus.WAITING.value)
DONE_STATUSES = (TicketStatus.RESOLVED.value, TicketStatus.REJECTED.value, TicketStatus.CLOSED.value)


class Ticket(db.Model):
    """One customer request, from filing to closing. ``version`` guards against lost updates."""

    __tablename__ = "tickets"
    __table_args__ = (
        TicketKind.check("kind", "kind_known"),
        TicketStatus.check("status", "status_known"),
        Department.check("department", "department_known"),
        Priority.check("priority", "priority_known"),
        Index("ix_tickets_queue", "department", "status", "due_at", "id"),
        Index("ix_tickets_assignee", "assignee_id", "status", "due_at", "id"),
        Index("ix_tickets_status_due", "status", "due_at", "id"),
        Index("ix_tickets_due", "due_at", "id"),
        Index("ix_tickets_requester_kind", "requester_email", "kind", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(10), default=TicketStatus.NEW.value)
    department: Mapped[str] = mapped_column(String(10))
    priority: Mapped[str] = mapped_column(String(10), default=Priority.NORMAL.value)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("staff_members.id"))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    requester_email: Mapped[str] = mapped_column(String(320))  # the verified address that filed it
    requester_locale: Mapped[str] = mapped_column(String(5))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    acknowledge_due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    extended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    extension_reason: Mapped[str | None] = mapped_column(Text)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome_reason: Mapped[str | None] = mapped_column(Text)  # shown to the customer on rejection
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(default=1)
    # A random key the new-request form carries, so a double submit makes one ticket.
    submission_key: Mapped[str | None] = mapped_column(String(64), unique=True)

    customer: Mapped[Customer | None] = relationship()
    assignee: Mapped[StaffMember | None] = relationship()
    entries: Mapped[list[TicketEntry]] = relationship(back_populates="ticket", order_by="TicketEntry.id")

    __mapper_args__ = {"version_id_col": version}

    @property
    def reference(self) -> str:
        return format_reference(self.created_at.year, self.id)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def kind_enum(self) -> TicketKind:
        return TicketKind(self.kind)

    @property
    def status_enum(self) -> TicketStatus:
        return TicketStatus(self.status)

    @property
    def department_enum(self) -> Department:
        return Department(self.department)

    @property
    def priority_enum(self) -> Priority:
        return Priority(self.priority)


def format_reference(year: int, ticket_id: int) -> str:
    return f"KN-{year}-{ticket_id:06d}"


class TicketEntry(db.Model):
    """One item of a ticket's thread: a message, a reply, an internal note or an event.

    Entries are only ever added; nothing in a thread is edited or deleted.
    """

    __tablename__ = "ticket_entries"
    __table_args__ = (
        EntryKind.check("kind", "kind_known"),
        CheckConstraint(
            "(kind = 'customer_message' AND author_staff_id IS NULL) OR "
            "(kind IN ('staff_reply', 'internal_note') AND author_staff_id IS NOT NULL) OR "
            "(kind = 'event')",
            name="one_author_kind",
        ),
        Index("ix_ticket_entries_ticket", "ticket_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(20))
    author_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_members.id"))
    body: Mapped[str] = mapped_column(Text, default="")
    event: Mapped[str | None] = mapped_column(String(30))  # created, routed, assigned, status, due ...
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    submission_key: Mapped[str | None] = mapped_column(String(64), unique=True)

    ticket: Mapped[Ticket] = relationship(back_populates="entries")
    author: Mapped[StaffMember | None] = relationship()

    @property
    def kind_enum(self) -> EntryKind:
        return EntryKind(self.kind)

    @property
    def is_public(self) -> bool:
        return self.kind != EntryKind.INTERNAL_NOTE.value


class CustomerDataView(db.Model):
    """A staff member opened a customer's data (a ticket page shows it). Customers see these."""

    __tablename__ = "customer_data_views"
    __table_args__ = (Index("ix_customer_data_views_customer", "customer_id", "viewed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_members.id"))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    viewed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    staff: Mapped[StaffMember] = relationship()
    ticket: Mapped[Ticket | None] = relationship()


class Setting(db.Model):
    """An admin-editable setting (routing rules, clocks, assignment modes) stored as JSON."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[dict] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_members.id"))


class DayOff(db.Model):
    """An extra non-working day the company adds to the public holidays (e.g. a bridge day)."""

    __tablename__ = "days_off"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
