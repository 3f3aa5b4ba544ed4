"""The customer's pages for a copy of their data and for deletion, the fresh-code step, and the
staff's decisions on erasure and restriction tickets (posted from the kinds' partials on the ticket
page)."""

from __future__ import annotations

import json
import secrets

from flask import abort, current_app, make_response, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from portal import clock
from portal.access import customer_required, staff_required
from portal.account.models import Customer, bump_data_versions
from portal.auth.forms import FreshCodeForm, FreshCodeRequestForm
from portal.auth.fresh import (
    ask_for_fresh_code,
    confirm_fresh_code,
    fresh_attempts_left,
    fresh_sign_in_required,
    send_fresh_code,
)
from portal.auth.services import CodeResult
from portal.db import db
from portal.extensions import limiter
from portal.hashing import keyed_hash
from portal.offers import Offer, offers_from
from portal.rights import bp, erasure, services
from portal.rights.forms import CopyForm, DeletionForm, StaffDecisionForm, TicketLiftForm
from portal.rights.models import REASONS, CopyFormat
from portal.rights.printable import readable_copy
from portal.security import safe_next_path
from portal.tickets import services as tickets
from portal.tickets.board.decisions import decide
from portal.tickets.filed import say_filed
from portal.tickets.kinds.erasure import ErasureRequest
from portal.tickets.models import OPEN_STATUSES, Ticket


@offers_from
def _rights_offers():
    """A copy works: the home page may promise it. Deletion is asked for from My data; the home page
    promises a kind only once customers file it with a form of the kind's own (tests/test_customer_journey.py)."""
    return [Offer(45, _l("Download a copy of your data"))]


@bp.app_template_global()
def data_copies(customer_id: int):
    """The copies the customer downloaded, newest first (My data lists them)."""
    return services.copies_of(customer_id)


@bp.app_template_global()
def lift_restriction_form():
    """An empty form to lift a restriction (the restriction request's partial on the ticket page)."""
    return TicketLiftForm(formdata=None)


@bp.app_template_global()
def erasure_kept(ticket_id: int):
    """What an erasure kept, why and until when (the erasure ticket's partials show it)."""
    return erasure.kept_items(ticket_id)


# --- the fresh sign-in step -------------------------------------------------------------------------

def _fresh_key() -> str:
    return "fresh:" + keyed_hash(str(getattr(current_user, "session_id", "")))


def _fresh_code_limit() -> str:
    return current_app.config["FRESH_CODES_PER_SESSION"]


def _attempt_limit() -> str:
    return current_app.config["SIGN_IN_ATTEMPTS_PER_CLIENT"]


@bp.route("/confirm-it-is-you/send", methods=["POST"])
@customer_required
@limiter.limit(_fresh_code_limit, key_func=_fresh_key)
def send_fresh():
    """E-mail a fresh code to the signed-in address and ask for it."""
    form = FreshCodeRequestForm()
    next_path = safe_next_path(form.next.data) or url_for("account.my_data")
    if not form.validate_on_submit():
        return ask_for_fresh_code(status=400, next_path=next_path)
    send_fresh_code(current_user, str(get_locale()), clock.now())
    db.session.commit()
    return ask_for_fresh_code(sent=True, next_path=next_path)


@bp.route("/confirm-it-is-you/code", methods=["POST"])
@customer_required
@limiter.limit(_attempt_limit)
def enter_fresh_code():
    """Check the fresh code; a right one goes back to the page that asked for it."""
    form = FreshCodeForm()
    next_path = safe_next_path(form.next.data) or url_for("account.my_data")
    if not form.validate_on_submit():
        return ask_for_fresh_code(form, sent=True, status=400, next_path=next_path)
    result = confirm_fresh_code(current_user, form.code.data, clock.now())
    db.session.commit()  # a wrong code counts even though the page shows an error
    if result is CodeResult.ACCEPTED:
        return redirect(next_path, 303)
    if result is CodeResult.WRONG:
        left = fresh_attempts_left(current_user)
        form.code.errors.append(_("That code is not right. Attempts left: %(num)d.", num=left))
    else:
        form.code.errors.append(_("This code no longer works (too old, used, or too many wrong tries). Ask for a "
                                  "new one below."))
    return ask_for_fresh_code(form, sent=True, status=400, next_path=next_path)


# --- a copy of the data -----------------------------------------------------------------------------

@bp.route("/my-data/copy")
@customer_required
@fresh_sign_in_required
def copy():
    """Offer a copy of everything held about the customer, as a file or a printable page."""
    return render_template("rights/copy.html", form=CopyForm(formdata=None), has_record=current_user.customer_id)


