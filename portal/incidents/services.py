"""The rules of breach incidents: record one (raised from complaints or not), correct it, raise more
complaints into it, record the notice to the authority, close it, and keep its list of affected
customers (picked, imported from a file, or the complainants). Services flush; the view commits once.
A rule a change breaks is an :class:`IncidentProblem` (with what is wrong, for people); a form drawn
from an older version of the incident is a :class:`StaleIncident`. Nothing is changed by either."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.account.models import ContactPoint, Customer
from portal.audit.services import record
from portal.complaints.services import COMPLAINT_KINDS
from portal.contact_values import InvalidAddress, InvalidPhone, normalize_email, normalize_phone
from portal.db import db, insert_skipping_existing
from portal.enums import Channel
from portal.incidents.models import (
    DATA_CATEGORIES,
    AffectedCustomer,
    AffectedSource,
    BreachIncident,
    IncidentComplaint,
    IncidentStatus,
)
from portal.tickets.models import Ticket

DETAIL_FIELDS = ("title", "discovered_at", "occurred_from", "occurred_until", "place", "acts", "parties",
                 "categories", "volume", "consequences", "measures")
MIN_CLOSE_REASON = 10

IN_FUTURE = _l("This moment is in the future. Give when it really happened.")
BEFORE_DISCOVERY = _l("The notice cannot have been sent before the violation was discovered.")
ALREADY_NOTIFIED = _l("The notice to the authority is already recorded.")
CLOSED = _l("This incident is closed: it can no longer be changed.")
NOT_COMPLAINTS = _l("Only leak complaints and misuse reports can be raised into an incident.")
CLOSE_NEEDS_REASON = _l("The authority has not been notified: record the notice first, or write why the incident "
                        "is closed without it (at least %(min)d characters).", min=MIN_CLOSE_REASON)
NOTICE_QUEUED = _l("This customer's notice is already on its way: they stay on the list.")
UNKNOWN_CUSTOMER = _l("There is no such customer.")


class IncidentProblem(ValueError):
    """A change the rules refuse; ``problems`` maps a form field ("" for the form) to what is wrong."""

    def __init__(self, problems: dict):
        super().__init__(problems)
        self.problems = problems

    @property
    def message(self) -> str:
        return " ".join(str(text) for text in self.problems.values())


class StaleIncident(ValueError):
    """The incident changed after the form was drawn: saving it would undo a colleague's change."""


# --- time ------------------------------------------------------------------------------------------




@dataclass(frozen=True)
class AuthorityClock:
    """Where the 72 hours for the notice to the authority stand (Law 91/2025 Art. 23(1)).

    ``state`` is "sent" (with ``late`` if it went after the 72 hours), "due" (``hours`` left,
    rounded down) or "late" (not sent, ``hours`` past the deadline, rounded down)."""

    state: str
    due_at: datetime
    hours: int
    late: bool


def authority_clock(incident: BreachIncident, now: datetime) -> AuthorityClock:
    due = incident.authority_due_at
    late = incident.authority_notice_late(now)
    if incident.authority_notified_at is not None:
        return AuthorityClock("sent", due, _whole_hours(incident.authority_notified_at - due), late)
    if late:
        return AuthorityClock("late", due, _whole_hours(now - due), True)
    return AuthorityClock("due", due, _whole_hours(due - now), False)


def _whole_hours(span: timedelta) -> int:
    return max(0, math.floor(span.total_seconds() / 3600))


# --- the incident's details --------------------------------------------------------------------------


@dataclass(frozen=True)
class Details:
    """What the notice to the authority says of the violation (Decree 356/2025 Art. 28(1)); moments
    in UTC."""

    title: str
    discovered_at: datetime
    occurred_from: datetime | None = None
    occurred_until: datetime | None = None
    place: str = ""
    acts: str = ""
    parties: str = ""
    categories: tuple = ()
    volume: str = ""
    consequences: str = ""
    measures: str = ""


def _checked(details: Details, now: datetime) -> Details:
    """The details cleaned, or IncidentProblem naming each field that is wrong."""
    problems = {}
    title = " ".join((details.title or "").split())
    if not title:
        problems["title"] = _l("Give the incident a short title.")
    for name in ("discovered_at", "occurred_from", "occurred_until"):
        moment = getattr(details, name)
        if moment is not None and moment > now:
            problems[name] = IN_FUTURE
    if details.occurred_from and details.occurred_until and details.occurred_until < details.occurred_from:
        problems["occurred_until"] = _l("The end cannot come before the start.")
    categories = [key for key in DATA_CATEGORIES if key in set(details.categories or ())]
    if not categories or len(categories) != len(set(details.categories)):
        problems["categories"] = _l("Tick at least one category of data.")
    if problems:
        raise IncidentProblem(problems)
    texts = {name: (getattr(details, name) or "").strip()
             for name in ("place", "acts", "parties", "volume", "consequences", "measures")}
    return Details(title=title, discovered_at=details.discovered_at, occurred_from=details.occurred_from,
                   occurred_until=details.occurred_until, categories=tuple(categories), **texts)


