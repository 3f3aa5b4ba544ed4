"""The member's work on their start page: the tickets whose customer wrote and waits for an answer,
their own open tickets, and those nobody has taken yet — most urgent first, as in the queues.

The start page shows references, kinds, statuses and clocks, never a customer's name, address or
message, so drawing it shows nobody's data and logs no view of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import render_template, url_for
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from portal.staff.models import StaffMember
from portal.staff.signals import start_page
from portal.tickets.board import queries
from portal.tickets.board.queries import PRIORITY_RANK, QueueQuery
from portal.tickets.models import Ticket

SHOWN = {"replied": 20, "mine": 10, "unassigned": 5, "overdue": 5}


@dataclass(frozen=True)
class WorkList:
    key: str
    title: object
    empty: object
    tickets: list[Ticket]
    more_url: str | None  # the queue view that lists them all, if there is one


@start_page.connect
def members_work(member: StaffMember, now: datetime, **_ignored) -> Markup | None:
    """The start page's lists for ``member``: what they work, or (the administrator) what waits
    for someone to route it."""
    lists = _work_lists(member, now)
    if not lists:
        return None
    return Markup(render_template("board/_start_work.html", lists=lists, now=now))  # noqa: S704 (a rendered template)


def _work_lists(member: StaffMember, now: datetime) -> list[WorkList]:
    views = queries.views_for(member)
    lists = []
    if member.can("ticket.work"):
        lists.append(WorkList("replied", _l("Customers waiting for your answer"),
                              _l("No customer is waiting for an answer from you."), _replied(member, views, now), None))
    titles = {"mine": (_l("Your open tickets"), _l("You have no open tickets.")),
              "unassigned": (_l("Not taken yet"), _l("Every ticket has someone working on it.")),
              "overdue": (_l("Overdue"), _l("Nothing is overdue."))}
    for view in ("mine", "unassigned") if member.can("ticket.work") else ("unassigned", "overdue"):
        if view in views:
            title, empty = titles[view]
            lists.append(WorkList(view, title, empty, _page(member, view, now, limit=SHOWN[view]),
                                  url_for("board.queue", view=view)))
    return lists


def _page(member: StaffMember, view: str, now: datetime, limit: int, replied: bool = False) -> list[Ticket]:
    query = QueueQuery(view=view, limit=limit, replied=replied, with_customer=False, now=now)
    return queries.queue_page(member, query).tickets


def _replied(member: StaffMember, views, now: datetime) -> list[Ticket]:
    """The member's tickets and the unassigned ones of their queues where the customer wrote last."""
    found = [ticket for view in ("mine", "unassigned") if view in views
             for ticket in _page(member, view, now, limit=SHOWN["replied"], replied=True)]
    found.sort(key=lambda ticket: (PRIORITY_RANK[ticket.priority], ticket.due_at, ticket.id))
    return found[:SHOWN["replied"]]
