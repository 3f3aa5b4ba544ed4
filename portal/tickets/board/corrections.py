"""The board's part in corrections: approve or reject the full name a customer proposed, from the
ticket page (the correction kind's staff partial posts here)."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import HiddenField, TextAreaField
from wtforms.validators import AnyOf, InputRequired, Length

from portal import clock
from portal.access import staff_required
from portal.forms import PortalForm, no_control_characters
from portal.tickets import corrections
from portal.tickets.board import bp
from portal.tickets.board.decisions import decide
from portal.tickets.forms import MESSAGE_MAX


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
    def apply(ticket, form):
        approve = form.decision.data == "approve"
        corrections.decide_name(ticket, current_user.staff, approve, form.reason.data, clock.now())
        return approve

    return decide(reference, NameDecisionForm, apply, anchor="h-correction", success=lambda approve: (
        _("The new name is in the record and the customer is told.") if approve
        else _("The customer is told the name was not changed, and why.")))
