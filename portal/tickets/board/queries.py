"""Reading the ticket queues for the admin board: views, filters, search and keyset pages.

A queue lists the most urgent priority first, then by due date. A page is one SQL statement
whatever the size of the table: the tickets are found in index order after an opaque cursor
(priority rank, ``due_at``, ``id``), never with OFFSET, and nothing counts the whole table. A queue
is the UNION ALL of one ordered, limited index scan per branch — one per priority and status (and
per part of a member's visibility or of a search) — so each branch walks an index whose columns end
(…, status, priority, due_at, id) from the cursor and stops after a page.
"""

from __future__ import annotations

import base64
import binascii
import itertools
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from functools import lru_cache
from types import SimpleNamespace
from typing import NamedTuple

from sqlalchemy import Integer, Select, bindparam, false, literal, select, true, tuple_, union_all
from sqlalchemy.orm import joinedload, load_only

from portal import permissions
from portal.account.models import ContactPoint, Customer
from portal.account.services import CustomerRecord, customer_record
from portal.contact_values import InvalidAddress, InvalidPhone, normalize_email, normalize_phone
from portal.db import MAX_ROW_ID, UTCDateTime, db, read_plain
from portal.enums import Channel, Department, Priority, Role, TicketStatus
from portal.local_time import end_of_local_day
from portal.settings.models import Setting
from portal.staff.models import StaffMember
from portal.tickets.kinds import all_kinds
from portal.tickets.models import OPEN_STATUSES, Ticket, TicketEntry, format_reference
from portal.tickets.services import REFERENCE, parse_reference
from portal.tickets.settings import queue_setting_from

PAGE_SIZE = 50
VIEWS = ("mine", "department", "unassigned", "overdue", "all")
ALL_STATUSES = tuple(TicketStatus)
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MICROSECOND = datetime.resolution
# Most urgent first: a queue lists its tickets in this order of priority, then by due date.
PRIORITY_ORDER = (Priority.HIGH, Priority.NORMAL)
PRIORITY_RANK = {priority: rank for rank, priority in enumerate(PRIORITY_ORDER)}


class BadCursor(ValueError):
    """The ``after`` parameter is not a cursor this page made."""


class BadSearch(ValueError):
    """The search text is neither a reference, an e-mail address nor a phone number."""


# --- cursors -------------------------------------------------------------------------------------


class Position(NamedTuple):
    """Where a page ends: its last ticket's due date and id, and its priority's rank in
    :data:`PRIORITY_ORDER` (0, the most urgent, first)."""

    due_at: datetime
    ticket_id: int
    rank: int = 0


def encode_cursor(due_at: datetime, ticket_id: int, rank: int = 0) -> str:
    """An opaque, URL-safe token for the position just after this ticket."""
    micros = (due_at - EPOCH) // _MICROSECOND
    raw = f"{rank}.{micros}.{ticket_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(token: str) -> Position:
    """The position a cursor stands for; :class:`BadCursor` for anything else (a cursor made when the
    queues were ordered by due date alone included: its page starts again from the first)."""
    if not token or len(token) > 64:
        raise BadCursor(token)
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode("ascii")
        rank_text, micros_text, id_text = raw.split(".")
        if not (rank_text.isdigit() and micros_text.lstrip("-").isdigit() and id_text.isdigit()):
            raise BadCursor(token)
        if int(rank_text) >= len(PRIORITY_ORDER) or int(id_text) > MAX_ROW_ID:
            raise BadCursor(token)
        return Position(EPOCH + int(micros_text) * _MICROSECOND, int(id_text), int(rank_text))
    except (binascii.Error, UnicodeDecodeError, ValueError, OverflowError) as error:
        raise BadCursor(token) from error


# --- search --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Search:
    """What the search box asked for: exactly one of a reference, an e-mail address or a phone."""

    text: str
    ticket_id: int | None = None
    year: int | None = None
    email: str | None = None
    phone: str | None = None

    @property
    def needs_customer_data(self) -> bool:
        return self.ticket_id is None


def parse_search(text: str) -> Search:
    """Read the search box: ``KN-2026-000123``, an e-mail address, or a Vietnamese phone number."""
    text = (text or "").strip()
    reference = REFERENCE.match(text)
    if reference is not None:
        return Search(text, ticket_id=int(reference.group(2)), year=int(reference.group(1)))
    if "@" in text:
        try:
            return Search(text, email=normalize_email(text))
        except InvalidAddress as error:
            raise BadSearch(text) from error
    try:
        return Search(text, phone=normalize_phone(text))
    except InvalidPhone as error:
        raise BadSearch(text) from error


