"""The board's part in corrections: approve or reject the full name a customer proposed, from the
ticket page (the correction kind's staff partial posts here)."""

from __future__ import annotations

from flask import abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError
from wtforms import HiddenField, TextAreaField
from wtforms.validators import AnyOf, InputRequired, Length

from portal import clock
from portal.access import staff_required
from portal.db import db
from portal.forms import PortalForm, no_control_characters
from portal.tickets import corrections, services
from portal.tickets.board import bp, queries
from portal.tickets.forms import MESSAGE_MAX

STALE = _l("Someone else changed this ticket while you were deciding. Nothing was applied: check the "
           "ticket as it is now and decide again.")


class NameDecisionForm(PortalForm):
    decision = HiddenField(validators=[InputRequired(), AnyOf(("approve", "reject"))])
    reason = TextAreaField(_l("Reason, if you refuse (e-mailed to the customer)"),
                           validators=[Length(max=MESSAGE_MAX), no_control_characters])
    version = HiddenField(validators=[InputRequired()])


@bp.app_context_processor
def _name_decision_form():
    """The ticket page's correction partial draws the decision form with this."""
    return {"name_decision_form": NameDecisionForm}


@bp.route("/tickets/<reference>/name", methods=["POST"])
@staff_required("ticket.work")
def decide_name(reference: str):
    """Approve or reject the proposed full name on a correction request."""
    ticket = queries.find_ticket(reference, current_user.staff)
    if ticket is None or not ticket.can_be_worked_by(current_user.staff):
        abort(404)
    form = NameDecisionForm()
    back = redirect(url_for(".ticket", reference=ticket.reference) + "#h-correction", 303)
    if not form.validate_on_submit():
        flash(" ".join(str(error) for errors in form.errors.values() for error in errors), "error")
        return back
    approve = form.decision.data == "approve"
    try:
        if form.version.data != str(ticket.version) or not services.hold_for_change(ticket, ticket.version):
            raise StaleDataError()
        corrections.decide_name(ticket, current_user.staff, approve, form.reason.data, clock.now())
        db.session.commit()
    except services.TicketRuleError as error:
        db.session.rollback()
        flash(str(error.message), "error")
        return back
    except StaleDataError:
        db.session.rollback()
        flash(str(STALE), "error")
        return back
    flash(_("The new name is in the record and the customer is told.") if approve
          else _("The customer is told the name was not changed, and why."), "success")
    return back
