"""What the incident pages read: each list in one statement, counted and joined in SQL, whatever the
number of incidents, complaints or affected customers."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import aliased

from portal.account.models import ContactPoint, Customer
from portal.audit.models import AuditRecord
from portal.complaints.services import COMPLAINT_KINDS
from portal.db import db
from portal.enums import Channel
from portal.incidents.models import AffectedCustomer, BreachIncident, IncidentComplaint, IncidentStatus
from portal.outbox.models import OutboxMessage, OutboxStatus
from portal.staff.models import StaffMember
from portal.tickets.kinds.leak_complaint import LeakComplaintDetails
from portal.tickets.kinds.misuse_report import MisuseReportDetails
from portal.tickets.models import Ticket, format_reference
from portal.tickets.services import parse_reference

MAX_COMPLAINT_CHOICES = 100
CUSTOMERS_PER_PAGE = 50
MAX_PAGE = 10_000


@dataclass(frozen=True)
class NoticeProgress:
    """An incident's affected customers counted, and where their notice stands."""

    total: int  # customers on the incident's list
    queued: int  # whose turn has come: e-mailed, or to be told another way
    without_email: int  # no e-mail address (or erased): to be told another way
    delivered: int  # their e-mail has reached the mail server
    failed: int  # their e-mail could not be delivered (given up)
    reachable: int  # have an e-mail address now (what starting the notice would e-mail, at most)

    @property
    def waiting(self) -> int:
        """Not yet queued: the worker (or "Resume") still has them to do."""
        return self.total - self.queued

    @property
    def emailed(self) -> int:
        return self.queued - self.without_email

    @property
    def sending(self) -> int:
        """Queued as e-mail, neither delivered nor given up yet."""
        return self.emailed - self.delivered - self.failed


NO_PROGRESS = NoticeProgress(0, 0, 0, 0, 0, 0)
NOTICE_COLUMNS = ("total", "queued", "without_email", "delivered", "failed", "reachable")


def _tally(condition):
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def notice_counts(*where):
    """Every count of affected customers, per incident (those ``where`` picks): one grouped subquery
    with the columns of :class:`NoticeProgress`, which the register, the incident's pages, its
    notice, its documents and the inspection pack all read their numbers from."""
    queued = AffectedCustomer.notice_queued_at.is_not(None)
    has_email = (select(ContactPoint.id)
                 .where(ContactPoint.customer_id == AffectedCustomer.customer_id, ContactPoint.channel == Channel.EMAIL)
                 .exists())
    return (select(AffectedCustomer.incident_id.label("incident_id"),
                   func.count(AffectedCustomer.id).label("total"),
                   func.count(AffectedCustomer.notice_queued_at).label("queued"),
                   _tally(queued & AffectedCustomer.outbox_id.is_(None)).label("without_email"),
                   _tally(OutboxMessage.status == OutboxStatus.SENT).label("delivered"),
                   _tally(OutboxMessage.status == OutboxStatus.FAILED).label("failed"),
                   _tally(Customer.erased_at.is_(None) & has_email).label("reachable"))
            .join(Customer, Customer.id == AffectedCustomer.customer_id)
            .outerjoin(OutboxMessage, OutboxMessage.id == AffectedCustomer.outbox_id)
            .where(*where)
            .group_by(AffectedCustomer.incident_id)
            .subquery())


def progress_columns(counts) -> list:
    """The columns of ``counts`` (from :func:`notice_counts`) in :class:`NoticeProgress`'s order,
    zero for an incident with nobody on its list."""
    return [func.coalesce(counts.c[name], 0) for name in NOTICE_COLUMNS]


def progress_of(values) -> NoticeProgress:
    return NoticeProgress(*(int(value) for value in values))


def notice_progress(incident_id: int) -> NoticeProgress:
    """Where the incident's notice to its customers stands, in one statement."""
    counts = notice_counts(AffectedCustomer.incident_id == incident_id)
    row = db.session.execute(select(*(counts.c[name] for name in NOTICE_COLUMNS))).first()
    return progress_of(row) if row is not None else NO_PROGRESS


def register() -> list:
    """Every incident, newest discovery first, with (incident, affected, queued)."""
    counts = notice_counts()
    statement = (select(BreachIncident, func.coalesce(counts.c.total, 0).label("affected"),
                        func.coalesce(counts.c.queued, 0).label("queued"))
                 .outerjoin(counts, counts.c.incident_id == BreachIncident.id)
                 .order_by(BreachIncident.discovered_at.desc(), BreachIncident.id.desc()))
    return list(db.session.execute(statement))


@dataclass(frozen=True)
class IncidentView:
    incident: BreachIncident
    created_by: str | None
    notified_by: str | None
    progress: NoticeProgress

    @property
    def affected(self) -> int:
        return self.progress.total

    @property
    def queued(self) -> int:
        return self.progress.queued