def create_incident(member, details: Details, complaint_ids: Iterable[int], now: datetime) -> BreachIncident:
    """A new open incident with ``details``, the complaints ``complaint_ids`` raised into it and
    their customers on its list of affected customers."""
    details = _checked(details, now)
    values = {name: getattr(details, name) for name in DETAIL_FIELDS}
    values["categories"] = list(details.categories)
    incident = BreachIncident(**values, status=IncidentStatus.OPEN, created_at=now, created_by_id=member.id)
    db.session.add(incident)
    db.session.flush()
    record(member, "incident.created", incident, discovered_at=details.discovered_at.isoformat(),
           categories=values["categories"])
    raise_complaints(incident, member, complaint_ids, now)
    return incident


def _claim(incident: BreachIncident, version) -> None:
    """Refuse a form drawn from another version of the incident, and any change to a closed one."""
    if str(version or "").strip() != str(incident.version):
        raise StaleIncident()
    _refuse_if_closed(incident)


def _refuse_if_closed(incident: BreachIncident) -> None:
    if incident.status is IncidentStatus.CLOSED:
        raise IncidentProblem({"": CLOSED})


def update_incident(incident: BreachIncident, member, version, details: Details, now: datetime) -> list[str]:
    """Correct the incident's details; return the fields changed (audited)."""
    _claim(incident, version)
    details = _checked(details, now)
    if incident.authority_notified_at is not None and details.discovered_at > incident.authority_notified_at:
        raise IncidentProblem({"discovered_at": _l("The notice to the authority was sent before this moment: "
                                                   "the violation was discovered earlier.")})
    changed = []
    for name in DETAIL_FIELDS:
        new = list(details.categories) if name == "categories" else getattr(details, name)
        if getattr(incident, name) != new:
            setattr(incident, name, new)
            changed.append(name)
    if changed:
        record(member, "incident.changed", incident, fields=changed)
        db.session.flush()
    return changed


def record_authority_notice(incident: BreachIncident, member, version, sent_at: datetime, reference: str,
                            now: datetime) -> None:
    """Record that the notice went to the authority: when, under which reference, by whom."""
    _claim(incident, version)
    if incident.authority_notified_at is not None:
        raise IncidentProblem({"": ALREADY_NOTIFIED})
    reference = " ".join((reference or "").split())
    problems = {}
    if sent_at > now:
        problems["sent_at"] = IN_FUTURE
    elif sent_at < incident.discovered_at:
        problems["sent_at"] = BEFORE_DISCOVERY
    if not reference:
        problems["reference"] = _l("Give the reference or receipt number the authority gave.")
    if problems:
        raise IncidentProblem(problems)
    incident.authority_notified_at, incident.authority_reference = sent_at, reference
    incident.authority_notified_by_id = member.id
    record(member, "incident.authority_notified", incident, sent_at=sent_at.isoformat(), reference=reference,
           late=incident.authority_notice_late(now))
    db.session.flush()


def close_incident(incident: BreachIncident, member, version, reason: str | None, now: datetime) -> None:
    """Close the incident: once the authority's notice is recorded, or with the written reason why it
    is closed without one (kept in the audit log and shown on the incident's page)."""
    _claim(incident, version)
    reason = (reason or "").strip()
    if incident.authority_notified_at is None and len(reason) < MIN_CLOSE_REASON:
        raise IncidentProblem({"reason": CLOSE_NEEDS_REASON})
    incident.status, incident.closed_at = IncidentStatus.CLOSED, now
    record(member, "incident.closed", incident, reason=reason or None,
           authority_notified=incident.authority_notified_at is not None)
    db.session.flush()


# --- complaints raised into an incident ---------------------------------------------------------------


