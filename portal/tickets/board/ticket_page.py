"""The ticket page: routing and clocks, the customer's data beside the thread, and the actions —
reply or note, status and routing, take, extend, the longer legal period, link to a customer record.

Every change is guarded by the version the page was drawn from. A rule the change breaks, or a
colleague's change made in the meantime, rolls back everything and shows the page again with the
reason and with what the member typed.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import inspect
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from wtforms import SelectChoice

from portal import clock, page_cache
from portal.access import staff_required
from portal.db import db
from portal.enums import Department, EntryKind, TicketStatus
from portal.staff.models import StaffMember
from portal.tickets import clocks, services
from portal.tickets.board import bp, queries
from portal.tickets.board.forms import (
    ExtendForm,
    LinkCustomerForm,
    LongerPeriodForm,
    StaffReplyForm,
    TakeForm,
    TicketUpdateForm,
)
from portal.tickets.models import Ticket


class TicketForms:
    """The forms of a ticket page. The one that was posted reads the request; the others start
    from the ticket as it is now."""

    def __init__(self, ticket: Ticket, posted: str | None = None, submission_key: str | None = None):
        self.ticket = ticket
        self.posted = posted
        self.reply = self._make(StaffReplyForm, "reply", submission_key=submission_key or _new_submission_key(),
                                version=ticket.version)
        self.update = self._make(TicketUpdateForm, "update", status=ticket.status, department=ticket.department,
                                 assignee=str(ticket.assignee_id or ""), version=ticket.version)
        self.extend = self._make(ExtendForm, "extend", version=ticket.version)
        self.longer = self._make(LongerPeriodForm, "longer", version=ticket.version)
        self.take = self._make(TakeForm, "take")
        self.link = self._make(LinkCustomerForm, "link", version=ticket.version)
        self._fit_update_form()

    def _make(self, form_class, prefix: str, **initial):
        if prefix == self.posted:
            return form_class(prefix=prefix)
        return form_class(formdata=None, prefix=prefix, **initial)

    def _fit_update_form(self) -> None:
        members = queries.assignable_members(self.ticket.department)
        choices = [SelectChoice("", _("Nobody (unassigned)"))] + [
            SelectChoice(str(m.id), f"{m.full_name} · {m.role.title}") for m in members]
        if self.ticket.assignee is not None and str(self.ticket.assignee_id) not in {c.value for c in choices}:
            choices.append(SelectChoice(str(self.ticket.assignee_id), self.ticket.assignee.full_name))
        self.update.assignee.choices = choices
        if not current_user.can("ticket.work"):
            del self.update.status
            del self.update.reason

    def refresh_after_conflict(self, ticket: Ticket) -> None:
        """Show the ticket's current state and version in the posted form, keeping the typed text."""
        form = getattr(self, self.posted)
        form.version.data = str(ticket.version)
        if self.posted == "update":
            if "status" in form:
                form.status.data = ticket.status
            form.department.data = ticket.department
            form.assignee.data = str(ticket.assignee_id or "")


def _new_submission_key() -> str:
    return secrets.token_hex(16)


def _ticket_or_404(reference: str) -> Ticket:
    ticket = queries.find_ticket(reference, current_user.staff)
    if ticket is None:
        abort(404)
    return ticket


@bp.route("/tickets/<reference>")
@staff_required()
def ticket(reference: str):
    """The ticket: routing and clocks, the customer's data beside the thread, and the actions.

    The page is kept per member while the ticket, its kind's details, its customer's record, the
    longest extension the settings allow and the side of each deadline it is on stay as they were
    (the list of colleagues, for at most a minute); every view is logged all the same. Whether a
    kept page is still true is read as plain values (:func:`queries.ticket_standing`); the ticket
    itself is loaded only to draw."""
    member, now = current_user.staff, clock.now()
    standing = queries.ticket_standing(reference, member)
    if standing is None:
        abort(404)
    customer_version = _log_customer_view(standing, member, now)
    live = _live_parts(standing, member, now)
    parts = ("staff", member.id, member.role, member.full_name, standing.id, standing.version, customer_version,
             repr(standing.details), standing.extension_limit, standing.acknowledge_due_at < now,
             standing.due_at < now, tuple(sorted(live)))
    fresh = {"submission_key": _new_submission_key, **{name: (lambda html=html: html) for name, html in live.items()}}

    def draw(values) -> str:
        ticket = _ticket_or_404(reference)
        return _draw(ticket, TicketForms(ticket, submission_key=values["submission_key"]), now, standing, live=values)

    page = page_cache.serve(parts, draw, fresh=fresh, max_age=SHOWN_FOR_AT_MOST)
    db.session.commit()
    return page