def incident_view(incident_id: int) -> IncidentView | None:
    """The incident with its members' names and its list's counts, in one statement."""
    creator, notifier = aliased(StaffMember), aliased(StaffMember)
    counts = notice_counts(AffectedCustomer.incident_id == incident_id)
    statement = (select(BreachIncident, creator.full_name, notifier.full_name, *progress_columns(counts))
                 .outerjoin(creator, creator.id == BreachIncident.created_by_id)
                 .outerjoin(notifier, notifier.id == BreachIncident.authority_notified_by_id)
                 .outerjoin(counts, counts.c.incident_id == BreachIncident.id)
                 .where(BreachIncident.id == incident_id))
    row = db.session.execute(statement).first()
    if row is None:
        return None
    incident, created_by, notified_by, *counted = row
    return IncidentView(incident, created_by, notified_by, progress_of(counted))


def _finding():
    return func.coalesce(LeakComplaintDetails.finding, MisuseReportDetails.finding).label("finding")


def _complaints_with_findings():
    return (select(Ticket.id, Ticket.created_at, Ticket.kind, Ticket.status, _finding())
            .outerjoin(LeakComplaintDetails, LeakComplaintDetails.ticket_id == Ticket.id)
            .outerjoin(MisuseReportDetails, MisuseReportDetails.ticket_id == Ticket.id))


@dataclass(frozen=True)
class ComplaintRow:
    id: int
    reference: str
    created_at: object
    kind: object
    status: object
    finding: str | None


def _complaint_rows(statement) -> list[ComplaintRow]:
    return [ComplaintRow(row.id, format_reference(row.created_at.year, row.id), row.created_at, row.kind,
                         row.status, row.finding) for row in db.session.execute(statement)]


def complaint_choices(first: int | None = None) -> list[ComplaintRow]:
    """The newest leak complaints and misuse reports (at most MAX_COMPLAINT_CHOICES), ``first`` (a
    complaint being raised from its page) at the top whatever its age."""
    order = [Ticket.created_at.desc(), Ticket.id.desc()]
    if first is not None:
        order.insert(0, case((Ticket.id == first, 0), else_=1))
    statement = (_complaints_with_findings().where(Ticket.kind.in_(COMPLAINT_KINDS))
                 .order_by(*order).limit(MAX_COMPLAINT_CHOICES))
    return _complaint_rows(statement)


def incident_complaints(incident_id: int) -> list[ComplaintRow]:
    """The complaints raised into the incident, in the order they were filed."""
    statement = (_complaints_with_findings().join(IncidentComplaint, IncidentComplaint.ticket_id == Ticket.id)
                 .where(IncidentComplaint.incident_id == incident_id).order_by(Ticket.id))
    return _complaint_rows(statement)


def close_reason(incident_id: int) -> str | None:
    """The reason written when the incident was closed without the notice to the authority."""
    statement = (select(AuditRecord.data).where(AuditRecord.action == "incident.closed",
                                                AuditRecord.target == f"incident:{incident_id}")
                 .order_by(AuditRecord.id.desc()).limit(1))
    data = db.session.scalar(statement)
    return (data or {}).get("reason")


@dataclass(frozen=True)
class AffectedPage:
    rows: list
    total: int
    page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // CUSTOMERS_PER_PAGE))


def affected_page(incident_id: int, page: int) -> AffectedPage:
    """One page of the incident's affected customers (number, name, one e-mail address, how added,
    whether their notice is queued), in the order they were added, with the list's length."""
    page = min(max(page, 1), MAX_PAGE)
    email = (select(func.min(ContactPoint.value))
             .where(ContactPoint.customer_id == Customer.id, ContactPoint.channel == Channel.EMAIL)
             .correlate(Customer).scalar_subquery())
    statement = (select(AffectedCustomer.id, AffectedCustomer.customer_id, AffectedCustomer.source,
                        AffectedCustomer.added_at, AffectedCustomer.notice_queued_at, Customer.full_name,
                        email.label("email"), func.count().over().label("total"))
                 .join(Customer, Customer.id == AffectedCustomer.customer_id)
                 .where(AffectedCustomer.incident_id == incident_id)
                 .order_by(AffectedCustomer.id)
                 .limit(CUSTOMERS_PER_PAGE).offset((page - 1) * CUSTOMERS_PER_PAGE))
    rows = list(db.session.execute(statement))
    return AffectedPage(rows, rows[0].total if rows else 0, page)


def complaint_ticket(reference: str):
    """(id, reference, customer_id) of the leak complaint or misuse report ``reference``, or None."""
    ticket_id = parse_reference(reference)
    if ticket_id is None:
        return None
    row = db.session.execute(select(Ticket.id, Ticket.created_at, Ticket.kind)
                             .where(Ticket.id == ticket_id, Ticket.kind.in_(COMPLAINT_KINDS))).first()
    if row is None or format_reference(row.created_at.year, row.id) != reference.strip().upper():
        return None
    return row


def open_incidents_for(ticket_id: int) -> list:
    """Open incidents, newest first, each with whether the complaint ``ticket_id`` is in it already."""
    raised = (select(IncidentComplaint.incident_id)
              .where(and_(IncidentComplaint.incident_id == BreachIncident.id, IncidentComplaint.ticket_id == ticket_id))
              .correlate(BreachIncident).exists())
    statement = (select(BreachIncident.id, BreachIncident.title, BreachIncident.created_at, raised.label("raised"))
                 .where(BreachIncident.status == IncidentStatus.OPEN)
                 .order_by(BreachIncident.discovered_at.desc(), BreachIncident.id.desc()))
    return list(db.session.execute(statement))
