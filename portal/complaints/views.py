"""The board answers a complaint or a misuse report (the kinds' staff partials post here)."""

from __future__ import annotations

from flask import abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError

from portal import clock
from portal.access import staff_required
from portal.complaints import bp, services
from portal.complaints.forms import AnswerForm
from portal.db import db
from portal.tickets import services as tickets
from portal.tickets.board import queries

STALE = _l("Someone else changed this ticket while you were writing. Nothing was recorded: check the "
           "ticket as it is now and answer again.")


@bp.app_context_processor
def _answer_form():
    """The complaint partials draw the answer form with this."""
    return {"complaint_answer_form": AnswerForm}


@bp.route("/<reference>/answer", methods=["POST"])
@staff_required("ticket.work")
def answer(reference: str):
    """Record the finding, its reason and the remedy, and resolve the ticket."""
    ticket = queries.find_ticket(reference, current_user.staff)
    if ticket is None or not ticket.can_be_worked_by(current_user.staff) \
            or str(ticket.kind) not in services.COMPLAINT_KINDS:
        abort(404)
    form = AnswerForm()
    back = redirect(url_for("board.ticket", reference=ticket.reference) + "#h-complaint-answer", 303)
    if not form.validate_on_submit():
        flash(" ".join(str(error) for errors in form.errors.values() for error in errors), "error")
        return back
    try:
        if form.version.data != str(ticket.version) or not tickets.hold_for_change(ticket, ticket.version):
            raise StaleDataError()
        services.answer(ticket, current_user.staff, form.finding.data, form.reason.data, form.remedy.data,
                        clock.now())
        db.session.commit()
    except tickets.TicketRuleError as error:
        db.session.rollback()
        flash(str(error.message), "error")
        return back
    except StaleDataError:
        db.session.rollback()
        flash(str(STALE), "error")
        return back
    flash(_("The answer is recorded, the request resolved and the customer told."), "success")
    return back