def raise_complaints(incident: BreachIncident, member, ticket_ids: Iterable[int], now: datetime) -> int:
    """Raise the complaints ``ticket_ids`` into the open ``incident``: each not yet in it joins, and
    its customer (if the ticket is linked to a record) becomes an affected customer. Return how many
    joined."""
    ids = sorted({int(ticket_id) for ticket_id in ticket_ids})
    if not ids:
        return 0
    _refuse_if_closed(incident)
    rows = db.session.execute(select(Ticket.id, Ticket.kind, Ticket.customer_id).where(Ticket.id.in_(ids))).all()
    if len(rows) != len(ids) or any(str(row.kind) not in COMPLAINT_KINDS for row in rows):
        raise IncidentProblem({"complaints": NOT_COMPLAINTS})
    present = set(db.session.scalars(select(IncidentComplaint.ticket_id).where(
        IncidentComplaint.incident_id == incident.id, IncidentComplaint.ticket_id.in_(ids))))
    joining = [row for row in rows if row.id not in present]
    if not joining:
        return 0
    db.session.add_all([IncidentComplaint(incident_id=incident.id, ticket_id=row.id, added_at=now,
                                          added_by_id=member.id) for row in joining])
    db.session.flush()
    customers = {row.customer_id for row in joining if row.customer_id is not None}
    added = add_affected(incident, customers, AffectedSource.COMPLAINT, member, now)
    record(member, "incident.complaints_raised", incident, tickets=[row.id for row in joining],
           customers_added=added)
    return len(joining)


# --- affected customers -------------------------------------------------------------------------------

INSERT_ROWS = 1000  # rows per INSERT: far below either database's limit on parameters


def add_affected(incident: BreachIncident, customer_ids: Iterable[int], source: AffectedSource, member,
                 now: datetime) -> int:
    """Put ``customer_ids`` on the incident's list; those already on it stay as they are (the unique
    key on (incident, customer) decides, so two members adding the same customer at once add one
    row). Return how many were added. No audit record: the callers write theirs."""
    customers = sorted(set(customer_ids))
    if not customers:
        return 0
    statement = insert_skipping_existing(AffectedCustomer.__table__, ["incident_id", "customer_id"])
    added = 0
    for start in range(0, len(customers), INSERT_ROWS):
        rows = [{"incident_id": incident.id, "customer_id": customer, "source": source, "added_at": now,
                 "added_by_id": member.id if member is not None else None}
                for customer in customers[start:start + INSERT_ROWS]]
        # RETURNING names the rows inserted (not those skipped): the drivers' row counts do not say it
        inserted = statement.values(rows).returning(AffectedCustomer.__table__.c.customer_id)
        added += len(db.session.execute(inserted).all())
    return added


def pick_customer(incident: BreachIncident, member, customer_id, now: datetime) -> bool:
    """Add one customer found by a search; False if they were on the list already."""
    _refuse_if_closed(incident)
    text = str(customer_id or "").strip()
    exists = text.isdigit() and len(text) < 12 and db.session.scalar(
        select(Customer.id).where(Customer.id == int(text))) is not None
    if not exists:
        raise IncidentProblem({"": UNKNOWN_CUSTOMER})
    added = add_affected(incident, [int(text)], AffectedSource.PICKED, member, now) == 1
    if added:
        record(member, "incident.customer_added", incident, customer=int(text))
    return added


def remove_affected(incident: BreachIncident, member, affected_id: int) -> AffectedCustomer | None:
    """Take a customer off the list while their notice is not queued; None if not on this list."""
    _refuse_if_closed(incident)
    row = db.session.get(AffectedCustomer, affected_id)
    if row is None or row.incident_id != incident.id:
        return None
    if row.notice_queued_at is not None:
        raise IncidentProblem({"": NOTICE_QUEUED})
    db.session.delete(row)
    record(member, "incident.customer_removed", incident, customer=row.customer_id, source=row.source.value)
    db.session.flush()
    return row


# --- a file of affected customers ----------------------------------------------------------------------

MAX_IMPORT_BYTES = 2 * 1024 * 1024
MAX_IMPORT_ROWS = 20_000
UNMATCHED_SHOWN = 20
MAX_CUSTOMER_NUMBER_DIGITS = 8  # a longer number is read as a phone number
LOOKUP_CHUNK = 500


class ImportRefused(ValueError):
    """The whole file is refused; ``args[0]`` says why, for people. Nothing was added."""


@dataclass
class ImportResult:
    rows: int = 0
    added: int = 0
    already: int = 0
    unmatched: list = field(default_factory=list)  # (row number, text), the first UNMATCHED_SHOWN
    unmatched_count: int = 0