def _search_branches(search: Search) -> list[list]:
    """Disjoint sets of conditions whose union is what the search finds."""
    if search.ticket_id is not None:
        if not 2000 <= search.year <= 9998 or search.ticket_id > MAX_ROW_ID:
            return [[false()]]
        start = datetime(search.year, 1, 1, tzinfo=timezone.utc)
        end = datetime(search.year + 1, 1, 1, tzinfo=timezone.utc)
        return [[Ticket.id == search.ticket_id, Ticket.created_at >= start, Ticket.created_at < end]]
    if search.email is not None:
        customers = select(ContactPoint.customer_id).where(ContactPoint.channel == Channel.EMAIL,
                                                           ContactPoint.value_normalized == search.email)
        return [[Ticket.requester_email == search.email],
                [Ticket.customer_id.in_(customers), Ticket.requester_email != search.email]]
    customers = select(ContactPoint.customer_id).where(ContactPoint.channel == Channel.PHONE,
                                                       ContactPoint.value_normalized == search.phone)
    return [[Ticket.customer_id.in_(customers)]]


# --- the queue -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueQuery:
    """One queue page request. ``statuses`` empty means every status."""

    view: str
    statuses: tuple[str, ...] = OPEN_STATUSES
    kind: str | None = None
    department: str | None = None
    assignee: int | str | None = None  # a member's id, "none" for unassigned, None for anyone
    due_by: date | None = None
    search: Search | None = None
    replied: bool = False  # only tickets whose customer wrote since our last answer
    after: Position | None = None
    limit: int = PAGE_SIZE
    with_customer: bool = True
    now: datetime = field(default_factory=lambda: datetime.now(timezone.utc))


@dataclass
class QueuePage:
    tickets: list[Ticket]
    next_cursor: str | None


def views_for(member: StaffMember) -> tuple[str, ...]:
    """The queue views a role has: admin works no tickets, so has no "mine" or department."""
    if member.role is Role.ADMIN:
        return ("unassigned", "overdue", "all")
    if permissions.sees_every_queue(member.role):
        return VIEWS
    return tuple(view for view in VIEWS if view != "all")


def _in(column, values) -> object:
    values = sorted(values)
    return column == values[0] if len(values) == 1 else column.in_(values)


def _visibility_branches(member: StaffMember, view: str) -> list[list]:
    """Disjoint conditions for what this member may see in this view (:meth:`Ticket.can_be_seen_by`
    as SQL)."""
    if view == "mine":
        return [[Ticket.assignee_id == member.id]]
    if view == "department":
        return [[Ticket.department == Department(member.role)]]
    if permissions.sees_every_queue(member.role):
        return [[]]
    worked = permissions.departments_worked_by(member.role)
    if not worked:
        return [[Ticket.assignee_id == member.id]]
    if view == "unassigned":
        return [[_in(Ticket.department, worked)]]
    return [[_in(Ticket.department, worked)], [Ticket.assignee_id == member.id, Ticket.department.not_in(worked)]]


def _common_conditions(query: QueueQuery) -> list:
    conditions = []
    if query.view == "unassigned":
        conditions.append(Ticket.assignee_id.is_(None))
    if query.view == "overdue":
        conditions.append(Ticket.due_at < query.now)
    if query.kind:
        conditions.append(Ticket.kind == query.kind)
    if query.department:
        conditions.append(Ticket.department == query.department)
    if query.assignee == "none":
        conditions.append(Ticket.assignee_id.is_(None))
    elif query.assignee is not None:
        conditions.append(Ticket.assignee_id == query.assignee)
    if query.due_by:
        conditions.append(Ticket.due_at <= end_of_local_day(query.due_by))
    if query.replied:
        conditions.append(Ticket.customer_replied_at.is_not(None))
    return conditions


def _statuses(query: QueueQuery) -> tuple[str, ...]:
    statuses = query.statuses or ALL_STATUSES
    if query.view == "overdue":
        statuses = tuple(status for status in statuses if status in OPEN_STATUSES)
    return statuses


def _status_branches(query: QueueQuery) -> list[list]:
    """One branch per status, so each walks an index whose columns go (…, status, due_at, id).

    A search is selective already: one branch with all its statuses is cheaper there."""
    statuses = _statuses(query)
    if not statuses:
        return [[false()]]
    if query.search is not None:
        return [[Ticket.status.in_(statuses)]] if set(statuses) != set(ALL_STATUSES) else [[]]
    return [[Ticket.status == status] for status in statuses]


