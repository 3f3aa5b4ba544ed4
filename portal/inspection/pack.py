"""Building the inspection pack: plain functions of a range of local days and an explicit ``now``.

The pack is a zip of four CSV files and a printable summary. Each CSV is written row by row from a
streamed query straight into its entry of the zip, which itself is a spooled temporary file: however
many rows a register holds, they are never all in memory, and the database is asked the same five
questions whatever the size of the data. The summary's figures are counted while the rows go by.

Every cell is UTF-8 (with a byte-order mark, so that Excel reads Vietnamese right) and a cell that a
spreadsheet would take for a formula (it starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return) is written with a leading apostrophe. Customers are named by their customer number only.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask import render_template
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.audit.models import CustomerDataView
from portal.consent.models import ConsentEntry
from portal.db import db
from portal.enums import ActorKind
from portal.i18n import LOCALE_NAMES
from portal.incidents.documents import notice_state
from portal.incidents.models import DATA_CATEGORIES, AffectedCustomer, BreachIncident, format_incident_reference
from portal.incidents.queries import notice_counts, progress_columns, progress_of
from portal.incidents.services import authority_clock
from portal.local_time import LOCAL_ZONE, start_of_local_day
from portal.spreadsheets import safe_cell
from portal.staff.models import StaffMember
from portal.tickets.models import Ticket, format_reference

MAX_DAYS = 400  # the longest range one pack covers
PACK_LOCALES = dict(LOCALE_NAMES)  # the pack is written in one of the portal's languages
ROWS_PER_FETCH = 500

# How a clock ended, or stands: what requests.csv says in its two clock columns.
MET, MISSED, OPEN, OPEN_LATE = "met", "missed", "open", "open_late"
OUTCOMES = {MET: _l("met"), MISSED: _l("missed"), OPEN: _l("open, not yet due"), OPEN_LATE: _l("open and late")}

# Where the notice to the authority stands: breaches.csv.
NOTICE_STATES = {"sent": _l("sent on time"), "sent_late": _l("sent late"), "due": _l("not sent, still due"),
                 "overdue": _l("not sent, late")}

# What each file holds, said in the summary.
FILES = {
    "requests.csv": _l("The request register: every request filed in the range, with its kind, department and "
                       "status, and its two clocks — the acknowledgement (due, first answered, met or missed) and "
                       "the fulfilment (due, with the extension if there was one, finished, met or missed; or still "
                       "open, on time or late)."),
    "consents.csv": _l("The consent ledger: every grant and withdrawal of consent recorded in the range, with the "
                       "customer number, the purpose, how it was given, the reference of its evidence and the version "
                       "of the privacy notice it was given under."),
    "breaches.csv": _l("The breach incidents discovered in the range: categories of data, affected customers, the "
                       "notice to the authority (due 72 hours after the discovery; when sent, by whom, the "
                       "authority's reference, on time or late) and how many customers were notified."),
    "access_log.csv": _l("The access log: every time a staff member was shown a customer's data in the range — "
                         "when, who and in which role, the customer number, the page and the request's reference."),
}


@dataclass
class Summary:
    """The pack's figures, counted while its rows are written."""

    date_from: date
    date_to: date
    made_at: datetime
    made_by: str
    rows: Counter = field(default_factory=Counter)  # per file
    acknowledgements: Counter = field(default_factory=Counter)  # per outcome
    fulfilments: Counter = field(default_factory=Counter)
    consents: Counter = field(default_factory=Counter)  # "given" / "withdrawn"
    notices: Counter = field(default_factory=Counter)  # per notice state
    affected: int = 0
    customers_notified: int = 0

    @staticmethod
    def share_met(outcomes: Counter) -> int | None:
        """The percentage of the clocks that have come due which were met (None: none has yet)."""
        due = outcomes[MET] + outcomes[MISSED] + outcomes[OPEN_LATE]
        return round(100 * outcomes[MET] / due) if due else None

    @property
    def files(self) -> dict:
        return FILES