SHOWN_FOR_AT_MOST = 60  # seconds: how stale the list of colleagues a kept page shows may be

# Parts of the page that other features draw afresh for every view, even of a kept page (what they
# show changes without the ticket changing): name → ``draw(standing, member, now)``, given the
# ticket's :class:`queries.TicketStanding`, which returns the part's HTML (never empty), or None where
# the page has no such part. The page shows it where its templates print ``live[name]``.
LIVE_PARTS: dict[str, Callable[[queries.TicketStanding, StaffMember, datetime], str | None]] = {}


def live_part(name: str):
    """Register ``draw`` as the live part ``name`` of the ticket page."""
    def register(draw):
        LIVE_PARTS[name] = draw
        return draw
    return register


def _live_parts(standing: queries.TicketStanding, member, now: datetime) -> dict[str, str]:
    return {name: html for name, draw in LIVE_PARTS.items() if (html := draw(standing, member, now))}


def _log_customer_view(standing: queries.TicketStanding, member, now) -> int | None:
    """Log that ``member`` is shown the ticket's customer data, if the page shows it; return the
    version of the customer's record it shows (None: none shown)."""
    if not (standing.customer_id and member.can("customer.view")):
        return None
    services.record_customer_view(standing, standing.customer_id, member, now)
    return standing.customer_version


def _show(ticket: Ticket, forms: TicketForms, status: int = 200, problem: str | None = None):
    """The page again after a refused or lost change, with what the member typed."""
    now, member = clock.now(), current_user.staff
    standing = queries.ticket_standing(ticket.reference, member)
    if standing is None:  # no longer the member's to see (moved to another department meanwhile)
        abort(404)
    _log_customer_view(standing, member, now)
    page = _draw(ticket, forms, now, standing, problem, live=_live_parts(standing, member, now))
    db.session.commit()  # after rendering: committing expires what the page reads
    return page, status


def _draw(ticket: Ticket, forms: TicketForms, now, standing: queries.TicketStanding, problem: str | None = None,
          live: dict | None = None) -> str:
    member = current_user.staff
    customer = None
    if ticket.customer_id and member.can("customer.view"):
        customer = queries.customer_for_board(ticket.customer_id)
    entries = ticket.entries if member.can("ticket.view_thread") else [
        entry for entry in ticket.entries if entry.kind is EntryKind.EVENT]
    return render_template("board/ticket.html", ticket=ticket, forms=forms, customer=customer, entries=entries,
                           problem=problem, now=now, can_take=_can_take(ticket),
                           details=services.details_of(ticket),
                           extension_limit=standing.extension_limit,
                           cut_from=clocks.deadline_cut_from(ticket), live=live or {})


def _can_take(ticket: Ticket) -> bool:
    return ticket.assignee_id is None and ticket.can_be_taken_by(current_user.staff)


def _done(ticket: Ticket, message: str):
    flash(message, "success")
    if not ticket.can_be_seen_by(current_user.staff):  # moved to a queue this member does not work
        return redirect(url_for(".queue"), 303)
    return redirect(url_for(".ticket", reference=ticket.reference), 303)


def _start_over(ticket: Ticket) -> Ticket:
    """Forget everything this request changed and read the ticket as it is now."""
    ticket_id = inspect(ticket).identity[0]  # without loading: a failed flush leaves nothing loadable
    db.session.rollback()
    return queries.ticket_with_thread(ticket_id)


def _conflict(ticket: Ticket, forms: TicketForms):
    ticket = _start_over(ticket)
    if _saved_by_the_same_form(ticket, forms):
        return _done(ticket, _("Your message was already saved."))
    forms.ticket = ticket
    forms.refresh_after_conflict(ticket)
    return _show(ticket, forms, 409, _("Someone else changed this ticket while you were editing. Nothing of "
                                       "yours was applied. Here is the current state; your text is kept, so "
                                       "check it and send again."))


