"""The board answers a complaint or a misuse report (the kinds' staff partials post here)."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError

from portal import clock
from portal.access import customer_required, staff_required
from portal.audit.services import record
from portal.complaints import bp, services
from portal.complaints.forms import AnswerForm
from portal.db import db
from portal.tickets import services as tickets
from portal.tickets.board import queries
from portal.tickets.kinds.leak_complaint import EvidenceFile

STALE = _l("Someone else changed this ticket while you were writing. Nothing was recorded: check the "
           "ticket as it is now and answer again.")


@bp.app_context_processor
def _answer_form():
    """The complaint partials draw the answer form with this."""
    return {"complaint_answer_form": AnswerForm}


@bp.route("/board/complaints/<reference>/answer", methods=["POST"])
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


# --- evidence files -------------------------------------------------------------------------------


def allow_evidence_uploads() -> None:
    """The leak complaint form may carry its evidence files: its request may be as large as they may
    be together (every other request keeps the 1 MB limit). Runs before the form token is read."""
    if request.endpoint == "requests.new_of_kind" and (request.view_args or {}).get("code") == "leak_complaint":
        config = current_app.config
        request.max_content_length = (config["EVIDENCE_MAX_FILES"] * config["EVIDENCE_MAX_MB"] + 1) * 1024 * 1024


def _download(ticket, file_id: int):
    evidence = db.session.get(EvidenceFile, file_id)
    if evidence is None or evidence.ticket_id != ticket.id:
        abort(404)
    response = send_file(evidence.path, mimetype=evidence.content_type, as_attachment=True,
                         download_name=evidence.original_name, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/requests/<reference>/evidence/<int:file_id>")
@customer_required
def customer_evidence(reference: str, file_id: int):
    """A file the customer sent with their complaint, as a download."""
    ticket = tickets.find_customer_ticket(reference, current_user.email, current_user.customer_id)
    if ticket is None:
        abort(404)
    return _download(ticket, file_id)


@bp.route("/board/complaints/<reference>/evidence/<int:file_id>")
@staff_required("evidence.view")
def board_evidence(reference: str, file_id: int):
    """A complaint's evidence file, for the board only, as a download (recorded in the audit log)."""
    member = current_user.staff
    ticket = queries.find_ticket(reference, member)
    if ticket is None:
        abort(404)
    response = _download(ticket, file_id)
    record(member, "ticket.evidence_downloaded", ticket, file=file_id)
    db.session.commit()
    return response
