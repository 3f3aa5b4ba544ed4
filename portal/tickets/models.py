"""Tickets and their threads."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal import permissions
from portal.account.models import Customer
from portal.db import EnumText, UTCDateTime, db, utcnow
from portal.enums import Department, EntryKind, Priority, TicketStatus
from portal.staff.models import StaffMember
from portal.tickets.kinds import KindColumn, RequestKind

OPEN_STATUSES = (TicketStatus.NEW, TicketStatus.OPEN, TicketStatus.WAITING)
DONE_STATUSES = (TicketStatus.RESOLVED, TicketStatus.REJECTED, TicketStatus.CLOSED)
UNACKNOWLEDGED = "first_response_at IS NULL AND acknowledge_escalated_at IS NULL"  # nobody has answered yet


class Ticket(db.Model):
    """One customer request, from filing to closing. ``version`` guards against lost updates."""

    __tablename__ = "tickets"
    __table_args__ = (
        TicketStatus.check("status", "status_known"),
        Department.check("department", "department_known"),
        Priority.check("priority", "priority_known"),
        # The queues list the most urgent first, then by due date: each serves branches of a page.
        Index("ix_tickets_queue", "department", "status", "priority", "due_at", "id"),
        Index("ix_tickets_assignee", "assignee_id", "status", "priority", "due_at", "id"),
        Index("ix_tickets_status_due", "status", "priority", "due_at", "id"),
        Index("ix_tickets_due", "due_at", "id"),
        Index("ix_tickets_requester_kind", "requester_email", "kind", "status"),
        # The worker's look for missed acknowledgements: only tickets still waiting for one.
        Index("ix_tickets_unacknowledged", "acknowledge_due_at",
              postgresql_where=text(UNACKNOWLEDGED), sqlite_where=text(UNACKNOWLEDGED)),
        CheckConstraint("due_at >= received_at", name="due_after_receipt"),
        CheckConstraint("(extended_at IS NULL) = (extension_reason IS NULL)", name="extension_has_reason"),
        CheckConstraint("(longer_period_at IS NULL) = (longer_period_reason IS NULL)",
                        name="longer_period_has_reason"),
    )

    shown_on_board = True  # a change moves the board's counter on (portal/board_version.py)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[RequestKind] = mapped_column(KindColumn)
    status: Mapped[TicketStatus] = mapped_column(EnumText(TicketStatus, 10), default=TicketStatus.NEW)
    department: Mapped[Department] = mapped_column(EnumText(Department, 10))
    priority: Mapped[Priority] = mapped_column(EnumText(Priority, 10), default=Priority.NORMAL)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("staff_members.id"))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    requester_email: Mapped[str] = mapped_column(String(320))  # the verified address that filed it
    requester_locale: Mapped[str] = mapped_column(String(5))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # When the clocks started: the filing, or the customer's message that reopened the request.
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    acknowledge_due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    extended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    extension_reason: Mapped[str | None] = mapped_column(Text)
    # The longer legal period (a processor or third party must act), applied once with a reason.
    longer_period_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    longer_period_reason: Mapped[str | None] = mapped_column(Text)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the fulfilment deadline was missed
    acknowledge_escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # so was the acknowledgement
    # When the customer wrote and nobody has answered them since (a reply or the outcome clears it).
    customer_replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
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
    def audit_name(self) -> str:
        return f"ticket:{self.id}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def is_past_due(self, now: datetime) -> bool:
        """Its fulfilment deadline has passed (whether or not it is still open)."""
        return now > self.due_at

    # --- who may do what with it (the rules are in portal.permissions) ---------------------------

    def can_be_seen_by(self, member: StaffMember) -> bool:
        return self.visible_to(member, self.department, self.assignee_id)

    @staticmethod
    def visible_to(member: StaffMember, department: Department, assignee_id: int | None) -> bool:
        """Board and administrator see every queue; sales and care their own department's, and the
        tickets assigned to them."""
        return (permissions.sees_every_queue(member.role) or permissions.works_department(member.role, department)
                or assignee_id == member.id)

    def can_be_worked_by(self, member: StaffMember) -> bool:
        """Reply, note, change status, extend: a member whose role works tickets and who sees this one."""
        return member.can("ticket.work") and self.can_be_seen_by(member)

    def can_be_taken_by(self, member: StaffMember) -> bool:
        """Take it (unassigned or not): a member whose role works this ticket's department."""
        return member.can("ticket.work") and permissions.works_department(member.role, self.department)

    def can_be_assigned_to(self, member: StaffMember) -> bool:
        return member.is_active and permissions.works_department(member.role, self.department)


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

    shown_on_board = True  # a change moves the board's counter on (portal/board_version.py)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[EntryKind] = mapped_column(EnumText(EntryKind, 20))
    author_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_members.id"))
    body: Mapped[str] = mapped_column(Text, default="")
    event: Mapped[str | None] = mapped_column(String(30))  # created, routed, assigned, status, due ...
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    submission_key: Mapped[str | None] = mapped_column(String(64), unique=True)

    ticket: Mapped[Ticket] = relationship(back_populates="entries")
    author: Mapped[StaffMember | None] = relationship()

    @property
    def is_public(self) -> bool:
        return self.kind is not EntryKind.INTERNAL_NOTE
