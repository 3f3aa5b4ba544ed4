"""The board's breach-incident pages: the register, a new incident, one incident (its details, the
72-hour clock, the notice to the authority, closing it), its affected customers, and raising a
complaint into an incident from the complaint's page. Views are thin: read the form, call
:mod:`portal.incidents.services`, commit once. A page that names customers logs them."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError

from portal import clock
from portal.access import staff_required
from portal.audit.access_log import log_customer_views
from portal.complaints.forms import STAFF_FINDINGS
from portal.customers.services import MAX_RESULTS, MAX_SEARCH, MIN_SEARCH, find_customers
from portal.db import db
from portal.enums import ViewedPage
from portal.forms import upload_limit
from portal.incidents import bp, queries, services
from portal.incidents.forms import (
    AuthorityNoticeForm,
    CloseForm,
    EditIncidentForm,
    ImportForm,
    NewIncidentForm,
    PickCustomerForm,
    RaiseForm,
    RemoveCustomerForm,
)
from portal.incidents.models import (
    AUTHORITY_NOTICE_HOURS,
    DATA_CATEGORIES,
    BreachIncident,
    IncidentStatus,
    format_incident_reference,
)
from portal.local_time import from_local, to_local


def _stale_message() -> str:
    return _("Someone else changed this incident after you opened the page. Nothing was saved: "
             "check it as it is now and try again.")


@bp.app_context_processor
def _incident_helpers():
    """What the incident templates (and the complaint partial on the ticket page) use."""
    return {"incident_reference": format_incident_reference, "authority_clock": services.authority_clock,
            "finding_titles": STAFF_FINDINGS, "notice_hours": AUTHORITY_NOTICE_HOURS}


@upload_limit("incidents.import_customers")
def _import_uploads(_view_args: dict) -> int:
    """The import form may carry a file up to twice the largest the import reads, so that a file too
    large is answered with a message of its own."""
    return 2 * services.MAX_IMPORT_BYTES + 64 * 1024


def _details(form) -> services.Details:
    return services.Details(
        title=form.title.data or "", discovered_at=from_local(form.discovered_at.data),
        occurred_from=from_local(form.occurred_from.data),
        occurred_until=from_local(form.occurred_until.data), place=form.place.data or "",
        acts=form.acts.data or "", parties=form.parties.data or "", categories=tuple(form.categories.data or ()),
        volume=form.volume.data or "", consequences=form.consequences.data or "", measures=form.measures.data or "")


def _show_problems(form, problem: services.IncidentProblem) -> list[str]:
    """Put each problem on its field; return those that belong to no field."""
    general = []
    for name, message in problem.problems.items():
        if name and name in form:
            form[name].errors = [*form[name].errors, str(message)]
        else:
            general.append(str(message))
    return general


# --- the register -----------------------------------------------------------------------------------


@bp.route("/")
@staff_required("incident.manage")
def index():
    """Every incident, newest first, with the 72-hour clock and where the notices stand."""
    return render_template("incidents/index.html", rows=queries.register(), now=clock.now())


# --- a new incident ---------------------------------------------------------------------------------


def _chosen_complaint() -> int | None:
    text = request.args.get("complaint", "")
    return int(text) if text.isdigit() and len(text) < 12 else None


@bp.route("/new", methods=["GET", "POST"])
@staff_required("incident.manage")
def new():
    """Record an incident, raising the complaints it comes from into it."""
    first = _chosen_complaint()
    choices = queries.complaint_choices(first)
    form = NewIncidentForm()
    form.complaints.choices = [(row.id, row.reference) for row in choices]
    if not form.is_submitted():
        form.complaints.data = [first] if first in {row.id for row in choices} else []
    problems = []
    if form.validate_on_submit():
        member = current_user.staff
        try:
            incident = services.create_incident(member, _details(form), form.complaints.data or [], clock.now())
        except services.IncidentProblem as problem:
            db.session.rollback()
            problems = _show_problems(form, problem)
        else:
            db.session.commit()
            flash(_("The incident is recorded. The authority must be notified within %(hours)d hours of its "
                    "discovery.", hours=AUTHORITY_NOTICE_HOURS), "success")
            return redirect(url_for(".show", incident_id=incident.id), 303)
    status = 400 if form.is_submitted() else 200
    return render_template("incidents/new.html", form=form, choices=choices, problems=problems,
                           categories=DATA_CATEGORIES), status


# --- one incident -----------------------------------------------------------------------------------


class IncidentForms:
    """The forms of an incident's page: the posted one reads the request, the others start from the
    incident as it is."""

    def __init__(self, incident: BreachIncident, posted: str | None = None):
        self.posted = posted
        version = str(incident.version)
        if posted == "edit":
            self.edit = EditIncidentForm(prefix="edit")
        else:
            self.edit = EditIncidentForm(
                formdata=None, prefix="edit", version=version, title=incident.title,
                discovered_at=to_local(incident.discovered_at),
                occurred_from=to_local(incident.occurred_from),
                occurred_until=to_local(incident.occurred_until), place=incident.place, acts=incident.acts,
                parties=incident.parties, categories=list(incident.categories or []), volume=incident.volume,
                consequences=incident.consequences, measures=incident.measures)
        self.notice = (AuthorityNoticeForm(prefix="notice") if posted == "notice"
                       else AuthorityNoticeForm(formdata=None, prefix="notice", version=version))
        self.close = (CloseForm(prefix="close") if posted == "close"
                      else CloseForm(formdata=None, prefix="close", version=version))

    def current(self):
        return getattr(self, self.posted)


def _page(incident_id: int, forms: IncidentForms | None = None, status: int = 200, problem: str | None = None):
    view = queries.incident_view(incident_id)
    if view is None:
        abort(404)
    incident = view.incident
    forms = forms or IncidentForms(incident)
    reason = None
    if incident.status is IncidentStatus.CLOSED and incident.authority_notified_at is None:
        reason = queries.close_reason(incident.id)
    html = render_template("incidents/show.html", view=view, incident=incident, forms=forms, progress=view.progress,
                           complaints=queries.incident_complaints(incident.id), now=clock.now(),
                           problem=problem, close_reason=reason, member=current_user.staff)
    db.session.commit()
    return html, status


@bp.route("/<int:incident_id>")
@staff_required("incident.manage")
def show(incident_id: int):
    """An incident: its details, the complaints raised into it, the 72-hour clock and the notices."""
    return _page(incident_id)


def _change(incident_id: int, posted: str, apply, success: str):
    """Validate the posted form of the incident's page and ``apply(incident, form)``; commit once, or
    show the page again with what was typed and why nothing was saved."""
    incident = db.get_or_404(BreachIncident, incident_id)
    forms = IncidentForms(incident, posted)
    form = forms.current()
    if not form.validate_on_submit():
        return _page(incident_id, forms, 400)
    try:
        apply(incident, form)
        db.session.flush()
    except services.StaleIncident:
        db.session.rollback()
        return _stale(incident_id, forms)
    except StaleDataError:
        db.session.rollback()
        return _stale(incident_id, forms)
    except services.IncidentProblem as problem:
        db.session.rollback()
        general = _show_problems(form, problem)
        return _page(incident_id, forms, 400, " ".join(general) or None)
    db.session.commit()
    flash(success, "success")
    return redirect(url_for(".show", incident_id=incident_id), 303)


def _stale(incident_id: int, forms: IncidentForms):
    incident = db.get_or_404(BreachIncident, incident_id)
    forms.current().version.data = str(incident.version)
    return _page(incident_id, forms, 409, _stale_message())


@bp.route("/<int:incident_id>/edit", methods=["POST"])
@staff_required("incident.manage")
def edit(incident_id: int):
    """Correct the incident's details, unless someone changed them meanwhile."""
    member = current_user.staff
    return _change(incident_id, "edit", lambda incident, form: services.update_incident(
        incident, member, form.version.data, _details(form), clock.now()), _("The incident's details are saved."))


