"""My data's edit pages: a contact point, the notes, a new name; and the link that confirms a new
e-mail address. Each page reads its form, calls :mod:`portal.account.corrections` and commits once."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError

from portal import clock
from portal.access import customer_required
from portal.account import bp, corrections
from portal.account.corrections import CorrectionRefused, Corrector
from portal.account.forms import NameForm, NotesForm, RemoveForm, contact_form
from portal.account.models import KINDS_BY_CHANNEL, Customer
from portal.contact_values import join_address, split_address
from portal.db import db
from portal.email_links import find
from portal.enums import Channel
from portal.extensions import limiter
from portal.forms import PortalForm
from portal.hashing import keyed_hash


def _per_customer_key() -> str:
    return "correction:" + keyed_hash(getattr(current_user, "email", "") or "anonymous")


def _posts_per_customer() -> str:
    return current_app.config["REQUEST_POSTS_PER_CUSTOMER"]


def _posts_per_client() -> str:
    return current_app.config["REQUEST_POSTS_PER_CLIENT"]


def _limited(view):
    view = limiter.limit(_posts_per_client, methods=["POST"])(view)
    return limiter.limit(_posts_per_customer, key_func=_per_customer_key, methods=["POST"])(view)


def _corrector() -> Corrector:
    """The signed-in customer's record, to change (404 for an address we hold no record for)."""
    if current_user.customer_id is None:
        abort(404)
    return Corrector(db.session.get(Customer, current_user.customer_id), current_user.email, str(get_locale()))


def _own_point_or_404(point_id: int):
    point = corrections.own_contact_point(current_user.customer_id or 0, point_id)
    if point is None:
        abort(404)
    return point


def _channel_or_404(code: str) -> Channel:
    try:
        return Channel(code)
    except ValueError:
        abort(404)


def _saved(change, message: str):
    """Run ``change`` and commit; a refusal (or a colleague's save at the same moment) rolls back
    everything and is returned as the message to show."""
    try:
        result = change()
        db.session.commit()
    except CorrectionRefused as refused:
        db.session.rollback()
        return None, str(refused.message)
    except StaleDataError:
        db.session.rollback()
        return None, str(corrections.STALE)
    if message:
        flash(message, "success")
    return result, None


def _values(form, channel: Channel) -> tuple[str, str]:
    """The value a valid contact form gives, and its form for comparison."""
    if channel is Channel.ADDRESS:
        line = join_address(form.street.data, form.ward.data, form.province.data)
        return line, line.casefold()
    return form.normalized, form.normalized


def _fill(form, point) -> None:
    form.kind.data, form.version.data = str(point.kind), str(point.version)
    if point.channel is Channel.ADDRESS:
        form.street.data, form.ward.data, form.province.data = split_address(point.value)
    else:
        form.value.data = corrections.shown_value(point.channel, point.value)


def _contact_page(form, channel: Channel, point=None, problem: str | None = None, status: int = 200):
    current = corrections.shown_value(point.channel, point.value) if point is not None else None
    return render_template("account/edit_contact.html", form=form, channel=channel, point=point, current=current,
                           problem=problem), status


@bp.route("/my-data/contacts/<int:point_id>", methods=["GET", "POST"])
@customer_required
@_limited
def edit_contact(point_id: int):
    """Change one of the customer's contact points (an e-mail address only once confirmed)."""
    who, point = _corrector(), _own_point_or_404(point_id)
    channel = point.channel
    form = contact_form(channel)
    if not form.is_submitted():
        _fill(form, point)
    if not form.validate_on_submit():
        return _contact_page(form, channel, point, status=400 if form.errors else 200)
    value, normalized = _values(form, channel)
    if channel is Channel.EMAIL:
        return _asked(who, form, point, value)
    done, problem = _saved(lambda: corrections.change_contact_point(
        who, point, kind=form.kind.data, value=value, normalized=normalized, version=form.version.data,
        now=clock.now()), _("Saved. Our customer care team is told, so visits and deliveries use it."))
    return _back_or_again(problem, channel, point_id)


def _back_or_again(problem, channel, point_id=None):
    if problem is None:
        return redirect(url_for(".my_data") + "#h-contacts", 303)
    point = _own_point_or_404(point_id) if point_id else None  # as it is now
    form = contact_form(channel, formdata=None)
    if point is not None:
        _fill(form, point)
    return _contact_page(form, channel, point, problem, 409)


def _asked(who, form, point, address):
    link, problem = _saved(lambda: corrections.ask_to_confirm_email(
        who, point, kind=form.kind.data, address=address, normalized=address, version=form.version.data,
        now=clock.now()), "")
    if problem is not None:
        if point is None:  # a new address: the form again, as typed
            return _contact_page(form, Channel.EMAIL, problem=problem, status=409)
        return _back_or_again(problem, Channel.EMAIL, point.id)
    if link is None:
        flash(_("Saved."), "success")
    else:
        flash(_("We sent a link to %(address)s. The new address takes effect when you open it; until then we "
                "keep using the one we have.", address=address), "info")
    return redirect(url_for(".my_data") + "#h-contacts", 303)