def _saved_by_the_same_form(ticket: Ticket, forms: TicketForms) -> bool:
    """Whether the posted reply form was stored already (posted twice: the other post stored it)."""
    if forms.posted != "reply":
        return False
    earlier = queries.entry_with_key(forms.reply.submission_key.data)
    return earlier is not None and earlier.ticket_id == ticket.id


def _refused(ticket: Ticket, forms: TicketForms, error: services.TicketRuleError):
    ticket = _start_over(ticket)
    forms.ticket = ticket
    return _show(ticket, forms, 409, str(error.message))


def _posted(reference: str, name: str) -> tuple[Ticket, TicketForms]:
    ticket = _ticket_or_404(reference)
    forms = TicketForms(ticket, posted=name)
    return ticket, forms


def _is_stale(form, ticket: Ticket) -> bool:
    return form.version.data != str(ticket.version)


# Lock errors a colleague's simultaneous save of the same ticket can cause: serialization failure,
# deadlock, lock not available (PostgreSQL), and SQLite's "database is locked".
RACE_SQLSTATES = {"40001", "40P01", "55P03"}


def _lost_race(error: Exception) -> bool:
    """Whether ``error`` means that a colleague's save of the same ticket got there first."""
    if isinstance(error, StaleDataError):
        return True
    original = getattr(error, "orig", None)
    return isinstance(error, OperationalError) and (
        getattr(original, "sqlstate", None) in RACE_SQLSTATES or "database is locked" in str(original))


def _save(ticket: Ticket, forms: TicketForms, change):
    """Apply ``change`` and commit, as one transaction, if the ticket is still as this request read it.

    The ticket is held first (:func:`services.hold_for_change`), so a colleague saving it at the same
    instant is waited for and then seen. Whichever way the race is lost (the version moved on, the
    ORM's version check, a lock error, the same form stored by its twin post), everything is rolled
    back and the page comes back with what was typed. Return (the page that refuses it, None) or
    (None, what ``change`` returned)."""
    try:
        if services.hold_for_change(ticket, ticket.version):
            result = change()
            db.session.flush()
            db.session.commit()
            return None, result
    except services.TicketRuleError as error:
        return _refused(ticket, forms, error), None
    except IntegrityError:
        if forms.posted != "reply":
            raise  # only a reply carries a key that its twin post can have stored first
    except (StaleDataError, OperationalError) as error:
        if not _lost_race(error):
            raise
    return _conflict(ticket, forms), None


@bp.route("/tickets/<reference>/reply", methods=["POST"])
@staff_required("ticket.work")
def reply(reference: str):
    """Reply to the customer (e-mailed) or add an internal note; a form posted twice is stored once."""
    ticket, forms = _posted(reference, "reply")
    form = forms.reply
    if not form.validate_on_submit():
        return _show(ticket, forms, 400)
    if _saved_by_the_same_form(ticket, forms):
        return _done(ticket, _("Your message was already saved."))
    public = form.visibility.data == "public"
    if public and _is_stale(form, ticket):
        return _conflict(ticket, forms)  # read what changed before the customer gets an answer
    refusal, _entry = _save(ticket, forms, lambda: services.add_staff_entry(
        ticket, current_user.staff, form.message.data.strip(), public, clock.now(), form.submission_key.data))
    if refusal is not None:
        return refusal  # a form key that belongs to another ticket is refused as a rule
    return _done(ticket, _("Your reply was sent to the customer.") if public else _("Your internal note was added."))


@bp.route("/tickets/<reference>/update", methods=["POST"])
@staff_required("ticket.route")
def update(reference: str):
    """Change status, assignee or department, unless someone changed the ticket meanwhile."""
    ticket, forms = _posted(reference, "update")
    refusal, changed = _versioned_change(ticket, forms, forms.update, lambda: _apply_update(ticket, forms.update))
    if refusal is not None:
        return refusal
    return _done(ticket, _("The ticket was updated.") if changed else _("Nothing was changed."))


