"""The board answers a complaint or a misuse report (the kinds' staff partials post here)."""

from __future__ import annotations

from flask import abort, current_app, send_file
from flask_babel import gettext as _
from flask_login import current_user

from portal import clock
from portal.access import customer_required, staff_required
from portal.audit.access_log import log_customer_views
from portal.audit.services import record
from portal.complaints import bp, services
from portal.complaints.forms import AnswerForm
from portal.db import db
from portal.enums import ViewedPage
from portal.forms import upload_limit
from portal.tickets import services as tickets
from portal.tickets.board import queries
from portal.tickets.board.decisions import decide
from portal.tickets.kinds.leak_complaint import EvidenceFile


@bp.app_context_processor
def _answer_form():
    """The complaint partials draw the answer form with this."""
    return {"complaint_answer_form": AnswerForm}


@bp.route("/board/complaints/<reference>/answer", methods=["POST"])
@staff_required("ticket.work")
def answer(reference: str):
    """Record the finding, its reason and the remedy, and resolve the ticket."""
    def apply(ticket, form):
        services.answer(ticket, current_user.staff, form.finding.data, form.reason.data, form.remedy.data,
                        clock.now())

    return decide(reference, AnswerForm, apply, kinds=services.COMPLAINT_KINDS, anchor="h-complaint-answer",
                  success=lambda _result: _(
        "The answer is recorded, the request resolved and the customer told."))


# --- evidence files -------------------------------------------------------------------------------


@upload_limit("requests.new_of_kind")
def _evidence_uploads(view_args: dict) -> int | None:
    """The leak complaint form may carry its evidence files: its request may be as large as they may
    be together."""
    if view_args.get("code") != "leak_complaint":
        return None
    config = current_app.config
    return (config["EVIDENCE_MAX_FILES"] * config["EVIDENCE_MAX_MB"] + 1) * 1024 * 1024


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
    """A complaint's evidence file, for the board only, as a download: recorded in the audit log, and in
    the access log as a view of the complainant's data on the request's page (the customer sees it on
    My data)."""
    member = current_user.staff
    ticket = queries.find_ticket(reference, member)
    if ticket is None:
        abort(404)
    response = _download(ticket, file_id)
    record(member, "ticket.evidence_downloaded", ticket, file=file_id)
    if ticket.customer_id:
        log_customer_views(member, [ticket.customer_id], ViewedPage.TICKET, clock.now(), ticket=ticket)
    db.session.commit()
    return response
