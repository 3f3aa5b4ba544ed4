"""The customer's side of tickets: file a request, follow it, answer."""

from __future__ import annotations

import secrets

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from portal import clock, page_cache
from portal.access import customer_required
from portal.db import db
from portal.enums import EntryKind
from portal.extensions import limiter, on_posts
from portal.hashing import keyed_hash
from portal.tickets import services
from portal.tickets.filed import say_filed
from portal.tickets.forms import NewRequestForm, ReplyForm, RequestMessageForm
from portal.tickets.kinds import DetailsNotStored, UnknownKind, customer_kinds, get_kind

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
    return current_user.email, current_user.customer_id


def _new_key() -> str:
    return secrets.token_hex(16)


@bp.route("/")
@customer_required
def index():
    """List the customer's requests with status and due date."""
    version = services.customer_tickets_version(*_owner())
    return page_cache.serve((*_customer_key(), *version), lambda values: render_template(
        "requests/index.html", tickets=services.customer_tickets(*_owner())))


def _customer_key() -> tuple:
    """Who asks, as the page cache keys a customer's own pages."""
    return ("customer", current_user.customer_id, current_user.customer_since, current_user.email)


def _message_kinds():
    """The kinds filed with the plain message form: "New request" offers them in one list."""
    return [kind for kind in customer_kinds() if kind.customer_form is RequestMessageForm]


@bp.route("/new", methods=["GET", "POST"])
@customer_required
@on_posts(limiter.limit(_customer_limit, key_func=_per_customer_key, methods=["POST"]),
          limiter.limit(_client_limit, methods=["POST"]))
def new():
    """File a request; its reference is shown and e-mailed."""
    kinds = _message_kinds()
    form = NewRequestForm(kinds)
    if not form.is_submitted():
        form.submission_key.data = _new_key()
    if not form.validate_on_submit():
        return render_template("requests/new.html", form=form, other_kinds=_kinds_with_own_forms()), \
            400 if form.errors else 200
    return _file(get_kind(form.kind.data), form, "requests/new.html")


def _kinds_with_own_forms():
    return [kind for kind in customer_kinds() if kind.customer_form is not RequestMessageForm]


@bp.route("/new/<code>", methods=["GET", "POST"])
@customer_required
@on_posts(limiter.limit(_customer_limit, key_func=_per_customer_key, methods=["POST"]),
          limiter.limit(_client_limit, methods=["POST"]))
def new_of_kind(code: str):
    """File a request of one kind, with that kind's own form."""
    try:
        kind = get_kind(code)
    except UnknownKind:
        abort(404)
    if not kind.is_filed_by_customers:
        abort(404)
    form = kind.customer_form()
    if not form.is_submitted():
        form.submission_key.data = _new_key()
    if not form.validate_on_submit():
        return render_template("requests/new_of_kind.html", form=form, kind=kind), 400 if form.errors else 200
    return _file(kind, form, "requests/new_of_kind.html")


def _file(kind, form, template: str):
    """File the request the valid ``form`` describes, then show it."""
    email, customer_id = _owner()
    try:
        ticket, created = _saved(lambda: services.create_ticket(
            kind=kind, body=kind.first_message(form), requester_email=email, customer_id=customer_id,
            locale=str(get_locale()), now=clock.now(), submission_key=form.submission_key.data,
            details=kind.details_from(form)))
    except (services.TicketRuleError, DetailsNotStored) as error:
        db.session.rollback()
        field = getattr(form, getattr(error, "field", None) or "submission_key")
        field.errors = [*field.errors, str(error.message)]
        form.submission_key.data = _new_key()
        status = 503 if isinstance(error, DetailsNotStored) else 400
        return render_template(template, form=form, kind=kind, other_kinds=_kinds_with_own_forms()), status
    say_filed(ticket, created)
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
    version = services.customer_ticket_version(reference, *_owner())
    if version is None:
        abort(404)

    def draw(values) -> str:
        form = ReplyForm(submission_key=values["submission_key"])
        return _render_ticket(_own_ticket_or_404(reference), form)[0]

    return page_cache.serve((*_customer_key(), *version), draw, fresh={"submission_key": _new_key})


def _render_ticket(ticket, form, status: int = 200):
    entries = [entry for entry in ticket.entries
               if entry.kind in (EntryKind.CUSTOMER_MESSAGE, EntryKind.STAFF_REPLY)
               or (entry.kind is EntryKind.EVENT and entry.event in CUSTOMER_EVENTS)]
    return render_template("requests/show.html", ticket=ticket, entries=entries, form=form,
                           details=services.details_of(ticket)), status


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