def _branch(conditions: list, rank: int, query: QueueQuery) -> Select | None:
    """One priority's part of a branch: its tickets after the cursor, in due date order, or None
    when the cursor is past all of them (a more urgent priority than the cursor's)."""
    statement = select(Ticket.id, Ticket.due_at, literal(rank, Integer).label("rank")).where(
        true(), Ticket.priority == PRIORITY_ORDER[rank], *conditions)
    if query.after is not None:
        due_at, ticket_id, after_rank = query.after
        if rank < after_rank:
            return None
        if rank == after_rank:
            position = tuple_(bindparam("after_due", due_at, type_=UTCDateTime), bindparam("after_id", ticket_id))
            statement = statement.where(tuple_(Ticket.due_at, Ticket.id) > position)
    return statement.order_by(Ticket.due_at, Ticket.id).limit(query.limit + 1)


def page_statement(member: StaffMember, query: QueueQuery) -> Select:
    """The one statement that loads a page of tickets, with assignee and customer name."""
    groups = [_visibility_branches(member, query.view), _status_branches(query)]
    if query.search is not None:
        groups.append(_search_branches(query.search))
    common = _common_conditions(query)
    branches = [_branch(common + list(itertools.chain.from_iterable(parts)), rank, query)
                for parts in itertools.product(*groups) for rank in range(len(PRIORITY_ORDER))]
    parts = [branch.subquery(f"branch_{number}") for number, branch in enumerate(branches) if branch is not None]
    if not parts:  # the cursor is past every ticket there can be
        parts = [select(Ticket.id, Ticket.due_at, literal(0, Integer).label("rank")).where(false()).subquery("none")]
    merged = union_all(*[select(part.c.id, part.c.due_at, part.c.rank) for part in parts]).subquery("merged")
    ids = (select(merged.c.id, merged.c.due_at, merged.c.rank).order_by(merged.c.rank, merged.c.due_at, merged.c.id)
           .limit(query.limit + 1).subquery("page"))
    statement = (select(Ticket).join(ids, Ticket.id == ids.c.id)
                 .options(joinedload(Ticket.assignee).load_only(StaffMember.id, StaffMember.full_name))
                 .order_by(ids.c.rank, Ticket.due_at, Ticket.id))
    if query.with_customer:
        statement = statement.options(joinedload(Ticket.customer).load_only(Customer.id, Customer.full_name))
    return statement


def queue_page(member: StaffMember, query: QueueQuery) -> QueuePage:
    tickets = list(db.session.scalars(page_statement(member, query)).unique())
    next_cursor = None
    if len(tickets) > query.limit:
        tickets = tickets[:query.limit]
        last = tickets[-1]
        next_cursor = encode_cursor(last.due_at, last.id, PRIORITY_RANK[last.priority])
    return QueuePage(tickets, next_cursor)


def assignable_members(department: Department | None = None) -> list[StaffMember]:
    """Active members who work tickets (of ``department``, if given)."""
    roles = permissions.roles_working(department) if department else {
        role for role in Role if permissions.departments_worked_by(role)}
    statement = (select(StaffMember).where(StaffMember.is_active.is_(True), StaffMember.role.in_(sorted(roles)))
                 .options(load_only(StaffMember.id, StaffMember.full_name, StaffMember.role))
                 .order_by(StaffMember.full_name, StaffMember.id))
    return list(db.session.scalars(statement))


# --- one ticket ----------------------------------------------------------------------------------


def _ticket_statement() -> Select:
    return _ticket_statement_joining(tuple(_detail_models()))


@lru_cache(maxsize=4)
def _ticket_statement_joining(detail_models: tuple[type, ...]) -> Select:
    """One ticket (``ticket_id``) with all a page shows of it in one statement: its assignee, its
    thread with each entry's author, its customer's record row, and its kind's detail row
    (outer-joined for every kind that keeps one, so :func:`services.details_of` then finds it in the
    session). Built once: building it costs about half as much as running it."""
    statement = (select(Ticket).where(Ticket.id == bindparam("ticket_id"))
                 .options(joinedload(Ticket.assignee), joinedload(Ticket.customer),
                          joinedload(Ticket.entries).joinedload(TicketEntry.author)))
    for model in detail_models:
        statement = statement.outerjoin(model, model.ticket_id == Ticket.id).add_columns(model)
    return statement


def _detail_models() -> list[type]:
    return [kind.detail_model for kind in all_kinds() if kind.detail_model is not None]