def utc_bounds(date_from: date, date_to: date) -> tuple[datetime, datetime]:
    """The range of local days, both included, as [start, end) in UTC."""
    start = start_of_local_day(date_from)
    end = start_of_local_day(date_to + timedelta(days=1))
    return start, end


def clock_outcome(due: datetime, done: datetime | None, now: datetime) -> str:
    """A clock's outcome: met or missed once the thing is done, else open (not yet due) or open and late."""
    if done is not None:
        return MET if done <= due else MISSED
    return OPEN_LATE if now > due else OPEN


def local_time(moment: datetime | None) -> str:
    """A moment in Vietnam time, as every spreadsheet reads it: 2026-11-30 14:05."""
    return moment.astimezone(LOCAL_ZONE).strftime("%Y-%m-%d %H:%M") if moment else ""


def write_pack(target, date_from: date, date_to: date, now: datetime, made_by: str) -> Summary:
    """Write the pack for the local days ``date_from``..``date_to`` into the file ``target`` and
    return its figures. Call it in the language of the pack (``flask_babel.force_locale``)."""
    start, end = utc_bounds(date_from, date_to)
    summary = Summary(date_from=date_from, date_to=date_to, made_at=now, made_by=made_by)
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        _write_csv(archive, "requests.csv", summary, _request_header(), _request_rows(start, end, now, summary))
        _write_csv(archive, "consents.csv", summary, _consent_header(), _consent_rows(start, end, summary))
        _write_csv(archive, "breaches.csv", summary, _breach_header(), _breach_rows(start, end, now, summary))
        _write_csv(archive, "access_log.csv", summary, _access_header(), _access_rows(start, end))
        archive.writestr("summary.html", render_template("inspection/summary.html", summary=summary,
                                                         outcomes=OUTCOMES, notice_states=NOTICE_STATES))
    return summary


def _write_csv(archive: zipfile.ZipFile, name: str, summary: Summary, header: list, rows: Iterable[list]) -> None:
    with archive.open(name, "w") as raw, io.TextIOWrapper(raw, encoding="utf-8-sig", newline="") as text:
        writer = csv.writer(text)
        writer.writerow([safe_cell(title) for title in header])
        for row in rows:
            writer.writerow([safe_cell(cell) for cell in row])
            summary.rows[name] += 1


def _streamed(statement):
    return db.session.execute(statement.execution_options(yield_per=ROWS_PER_FETCH))


# --- requests.csv ---------------------------------------------------------------------------------


def _request_header() -> list:
    return [_l("Reference"), _l("Kind"), _l("Department"), _l("Status"), _l("Filed"), _l("Clocks counted from"),
            _l("Acknowledgement due"), _l("First answered"), _l("Acknowledgement"), _l("Fulfilment due"),
            _l("Extended on"), _l("Finished"), _l("Fulfilment")]


def _request_rows(start: datetime, end: datetime, now: datetime, summary: Summary):
    statement = (select(Ticket.id, Ticket.created_at, Ticket.kind, Ticket.department, Ticket.status,
                        Ticket.received_at, Ticket.acknowledge_due_at, Ticket.first_response_at, Ticket.due_at,
                        Ticket.extended_at, Ticket.resolved_at)
                 .where(Ticket.created_at >= start, Ticket.created_at < end).order_by(Ticket.created_at, Ticket.id))
    for row in _streamed(statement):
        acknowledged = clock_outcome(row.acknowledge_due_at, row.first_response_at, now)
        fulfilled = clock_outcome(row.due_at, row.resolved_at, now)
        summary.acknowledgements[acknowledged] += 1
        summary.fulfilments[fulfilled] += 1
        yield [format_reference(row.created_at.year, row.id), row.kind.title, row.department.title, row.status.title,
               local_time(row.created_at), local_time(row.received_at), local_time(row.acknowledge_due_at),
               local_time(row.first_response_at), OUTCOMES[acknowledged], local_time(row.due_at),
               local_time(row.extended_at), local_time(row.resolved_at), OUTCOMES[fulfilled]]


# --- consents.csv ---------------------------------------------------------------------------------

