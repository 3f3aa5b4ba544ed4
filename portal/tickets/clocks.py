"""The clocks of one ticket: what the settings in force and the company's calendar give it, under
the law's ceiling (:mod:`portal.tickets.due` holds the rules as pure functions of dates).

The ceiling of a ticket counts from its receipt (``received_at``: the filing, or the customer's
message that reopened it): the kind's legal figure in calendar days — its longer figure once staff
applied it — plus, once extended, the extension the law allows.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from portal.tickets import due
from portal.tickets.kinds import RequestKind
from portal.tickets.models import Ticket
from portal.tickets.settings import company_calendar, first_response_hours, queue_setting

# Thread events that set a ticket's deadline; their data says when the ceiling cut it.
DEADLINE_EVENTS = ("created", "due_changed", "longer_period", "reopened", "due_brought_forward")


def new_clocks(kind: RequestKind, received_at: datetime) -> tuple[datetime, due.Deadline]:
    """The acknowledgement and fulfilment deadlines of a request of ``kind`` received then; a kind the
    company promises a first answer within some hours (complaints: 24) is acknowledged by then."""
    clocks, calendar = queue_setting("clocks"), company_calendar()
    deadline = due.fulfil_deadline(received_at, clocks["fulfil_days"][kind], kind.legal_days,
                                   clocks["fulfil_in_working_days"], calendar)
    acknowledge = due.acknowledge_due(received_at, clocks["acknowledge_working_days"], calendar)
    promised = first_response_hours(kind)  # the company's own, shorter promise for some kinds
    if promised:
        acknowledge = min(acknowledge, received_at + timedelta(hours=promised))
    return min(acknowledge, deadline.at), deadline


def ceiling(ticket: Ticket, longer: bool | None = None, extended: bool | None = None) -> datetime:
    """The latest deadline the law allows this ticket, as it is or with the longer period applied
    or the extension granted."""
    kind = ticket.kind
    longer = ticket.longer_period_at is not None if longer is None else longer
    extended = ticket.extended_at is not None if extended is None else extended
    days = kind.longer_days if longer and kind.longer_days else kind.legal_days
    return due.legal_ceiling(ticket.received_at, days + (kind.extension_days if extended else 0))


def extended(ticket: Ticket, days: int) -> due.Deadline:
    """The deadline after an extension of ``days`` (counted as the settings count fulfilment)."""
    clocks = queue_setting("clocks")
    return due.moved_deadline(ticket.due_at, days, ceiling(ticket, extended=True),
                              clocks["fulfil_in_working_days"], company_calendar())


def lengthened(ticket: Ticket) -> due.Deadline:
    """The deadline once the longer period applies: the current one moved by the difference between
    the law's two figures, so an administrator's shortening and an extension both still count."""
    kind = ticket.kind
    clocks = queue_setting("clocks")
    return due.moved_deadline(ticket.due_at, kind.longer_days - kind.legal_days, ceiling(ticket, longer=True),
                              clocks["fulfil_in_working_days"], company_calendar())


def cut_note(deadline: due.Deadline) -> dict:
    """What a thread event records of a deadline the law's ceiling cut (nothing if it did not)."""
    return {"cut_from": deadline.counted.isoformat()} if deadline.was_cut else {}


def deadline_cut_from(ticket: Ticket) -> datetime | None:
    """The later date counting gave, when the law's ceiling cut the ticket's current deadline."""
    for entry in reversed(ticket.entries):
        if entry.event in DEADLINE_EVENTS:
            cut = (entry.data or {}).get("cut_from")
            return datetime.fromisoformat(cut) if cut else None
    return None
