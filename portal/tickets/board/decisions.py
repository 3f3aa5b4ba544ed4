"""A decision a member posts from a kind's staff partial on the ticket page — approve a name, an
erasure, a restriction, answer a complaint — applied in one place: the ticket must be one this
member works (and of the kinds, if named), the form valid and drawn from the ticket as it is now; a
rule the decision breaks or a colleague's change in the meantime rolls everything back and says so.
Every outcome goes back to the ticket page with its message."""

from __future__ import annotations

from collections.abc import Callable, Collection

from flask import abort, flash, redirect, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.exc import StaleDataError

from portal.db import db
from portal.tickets import services
from portal.tickets.board import queries

CHANGED_MEANWHILE = _l("Someone else changed this ticket meanwhile. Nothing was applied: check it as it is "
                       "now and try again.")
FORM_DAMAGED = _l("Reload the page and try again.")


def decide(reference: str, form_class, apply: Callable, success: Callable[[object], str], *,
           kinds: Collection[str] | None = None, anchor: str = "", after: Callable[[object], None] | None = None):
    """Apply ``apply(ticket, form)`` to the ticket ``reference`` and commit once; then ``after`` (work
    that commits on its own) and the message ``success(result)``. ``kinds`` limits the decision to
    tickets of those kinds (any other answers 404, as an unknown ticket does)."""
    member = current_user.staff
    ticket = queries.find_ticket(reference, member)
    if ticket is None or not ticket.can_be_worked_by(member) or (kinds is not None and str(ticket.kind) not in kinds):
        abort(404)
    back = redirect(url_for("board.ticket", reference=ticket.reference) + (f"#{anchor}" if anchor else ""), 303)
    form = form_class()
    if not form.validate_on_submit():
        errors = [str(error) for field in form if field.name not in ("version", "csrf_token")
                  for error in field.errors]
        flash(" ".join(errors) or str(FORM_DAMAGED), "error")
        return back
    try:
        if form.version.data != str(ticket.version) or not services.hold_for_change(ticket, ticket.version):
            raise StaleDataError()
        result = apply(ticket, form)
        db.session.commit()
    except services.TicketRuleError as error:
        db.session.rollback()
        flash(str(error.message), "error")
        return back
    except (StaleDataError, OperationalError):
        db.session.rollback()
        flash(str(CHANGED_MEANWHILE), "error")
        return back
    if after is not None:
        after(result)
    flash(success(result), "success")
    return back