def read_identifiers(content: bytes) -> list[tuple[int, str]]:
    """(row number, cell) for every non-empty row of a one-column CSV file, its header left out, or
    ImportRefused saying what is wrong with the file."""
    if not content:
        raise ImportRefused(_l("The file is empty. Nothing was added."))
    if len(content) > MAX_IMPORT_BYTES:
        raise ImportRefused(_l("The file is larger than %(size)d MB. Split it and import each part. Nothing was added.",
                               size=MAX_IMPORT_BYTES // (1024 * 1024)))
    if b"\x00" in content:
        raise ImportRefused(_l("This is not a CSV text file. Nothing was added."))
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportRefused(_l("The file is not UTF-8 text. Save it again as “CSV UTF-8”. Nothing was added.")) \
            from None
    rows = []
    try:
        for number, cells in enumerate(csv.reader(io.StringIO(text, newline=""), strict=True), start=1):
            filled = [cell.strip() for cell in cells if cell.strip()]
            if not filled:
                continue
            if len(filled) > 1:
                raise ImportRefused(_l("Row %(row)d has more than one column: the file must have a single column of "
                                       "e-mail addresses, phone numbers or customer numbers. Nothing was added.",
                                       row=number))
            rows.append((number, filled[0]))
            if len(rows) > MAX_IMPORT_ROWS + 1:
                break
    except csv.Error:
        raise ImportRefused(_l("The file cannot be read as CSV. Nothing was added.")) from None
    if rows and _is_header(rows[0][1]):
        rows = rows[1:]
    if not rows:
        raise ImportRefused(_l("The file is empty. Nothing was added."))
    if len(rows) > MAX_IMPORT_ROWS:
        raise ImportRefused(_l("The file has more than %(count)d rows. Split it and import each part. Nothing was "
                               "added.", count=MAX_IMPORT_ROWS))
    return rows


def _is_header(text: str) -> bool:
    """A first row naming the column ("E-mail", "Số điện thoại") rather than holding a value."""
    return "@" not in text and not any(ch.isdigit() for ch in text)


def identify(text: str) -> tuple[str, object] | None:
    """What a cell names: ("email", address), ("phone", E.164) or ("id", customer number); None if
    it is none of them."""
    text = text.strip()
    if "@" in text:
        try:
            return "email", normalize_email(text)
        except InvalidAddress:
            return None
    if text.isdigit() and len(text) <= MAX_CUSTOMER_NUMBER_DIGITS:
        return "id", int(text)
    if text.startswith(("=", "@", "-")) or not any(ch.isdigit() for ch in text):
        return None
    try:
        return "phone", normalize_phone(text)
    except InvalidPhone:
        return None


def _chunks(values: list, size: int = LOOKUP_CHUNK):
    for start in range(0, len(values), size):
        yield values[start:start + size]


def _customers_for(kind: str, values: set) -> dict:
    """{value: {customer ids}} for the values of one kind that name a customer."""
    found: dict = {}
    for chunk in _chunks(sorted(values)):
        if kind == "id":
            statement = select(Customer.id.label("value"), Customer.id.label("customer")).where(Customer.id.in_(chunk))
        else:
            channel = Channel.EMAIL if kind == "email" else Channel.PHONE
            statement = select(ContactPoint.value_normalized, ContactPoint.customer_id).where(
                ContactPoint.channel == channel, ContactPoint.value_normalized.in_(chunk))
        for value, customer in db.session.execute(statement):
            found.setdefault(value, set()).add(customer)
    return found


def import_customers(incident: BreachIncident, member, content: bytes, now: datetime) -> ImportResult:
    """Add the customers a file names (by e-mail address, phone number or customer number) to the
    incident's list. A bad file raises ImportRefused and adds nothing; a row that names nobody is
    reported (the first UNMATCHED_SHOWN of them) and the rest go on."""
    _refuse_if_closed(incident)
    rows = read_identifiers(content)
    named = [(number, text, identify(text)) for number, text in rows]
    wanted: dict[str, set] = {"email": set(), "phone": set(), "id": set()}
    for _number, _text, key in named:
        if key is not None:
            wanted[key[0]].add(key[1])
    found = {kind: _customers_for(kind, values) for kind, values in wanted.items() if values}
    result = ImportResult(rows=len(rows))
    customers = set()
    for number, text, key in named:
        matched = found.get(key[0], {}).get(key[1]) if key is not None else None
        if matched:
            customers |= matched
        else:
            result.unmatched_count += 1
            if len(result.unmatched) < UNMATCHED_SHOWN:
                result.unmatched.append((number, text[:100]))
    result.added = add_affected(incident, customers, AffectedSource.IMPORTED, member, now)
    result.already = len(customers) - result.added
    record(member, "incident.customers_imported", incident, rows=result.rows, added=result.added,
           already=result.already, unmatched=result.unmatched_count)
    return result