def _versioned_change(ticket: Ticket, forms: TicketForms, form, change):
    """Validate ``form``, refuse it if the ticket changed since the page was drawn, else :func:`_save`
    ``change``. Return (the page that refuses it, None) or (None, what ``change`` returned)."""
    if not form.validate_on_submit():
        return _show(ticket, forms, 400), None
    if _is_stale(form, ticket):
        return _conflict(ticket, forms), None
    return _save(ticket, forms, change)


def _apply_update(ticket: Ticket, form: TicketUpdateForm) -> bool:
    staff, now, version = current_user.staff, clock.now(), ticket.version
    changes = 0
    if "status" in form and form.status.data != ticket.status:
        services.change_status(ticket, staff, TicketStatus(form.status.data), now,
                               (form.reason.data or "").strip() or None)
        changes += 1
    if form.department.data != ticket.department:
        services.change_department(ticket, staff, Department(form.department.data), now)
        changes += 1
    elif form.assignee.data != str(ticket.assignee_id or ""):
        assignee = db.session.get(StaffMember, int(form.assignee.data)) if form.assignee.data else None
        services.assign(ticket, staff, assignee, now)
        changes += 1
    return changes > 0 or ticket.version != version


@bp.route("/tickets/<reference>/take", methods=["POST"])
@staff_required("ticket.work")
def take(reference: str):
    """Take an unassigned ticket; of several members pressing at once, exactly one gets it."""
    ticket, forms = _posted(reference, "take")
    if not ticket.can_be_taken_by(current_user.staff):
        return _refused(ticket, forms, services.TicketRuleError(_("This ticket cannot be taken by you.")))
    # Taken already (perhaps a moment ago, by someone pressing at the same time): the same answer.
    if ticket.assignee_id is not None or not services.take(ticket.id, current_user.staff, clock.now()):
        db.session.rollback()
        ticket = queries.ticket_with_thread(ticket.id)
        holder = ticket.assignee.full_name if ticket.assignee else "—"
        flash(_("Someone else took this ticket first: it is assigned to %(name)s.", name=holder), "error")
        return redirect(url_for(".ticket", reference=ticket.reference), 303)
    db.session.commit()
    return _done(ticket, _("The ticket is yours."))


@bp.route("/tickets/<reference>/extend", methods=["POST"])
@staff_required("ticket.work")
def extend(reference: str):
    """Use the one extension the law allows, with a reason the customer is e-mailed."""
    ticket, forms = _posted(reference, "extend")
    form = forms.extend
    refusal, _result = _versioned_change(ticket, forms, form, lambda: services.extend_deadline(
        ticket, current_user.staff, form.days.data, form.reason.data, clock.now()))
    if refusal is not None:
        return refusal
    return _done(ticket, _("The deadline was extended and the customer was told why."))


@bp.route("/tickets/<reference>/longer-period", methods=["POST"])
@staff_required("ticket.work")
def longer_period(reference: str):
    """Apply the longer period the law gives when a processor or third party must act."""
    ticket, forms = _posted(reference, "longer")
    form = forms.longer
    refusal, _result = _versioned_change(ticket, forms, form, lambda: services.apply_longer_period(
        ticket, current_user.staff, form.reason.data, clock.now()))
    if refusal is not None:
        return refusal
    return _done(ticket, _("The longer period applies and the customer was told why."))


@bp.route("/tickets/<reference>/link", methods=["POST"])
@staff_required("customer.view")
def link_customer(reference: str):
    """Attach a ticket filed from an address we did not know to the customer's record."""
    ticket, forms = _posted(reference, "link")
    form = forms.link
    if not current_user.can("ticket.work"):
        abort(404)
    if not form.validate_on_submit():
        return _show(ticket, forms, 400)
    if _is_stale(form, ticket):
        return _conflict(ticket, forms)
    if not services.contact_matches(int(form.customer_id.data), form.contact.data):
        form.customer_id.errors.append(_("No customer has this number with that phone number or e-mail address."))
        return _show(ticket, forms, 400)
    refusal, _result = _save(ticket, forms, lambda: services.link_customer(
        ticket, current_user.staff, int(form.customer_id.data), clock.now()))
    if refusal is not None:
        return refusal
    return _done(ticket, _("The ticket is now linked to the customer's record."))