def find_ticket(reference: str, member: StaffMember) -> Ticket | None:
    """The ticket with this reference if the member may see it, else None (shown as 404)."""
    ticket_id = parse_reference(reference)
    if ticket_id is None or ticket_id > MAX_ROW_ID:
        return None
    ticket = db.session.execute(_ticket_statement(), {"ticket_id": ticket_id}).unique().scalars().first()
    if ticket is None or format_reference(ticket.created_at.year, ticket.id) != reference.strip().upper():
        return None
    return ticket if ticket.can_be_seen_by(member) else None


@dataclass(frozen=True)
class TicketStanding:
    """What decides whether a kept page of a ticket is still true, read as plain values: the
    ticket's row (every change to it moves ``version``), its customer's record version and its
    kind's detail row. Enough to find the ticket, gate it and log the view without loading it."""

    id: int
    reference: str
    kind: object
    department: Department
    assignee_id: int | None
    version: int
    customer_id: int | None
    customer_version: int | None
    acknowledge_due_at: datetime
    due_at: datetime
    details: SimpleNamespace | None  # the kind's detail columns (None: no row, or a kind without one)
    extension_limit: int  # the longest extension of this kind's clock, as the settings stand

    def can_be_seen_by(self, member: StaffMember) -> bool:
        return Ticket.visible_to(member, self.department, self.assignee_id)


def _standing_statement() -> Select:
    return _standing_statement_joining(tuple(_detail_models()))


@lru_cache(maxsize=4)
def _standing_statement_joining(detail_models: tuple[type, ...]) -> Select:
    """The ticket (``ticket_id``), its customer's record version, the stored clock settings and the
    columns of every detail table of ``detail_models`` (the kinds registered), outer-joined: one
    statement of plain values, built once for each set of kinds."""
    stored_clocks = select(Setting.value).where(Setting.key == "clocks").scalar_subquery()
    statement = (select(Ticket.id, Ticket.created_at, Ticket.kind, Ticket.department, Ticket.assignee_id,
                        Ticket.version, Ticket.customer_id, Customer.data_version.label("customer_version"),
                        Ticket.acknowledge_due_at, Ticket.due_at, stored_clocks.label("stored_clocks"))
                 .outerjoin(Customer, Customer.id == Ticket.customer_id)
                 .where(Ticket.id == bindparam("ticket_id")))
    for model in detail_models:
        table = model.__table__
        statement = (statement.outerjoin(table, table.c.ticket_id == Ticket.id)
                     .add_columns(*(column.label(f"{table.name}__{column.key}") for column in table.columns)))
    return statement


def ticket_standing(reference: str, member: StaffMember) -> TicketStanding | None:
    """The standing of the ticket with this reference if the member may see it, else None (404)."""
    ticket_id = parse_reference(reference)
    if ticket_id is None or ticket_id > MAX_ROW_ID:
        return None
    row = read_plain(_standing_statement(), {"ticket_id": ticket_id}).first()
    if row is None or format_reference(row.created_at.year, row.id) != reference.strip().upper():
        return None
    values = row._mapping
    details = None
    model = row.kind.detail_model
    if model is not None and values[f"{model.__tablename__}__ticket_id"] is not None:
        details = SimpleNamespace(**{column.key: values[f"{model.__tablename__}__{column.key}"]
                                     for column in model.__table__.columns})
    standing = TicketStanding(row.id, format_reference(row.created_at.year, row.id), row.kind, row.department,
                              row.assignee_id, row.version, row.customer_id, row.customer_version,
                              row.acknowledge_due_at, row.due_at, details,
                              queue_setting_from("clocks", row.stored_clocks)["extension_days"][row.kind])
    return standing if standing.can_be_seen_by(member) else None


def ticket_with_thread(ticket_id: int) -> Ticket:
    """Reload a ticket and its thread after a rollback."""
    statement = _ticket_statement().execution_options(populate_existing=True)
    return db.session.execute(statement, {"ticket_id": ticket_id}).unique().scalars().one()


def customer_for_board(customer_id: int) -> CustomerRecord | None:
    """The customer data shown beside a thread: contact points, orders, consents."""
    customer = db.session.get(Customer, customer_id)
    if customer is None:
        return None
    return customer_record(customer, ("contact_points", "orders", "consents"))


def entry_with_key(submission_key: str | None) -> TicketEntry | None:
    if not submission_key:
        return None
    return db.session.scalars(select(TicketEntry).where(TicketEntry.submission_key == submission_key)).first()