@bp.route("/my-data/copy", methods=["POST"])
@customer_required
@fresh_sign_in_required
def download_copy():
    """Hand over the copy and log the download."""
    form = CopyForm()
    if current_user.customer_id is None:
        abort(404)
    if not form.validate_on_submit():
        return render_template("rights/copy.html", form=form, has_record=True), 400
    now = clock.now()
    customer = db.session.get(Customer, current_user.customer_id)
    data = services.copy_of_data(customer, current_user.email, now)
    copy_format = CopyFormat(form.format.data)
    services.record_copy(current_user, customer.id, copy_format, now)
    bump_data_versions(db.session.connection(), [customer.id])
    db.session.commit()
    if copy_format is CopyFormat.PRINT:
        return render_template("rights/copy_print.html", data=readable_copy(data), customer=customer)
    response = make_response(json.dumps(data, ensure_ascii=False, indent=2))
    response.headers["Content-Type"] = "application/json; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="khoingo-my-data-{now:%Y-%m-%d}.json"'
    return response


# --- deletion ----------------------------------------------------------------------------------------

def _deletion_page(form, status: int = 200):
    customer = db.session.get(Customer, current_user.customer_id) if current_user.customer_id else None
    plan = erasure.retention_plan(customer, clock.now().date()) if customer else {}
    open_count = db.session.scalar(select(db.func.count(Ticket.id)).where(
        Ticket.customer_id == current_user.customer_id, Ticket.status.in_(OPEN_STATUSES))) if customer else 0
    return render_template("rights/delete.html", form=form, customer=customer, plan=plan, reasons=REASONS,
                           open_count=open_count), status


@bp.route("/my-data/delete", methods=["GET", "POST"])
@customer_required
@fresh_sign_in_required
def delete():
    """Explain what deleting the data means, and file the request for it."""
    form = DeletionForm()
    if not form.is_submitted():
        form.submission_key.data = secrets.token_hex(16)
        return _deletion_page(form)
    if current_user.customer_id is None:
        abort(404)
    if not form.validate_on_submit():
        return _deletion_page(form, 400)
    ticket, created = _file_erasure(form)
    say_filed(ticket, created)
    return redirect(url_for("requests.show", reference=ticket.reference), 303)


def _file_erasure(form):
    body = (form.message.data or "").strip() or _("Please delete my personal data.")

    def file():
        return tickets.create_ticket(
            kind="erasure", body=body, requester_email=current_user.email, customer_id=current_user.customer_id,
            locale=str(get_locale()), now=clock.now(), submission_key=form.submission_key.data,
            details=ErasureRequest(verified_customer_id=current_user.customer_id))

    try:
        result = file()
        db.session.commit()
    except (StaleDataError, IntegrityError):
        db.session.rollback()  # the same form twice, or a colleague's change: once more from what is stored
        result = file()
        db.session.commit()
    return result


# --- staff decisions -----------------------------------------------------------------------------

def _approve(ticket, form):
    return erasure.approve(ticket, current_user.staff, clock.now())


def _carry_out(details) -> None:
    """Carry the erasure out, step by step, each step committed with its record."""
    erasure.carry_out(db.session.get(ErasureRequest, details.ticket_id), clock.now(), db.session.commit)


def _apply_restriction(ticket, form):
    return services.apply_restriction(ticket, current_user.staff, clock.now())


def _lift(ticket, form):
    details = tickets.details_of(ticket)
    if ticket.customer_id is None or details is None or details.what != "restriction" or details.applied_at is None:
        raise tickets.TicketRuleError(NOT_APPLIED)
    customer = db.session.get(Customer, ticket.customer_id)
    try:
        return services.lift_restriction(customer, current_user.staff, form.reason.data, clock.now())
    except services.RightsProblem as problem:
        raise tickets.TicketRuleError(problem.args[0]) from None


NOT_APPLIED = _l("Only a restriction of all processing that was applied to the record can be lifted.")


@bp.route("/board/tickets/<reference>/erasure/approve", methods=["POST"])
@staff_required("ticket.work")
def approve_erasure(reference: str):
    """Approve an erasure: erase at once what nothing requires, restrict what must be kept."""
    return decide(reference, StaffDecisionForm, _approve, kinds=("erasure",), after=_carry_out, success=lambda _d: _(
        "The erasure was carried out and the customer was told what is kept."))


@bp.route("/board/tickets/<reference>/restriction/apply", methods=["POST"])
@staff_required("ticket.work")
def apply_restriction(reference: str):
    """Apply the restriction or objection the customer asked for."""
    return decide(reference, StaffDecisionForm, _apply_restriction, kinds=("restriction",), success=lambda _d: _(
        "Applied. The record now shows it to every member of staff."))


@bp.route("/board/tickets/<reference>/restriction/lift", methods=["POST"])
@staff_required("restriction.lift")
def lift_restriction(reference: str):
    """Lift the restriction the customer asked for, with the reason they are e-mailed."""
    return decide(reference, TicketLiftForm, _lift, kinds=("restriction",), success=lambda _d: _(
        "The restriction is lifted, and the customer was e-mailed the reason."))