RECORDED_BY = {ActorKind.CUSTOMER: _l("the customer"), ActorKind.STAFF: _l("staff"),
               ActorKind.SYSTEM: _l("the system (import)")}


def _consent_header() -> list:
    return [_l("Recorded at"), _l("Customer no."), _l("Purpose"), _l("Given or withdrawn"), _l("How"),
            _l("Evidence reference"), _l("Privacy notice version"), _l("Recorded by")]


def _consent_rows(start: datetime, end: datetime, summary: Summary):
    entry = ConsentEntry
    statement = (select(entry.recorded_at, entry.customer_id, entry.purpose, entry.granted, entry.method,
                        entry.evidence, entry.notice_version, entry.actor_kind, entry.actor_name)
                 .where(entry.recorded_at >= start, entry.recorded_at < end).order_by(entry.recorded_at, entry.id))
    for row in _streamed(statement):
        summary.consents["given" if row.granted else "withdrawn"] += 1
        by = RECORDED_BY[row.actor_kind]
        yield [local_time(row.recorded_at), row.customer_id, row.purpose.title,
               _l("given") if row.granted else _l("withdrawn"), row.method.title, row.evidence,
               row.notice_version or "", f"{by}: {row.actor_name}" if row.actor_kind is ActorKind.STAFF else by]


# --- breaches.csv ---------------------------------------------------------------------------------


def _breach_header() -> list:
    return [_l("Incident reference"), _l("Title"), _l("Status"), _l("Discovered"), _l("Categories of data"),
            _l("Affected customers"), _l("Authority notice due"), _l("Authority notice sent"), _l("Sent by"),
            _l("Authority's reference"), _l("Authority notice"), _l("Customers' notice started"),
            _l("Customers' notices e-mailed"), _l("Customers' notices delivered")]


def _breach_rows(start: datetime, end: datetime, now: datetime, summary: Summary):
    in_range = (BreachIncident.discovered_at >= start, BreachIncident.discovered_at < end)
    counts = notice_counts(AffectedCustomer.incident_id.in_(select(BreachIncident.id).where(*in_range)))
    sender = select(StaffMember.full_name).where(StaffMember.id == BreachIncident.authority_notified_by_id)
    statement = (select(BreachIncident, sender.scalar_subquery(), *progress_columns(counts))
                 .outerjoin(counts, counts.c.incident_id == BreachIncident.id)
                 .where(*in_range)
                 .order_by(BreachIncident.discovered_at, BreachIncident.id))
    for incident, sent_by, *counted in _streamed(statement):
        progress = progress_of(counted)
        sent, state = incident.authority_notified_at, notice_state(authority_clock(incident, now))
        summary.notices[state] += 1
        summary.affected += progress.total
        summary.customers_notified += progress.emailed  # those without an address are told another way
        categories = "; ".join(str(DATA_CATEGORIES[key]) for key in incident.categories or [] if key in DATA_CATEGORIES)
        yield [format_incident_reference(incident.created_at.year, incident.id), incident.title, incident.status.title,
               local_time(incident.discovered_at), categories, progress.total, local_time(incident.authority_due_at),
               local_time(sent), sent_by or "", incident.authority_reference or "", NOTICE_STATES[state],
               local_time(incident.customers_notice_started_at), progress.emailed, progress.delivered]


# --- access_log.csv -------------------------------------------------------------------------------


def _access_header() -> list:
    return [_l("Viewed at"), _l("Staff member"), _l("Role"), _l("Customer no."), _l("Page"), _l("Request reference")]


def _access_rows(start: datetime, end: datetime):
    view = CustomerDataView
    statement = (select(view.viewed_at, view.staff_name, view.staff_role, view.customer_id, view.page,
                        view.ticket_reference)
                 .where(view.viewed_at >= start, view.viewed_at < end).order_by(view.viewed_at, view.id))
    for row in _streamed(statement):
        yield [local_time(row.viewed_at), row.staff_name, row.staff_role.title, row.customer_id, row.page.title,
               row.ticket_reference or ""]
