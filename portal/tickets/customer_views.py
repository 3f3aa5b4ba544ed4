"""The customer's side of tickets: file a request, follow it, answer."""

from __future__ import annotations

import secrets

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from portal import clock
from portal.access import customer_required
from portal.auth.services import keyed_hash
from portal.db import db
from portal.enums import TicketKind
from portal.extensions import limiter
from portal.tickets import services
from portal.tickets.forms import NewRequestForm, ReplyForm

bp = Blueprint("requests", __name__, url_prefix="/requests")

# Events of the thread a customer sees; routing and assignment are the company's business.
CUSTOMER_EVENTS = {"created", "status", "due_changed"}


def _per_customer_key() -> str:
    return "customer:" + keyed_hash(getattr(current_user, "email", "") or "anonymous")


def _customer_limit() -> str:
    return current_app.config["REQUEST_POSTS_PER_CUSTOMER"]


def _client_limit() -> str:
    return current_app.config["REQUEST_POSTS_PER_CLIENT"]


def _owner() -> tuple[str, int | None]:
    return current_user.email, current_user.session_row.customer_id


def _new_key() -> str:
    return secrets.token_hex(16)


@bp.route("/")
@customer_required
def index():
    """List the customer's requests with status and due date."""
    return render_template("requests/index.html", tickets=services.customer_tickets(*_owner()))


@bp.route("/new", methods=["GET", "POST"])
@customer_required
@limiter.limit(_customer_limit, key_func=_per_customer_key, methods=["POST"])
@limiter.limit(_client_limit, methods=["POST"])
def new():
    """File a request; its reference is shown and e-mailed."""
    form = NewRequestForm()
    if not form.is_submitted():
        form.submission_key.data = _new_key()
    if not form.validate_on_submit():
        return render_template("requests/new.html", form=form), 400 if form.errors else 200
    email, customer_id = _owner()
    try:
        ticket, created = _saved(lambda: services.create_ticket(
            kind=TicketKind(form.kind.data), body=form.message.data.strip(), requester_email=email,
            customer_id=customer_id, locale=str(get_locale()), now=clock.now(),
            submission_key=form.submission_key.data))
    except services.TicketRuleError as error:
        db.session.rollback()
        form.submission_key.errors.append(str(error.message))
        form.submission_key.data = _new_key()
        return render_template("requests/new.html", form=form), 400
    if created:
        flash(_("Your request is filed. Its reference is %(reference)s.", reference=ticket.reference), "success")
    else:
        flash(_("You already have an open request of this kind (%(reference)s): your message was added to it.",
                reference=ticket.reference), "info")
    return redirect(url_for(".show", reference=ticket.reference), 303)


def _saved(change):
    """Run ``change`` and commit; if a colleague changed the ticket at the same moment (stale version)
    or the same form arrived twice (its key is taken), start again once from what is now stored:
    the customer's message is never lost and never stored twice."""
    try:
        result = change()
        db.session.commit()
        return result
    except (StaleDataError, IntegrityError):
        db.session.rollback()
    result = change()  # a second failure is a real error, shown as one
    db.session.commit()
    return result


def _own_ticket_or_404(reference: str):
    ticket = services.find_customer_ticket(reference, *_owner())
    if ticket is None:
        abort(404)
    return ticket


@bp.route("/<reference>")
@customer_required
def show(reference: str):
    """One request: status, dates, and the thread without internal notes."""
    ticket = _own_ticket_or_404(reference)
    form = ReplyForm(submission_key=_new_key())
    return _render_ticket(ticket, form)


def _render_ticket(ticket, form, status: int = 200):
    entries = [entry for entry in ticket.entries
               if entry.kind in ("customer_message", "staff_reply")
               or (entry.kind == "event" and entry.event in CUSTOMER_EVENTS)]
    return render_template("requests/show.html", ticket=ticket, entries=entries, form=form), status


@bp.route("/<reference>/reply", methods=["POST"])
@customer_required
@limiter.limit(_customer_limit, key_func=_per_customer_key)
@limiter.limit(_client_limit)
def reply(reference: str):
    """Answer staff; a reply reopens a resolved request."""
    ticket = _own_ticket_or_404(reference)
    form = ReplyForm()
    if not form.validate_on_submit():
        return _render_ticket(ticket, form, 400)
    reference, body, key = ticket.reference, form.message.data.strip(), form.submission_key.data
    try:
        _saved(lambda: services.add_customer_message(_own_ticket_or_404(reference), body, clock.now(), key))
    except services.TicketRuleError as error:
        db.session.rollback()
        form.message.errors.append(str(error.message))
        return _render_ticket(_own_ticket_or_404(reference), form, 409)
    flash(_("Your reply was sent."), "success")
    return redirect(url_for(".show", reference=ticket.reference), 303)