@bp.route("/<int:incident_id>/authority-notice", methods=["POST"])
@staff_required("incident.manage")
def authority_notice(incident_id: int):
    """Record that the notice went to the authority: when, and the reference it gave."""
    member = current_user.staff
    return _change(incident_id, "notice", lambda incident, form: services.record_authority_notice(
        incident, member, form.version.data, from_local(form.sent_at.data), form.reference.data,
        clock.now()), _("The notice to the authority is recorded."))


@bp.route("/<int:incident_id>/close", methods=["POST"])
@staff_required("incident.manage")
def close(incident_id: int):
    """Close the incident: after the notice to the authority, or with the reason it had none."""
    member = current_user.staff
    return _change(incident_id, "close", lambda incident, form: services.close_incident(
        incident, member, form.version.data, form.reason.data, clock.now()), _("The incident is closed."))


# --- affected customers -----------------------------------------------------------------------------


def _page_number() -> int:
    text = request.args.get("page", "1")
    return int(text) if text.isdigit() and len(text) < 6 else 1


def _customers_page(incident: BreachIncident, status: int = 200, result=None, import_form=None,
                    problem: str | None = None):
    """The list of affected customers (a page of it) and the search to add more; every customer shown
    is logged in the access log with one INSERT."""
    text = " ".join((request.args.get("q") or "").split())
    results, more, search_problem = None, False, None
    if text and not MIN_SEARCH <= len(text) <= MAX_SEARCH:
        search_problem = _("Type between %(min)d and %(max)d characters.", min=MIN_SEARCH, max=MAX_SEARCH)
    elif any(ord(ch) < 32 or 127 <= ord(ch) <= 159 for ch in text):  # a NUL cannot even be looked up
        search_problem = _("Remove the invisible control characters from the text.")
    elif text:
        results = find_customers(text)
        more = len(results) > MAX_RESULTS
        results = results[:MAX_RESULTS]
    listed = queries.affected_page(incident.id, _page_number())
    html = render_template("incidents/customers.html", incident=incident, listed=listed, text=text,
                           results=results, more=more, search_problem=search_problem, result=result,
                           import_form=import_form or ImportForm(formdata=None),
                           pick_form=PickCustomerForm(formdata=None), remove_form=RemoveCustomerForm(formdata=None),
                           problem=problem, max_rows=services.MAX_IMPORT_ROWS,
                           max_mb=services.MAX_IMPORT_BYTES // (1024 * 1024))
    shown = [row.customer_id for row in listed.rows] + [row.id for row in results or []]
    log_customer_views(current_user.staff, shown, ViewedPage.INCIDENT, clock.now())
    db.session.commit()
    return html, status


@bp.route("/<int:incident_id>/customers")
@staff_required("incident.manage")
def customers(incident_id: int):
    """The incident's affected customers, fifty a page, and the search to add more."""
    return _customers_page(db.get_or_404(BreachIncident, incident_id))


def _back_to_customers(incident_id: int, message: str, category: str = "success"):
    flash(message, category)
    arguments = {key: request.args[key] for key in ("q", "page") if request.args.get(key)}
    return redirect(url_for(".customers", incident_id=incident_id, **arguments), 303)


@bp.route("/<int:incident_id>/customers/pick", methods=["POST"])
@staff_required("incident.manage")
def pick_customer(incident_id: int):
    """Add a customer found by the search."""
    incident = db.get_or_404(BreachIncident, incident_id)
    form = PickCustomerForm()
    if not form.validate_on_submit():
        return _back_to_customers(incident_id, _("Reload the page and try again."), "error")
    try:
        added = services.pick_customer(incident, current_user.staff, form.customer_id.data, clock.now())
    except services.IncidentProblem as problem:
        db.session.rollback()
        return _back_to_customers(incident_id, problem.message, "error")
    db.session.commit()
    return _back_to_customers(incident_id, _("The customer is added to the list.") if added
                              else _("The customer was already on the list."))


@bp.route("/<int:incident_id>/customers/<int:affected_id>/remove", methods=["POST"])
@staff_required("incident.manage")
def remove_customer(incident_id: int, affected_id: int):
    """Take a customer off the list (only while their notice is not queued)."""
    incident = db.get_or_404(BreachIncident, incident_id)
    if not RemoveCustomerForm().validate_on_submit():
        return _back_to_customers(incident_id, _("Reload the page and try again."), "error")
    try:
        removed = services.remove_affected(incident, current_user.staff, affected_id)
    except services.IncidentProblem as problem:
        db.session.rollback()
        return _back_to_customers(incident_id, problem.message, "error")
    if removed is None:
        abort(404)
    db.session.commit()
    return _back_to_customers(incident_id, _("The customer is taken off the list."))


@bp.route("/<int:incident_id>/customers/import", methods=["POST"])
@staff_required("incident.manage")
def import_customers(incident_id: int):
    """Add the customers a CSV file names; the page says what was added and what matched nobody."""
    incident = db.get_or_404(BreachIncident, incident_id)
    form = ImportForm()
    if not form.validate_on_submit():
        return _customers_page(incident, 400, problem=_("Reload the page and try again."))
    upload = form.file.data
    if upload is None or not getattr(upload, "filename", None):
        form.file.errors = [_("Choose a CSV file.")]
        return _customers_page(incident, 400, import_form=form)
    content = upload.stream.read(services.MAX_IMPORT_BYTES + 1)
    try:
        result = services.import_customers(incident, current_user.staff, content, clock.now())
    except (services.ImportRefused, services.IncidentProblem) as refusal:
        db.session.rollback()
        message = refusal.message if isinstance(refusal, services.IncidentProblem) else str(refusal.args[0])
        form.file.errors = [message]
        return _customers_page(incident, 400, import_form=form)
    db.session.commit()
    return _customers_page(incident, result=result)


# --- raising a complaint from its page --------------------------------------------------------------


@bp.route("/raise/<reference>", methods=["GET", "POST"])
@staff_required("incident.manage")
def raise_complaint(reference: str):
    """Raise one complaint into an open incident, or into a new one."""
    ticket = queries.complaint_ticket(reference)
    if ticket is None:
        abort(404)
    incidents = queries.open_incidents_for(ticket.id)
    form = RaiseForm()
    form.incident.choices = [(row.id, f"{format_incident_reference(row.created_at.year, row.id)} · {row.title}")
                             for row in incidents if not row.raised]
    status = 200
    if form.is_submitted():
        status = 400
        if form.validate_on_submit():
            incident = db.get_or_404(BreachIncident, form.incident.data)
            try:
                services.raise_complaints(incident, current_user.staff, [ticket.id], clock.now())
            except services.IncidentProblem as problem:
                db.session.rollback()
                form.incident.errors = [problem.message]
            else:
                db.session.commit()
                flash(_("The complaint is raised into the incident."), "success")
                return redirect(url_for(".show", incident_id=incident.id), 303)
    return render_template("incidents/raise.html", form=form, ticket=ticket, incidents=incidents,
                           reference=reference.strip().upper()), status