@bp.route("/my-data/contacts/new/<channel>", methods=["GET", "POST"])
@customer_required
@_limited
def add_contact(channel: str):
    """Add an address, a phone number or an e-mail address (confirmed by a link) of a kind."""
    who, channel = _corrector(), _channel_or_404(channel)
    form = contact_form(channel)
    if not form.is_submitted():
        form.version.data, form.kind.data = "0", str(KINDS_BY_CHANNEL[channel][0])
    if not form.validate_on_submit():
        return _contact_page(form, channel, status=400 if form.errors else 200)
    value, normalized = _values(form, channel)
    if channel is Channel.EMAIL:
        return _asked(who, form, None, value)
    _done, problem = _saved(lambda: corrections.add_contact_point(
        who, channel, kind=form.kind.data, value=value, normalized=normalized, now=clock.now()),
        _("Added. Our customer care team is told."))
    if problem is not None:
        return _contact_page(form, channel, problem=problem, status=409)
    return redirect(url_for(".my_data") + "#h-contacts", 303)


def _remove_page(point, form, problem=None, status: int = 200):
    signed_in_with = corrections.is_signed_in_with(point, current_user.email)
    return render_template("account/remove_contact.html", point=point, form=form, problem=problem,
                           shown=corrections.shown_value(point.channel, point.value),
                           signed_in_with=signed_in_with), status


@bp.route("/my-data/contacts/<int:point_id>/remove", methods=["GET", "POST"])
@customer_required
@_limited
def remove_contact(point_id: int):
    """Remove one of the customer's contact points: a GET asks to confirm (saying what it is and what
    follows), the POST of that page removes it. The address signed in with is never removed."""
    who, point = _corrector(), _own_point_or_404(point_id)
    form = RemoveForm()
    if not form.is_submitted():
        form.version.data = str(point.version)
        return _remove_page(point, form)
    if not form.validate():
        form.version.data = str(point.version)
        return _remove_page(point, form, _("This form is damaged or has expired. Nothing was removed: try again."),
                            400)
    _done, problem = _saved(lambda: corrections.remove_contact_point(who, point, form.version.data, clock.now()),
                            _("Removed. Our customer care team is told."))
    if problem is None:
        return redirect(url_for(".my_data") + "#h-contacts", 303)
    point = corrections.own_contact_point(current_user.customer_id, point_id)  # as it is now
    if point is None:  # removed meanwhile, in another tab
        flash(problem, "error")
        return redirect(url_for(".my_data") + "#h-contacts", 303)
    form = RemoveForm(formdata=None, version=str(point.version))
    return _remove_page(point, form, problem, 409)


@bp.route("/my-data/notes", methods=["GET", "POST"])
@customer_required
@_limited
def edit_notes():
    """Change the record's notes."""
    who = _corrector()
    form = NotesForm()
    if not form.is_submitted():
        form.notes.data, form.version.data = who.customer.notes, corrections.fingerprint(who.customer.notes)
    if form.validate_on_submit():
        _done, problem = _saved(lambda: corrections.change_notes(who, form.notes.data, form.version.data,
                                                                  clock.now()), _("Saved."))
        if problem is None:
            return redirect(url_for(".my_data") + "#h-identity", 303)
        who = _corrector()
        form = NotesForm(formdata=None, notes=who.customer.notes, version=corrections.fingerprint(who.customer.notes))
        return render_template("account/edit_notes.html", form=form, problem=problem), 409
    return render_template("account/edit_notes.html", form=form), 400 if form.errors else 200


@bp.route("/my-data/name", methods=["GET", "POST"])
@customer_required
@_limited
def propose_name():
    """Ask for the record's full name to be changed (staff review it)."""
    who = _corrector()
    form = NameForm()
    if not form.is_submitted():
        form.full_name.data = who.customer.proposed_full_name or who.customer.full_name
        form.version.data = corrections.name_version(who.customer)
    if form.validate_on_submit():
        reference, problem = _saved(lambda: corrections.propose_name(who, form.full_name.data, form.version.data,
                                                                     clock.now()), "")
        if problem is None:
            flash(_("Thank you. We check the new name and tell you our decision (request %(reference)s).",
                    reference=reference or "—"), "success")
            return redirect(url_for(".my_data") + "#h-identity", 303)
        who = _corrector()
        form.version.data = corrections.name_version(who.customer)
        form.full_name.errors = [problem]
        return render_template("account/propose_name.html", form=form, customer=who.customer), 409
    return render_template("account/propose_name.html", form=form, customer=who.customer), \
        400 if form.errors else 200


@bp.route("/my-data/email/<token>", methods=["GET", "POST"])
@limiter.limit(_posts_per_client, methods=["POST"])  # whoever opens it may be signed in as nobody
def confirm_email(token: str):
    """The link sent to a new e-mail address: a GET shows a button (mail scanners open links), the
    POST makes the address take effect."""
    link = find(token, corrections.EMAIL_CHANGE)
    form = PortalForm()
    if link is None or not link.is_usable(clock.now()):
        return render_template("account/confirm_email.html", problem=corrections.LINK_UNUSABLE), 404
    if not form.validate_on_submit():
        return render_template("account/confirm_email.html", form=form, address=link.email), \
            400 if form.errors else 200
    own = getattr(current_user, "customer_id", None) == link.customer_id
    session_id = current_user.session_id if own else None
    _done, problem = _saved(lambda: corrections.confirm_email(link, clock.now(), session_id), "")
    if problem is not None:
        return render_template("account/confirm_email.html", problem=problem), 409
    return render_template("account/confirm_email.html", confirmed=True, address=link.email)
