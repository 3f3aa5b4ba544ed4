"""The queue pages: a view (mine, my department, unassigned, overdue, all), filters and search, in
order of priority, then due date, one keyset page at a time. A page that names customers logs it
for each of them (the access log they read on My data)."""

from __future__ import annotations

from flask import render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from portal import clock, page_cache
from portal.access import staff_required
from portal.audit.access_log import log_customer_views
from portal.board_version import board_version
from portal.db import db
from portal.enums import Role, ViewedPage
from portal.staff.models import StaffMember
from portal.tickets.board import bp, queries
from portal.tickets.board.forms import STATUS_ANY, STATUS_OPEN, QueueFilterForm
from portal.tickets.board.queries import BadCursor, BadSearch, QueueQuery

FILTERS = ("kind", "status", "department", "assignee", "due_by")


@bp.route("/")
@staff_required()
def queue():
    """A page of a queue view, filtered, searched, in order of priority, then due date.

    The page is kept per member and address under the board's counter (portal/board_version.py) and
    the minute (the clocks it shows move with time); the customers it names are logged on every
    view, kept or drawn."""
    member, now = current_user.staff, clock.now()
    parts = ("staff", member.id, member.role, member.full_name, board_version(), now.replace(second=0, microsecond=0))
    html, listed = page_cache.serve_noting(parts, lambda values: _draw_queue(member, now), max_age=60)
    if listed:  # the page names these customers: each sees it on My data
        page_name, customer_ids = listed
        log_customer_views(member, customer_ids, page_name, now)
        db.session.commit()
    return html


def _draw_queue(member: StaffMember, now) -> tuple[str, tuple | None]:
    """The queue page, and which customers it names on which kind of page (None: it names none)."""
    form = QueueFilterForm(request.args)
    form.set_members(queries.assignable_members())
    form.validate()
    query, notices = _queue_query(form, member)
    page = queries.queue_page(member, query) if query else queries.QueuePage([], None)
    # Only the filter form's own fields go into the pager's links (never url_for's own keywords).
    arguments = {name: value for name, value in request.args.items()
                 if name in form._fields and name != "after" and value}
    show_customer = member.can("customer.view")
    html = render_template("board/queue.html", form=form, page=page, query=query, notices=notices,
                           views=queries.views_for(member), arguments=arguments, now=now,
                           show_customer=show_customer)
    if not show_customer:
        return html, None
    page_name = ViewedPage.SEARCH if query and query.search else ViewedPage.QUEUE
    return html, (page_name, tuple(ticket.customer_id for ticket in page.tickets if ticket.customer_id))


def _default_view(member: StaffMember) -> str:
    """Admin oversees every queue; the others start with their department's."""
    return "all" if member.role is Role.ADMIN else "department"


def _queue_query(form: QueueFilterForm, member: StaffMember) -> tuple[QueueQuery | None, list[str]]:
    """The page the filters ask for, and what was wrong with them (wrong parts are ignored)."""
    notices = []
    view = form.view.data if form.view.data in queries.views_for(member) else _default_view(member)
    form.view.data = view
    search = None
    if form.q.data and form.q.data.strip() and not form.q.errors:
        search, problem = _search(form.q.data, member)
        if problem:
            form.q.errors.append(problem)
            return None, notices
    after = None
    if form.after.data:
        try:
            after = queries.decode_cursor(form.after.data)
        except BadCursor:
            notices.append(_("That page link is not valid (it may be incomplete). Here is the first page."))
    if any(form.errors.get(name) for name in FILTERS):
        notices.append(_("Some filters were not understood and are not applied."))
    return QueueQuery(
        view="search" if search else view, statuses=_chosen_statuses(form), search=search, after=after,
        kind=_valid(form.kind) or None, department=_valid(form.department) or None,
        assignee=_chosen_assignee(form), due_by=None if form.due_by.errors else form.due_by.data,
        with_customer=member.can("customer.view"), now=clock.now(),
    ), notices


def _search(text: str, member: StaffMember):
    """What the search box asks for, or why it cannot be searched for."""
    try:
        search = queries.parse_search(text)
    except BadSearch:
        return None, _("Enter a reference (KN-2026-000123), an e-mail address or a phone number.")
    if search.needs_customer_data and not member.can("customer.view"):
        return None, _("Your role can search by reference only.")
    return search, None


def _valid(field):
    return None if field.errors else field.data


def _chosen_statuses(form: QueueFilterForm) -> tuple[str, ...]:
    """The statuses to list: as chosen; by default the unfinished ones, or any for a search."""
    searching = bool(form.q.data and form.q.data.strip())
    status = _valid(form.status) if "status" in request.args else None
    status = status or (STATUS_ANY if searching else STATUS_OPEN)
    form.status.data = status
    if status == STATUS_OPEN:
        return queries.OPEN_STATUSES
    return () if status == STATUS_ANY else (status,)


def _chosen_assignee(form: QueueFilterForm):
    value = _valid(form.assignee)
    if not value:
        return None
    return "none" if value == "none" else int(value)
