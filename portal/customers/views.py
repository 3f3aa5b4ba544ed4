"""The board's pages for customer records. Views are thin: read the form, call the rules in
:mod:`portal.customers.services`, commit once. Every page that shows a customer's data logs it."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal import clock
from portal.access import staff_required
from portal.account.models import Customer
from portal.account.services import customer_record, record_lists
from portal.audit.access_log import log_customer_views
from portal.consent.models import CONSENT_PURPOSES
from portal.customers import bp
from portal.customers.forms import BLANK_ROWS, NEW_RECORD_ROWS, ConsentForm, EditRecordForm, NewRecordForm, SearchForm
from portal.customers.services import (
    MAX_RESULTS,
    MAX_SEARCH,
    MIN_SEARCH,
    IntakeProblem,
    RecordRestricted,
    StaleRecord,
    clean_contacts,
    clean_name,
    clean_notes,
    create_customer,
    find_customers,
    record_staff_consent,
    refuse_if_restricted,
    update_customer,
)
from portal.db import db
from portal.enums import Channel, DataSource, ViewedPage
from portal.rights.forms import LiftRestrictionForm
from portal.rights.services import RightsProblem, lift_restriction, processing_restricted


def get_customer(customer_id: int) -> Customer:
    """The customer a board URL names, or 404."""
    customer = db.session.get(Customer, customer_id)
    if customer is None:
        abort(404)
    return customer


def _log_views(customer_ids, page: ViewedPage) -> None:
    log_customer_views(current_user.staff, customer_ids, page, clock.now())


@bp.route("/")
@staff_required("customer.find")
def search():
    """Find customers by name, phone number or e-mail address."""
    form = SearchForm(request.args)
    text = " ".join((form.q.data or "").split())
    results, more = None, False
    if text and not MIN_SEARCH <= len(text) <= MAX_SEARCH:
        form.q.errors = [_("Type between %(min)d and %(max)d characters.", min=MIN_SEARCH, max=MAX_SEARCH)]
    elif text and form.validate():
        results = find_customers(text)
        more = len(results) > MAX_RESULTS
        results = results[:MAX_RESULTS]
    html = render_template("customers/search.html", form=form, results=results, more=more, text=text)
    if results:  # the list names these customers: each sees it on My data
        _log_views([row.id for row in results], ViewedPage.SEARCH)
        db.session.commit()
    return html


@bp.route("/new", methods=["GET", "POST"])
@staff_required("customer.edit")
def new():
    """Enter a customer from a phone call, a web form or a printout of the sales system."""
    form = NewRecordForm()
    if not form.is_submitted():
        for kind in NEW_RECORD_ROWS:
            form.contacts.append_entry({"kind": kind})
        form.source.data = DataSource.PHONE.value
    elif form.validate_on_submit() and (values := _read_record(form)):
        member = current_user.staff
        customer = create_customer(full_name=values[0], notes=values[1], source=DataSource(form.source.data),
                                   contacts=values[2], actor=member, actor_name=member.full_name, now=clock.now())
        db.session.commit()
        flash(_("The customer's record is saved."), "info")
        return redirect(url_for(".record", customer_id=customer.id), 303)
    status = 400 if form.is_submitted() else 200
    return render_template("customers/new.html", form=form), status


def _read_record(form) -> tuple | None:
    """The form's name, notes and contact points, read by the rules; None (errors on the form's
    fields) when anything is wrong."""
    problems = {}
    try:
        name = clean_name(form.full_name.data)
    except ValueError as problem:
        problems["full_name"] = problem.args[0]
    try:
        notes = clean_notes(form.notes.data)
    except ValueError as problem:
        problems["notes"] = problem.args[0]
    try:
        contacts = clean_contacts(form.contact_inputs())
    except IntakeProblem as problem:
        problems.update(problem.problems)
    if problems:
        _show_problems(form, problems)
        return None
    return name, notes, contacts


def _show_problems(form, problems: dict) -> None:
    for key, message in problems.items():
        if isinstance(key, tuple):
            form.contacts.entries[key[1]].form.value.errors = [message]
        else:
            form[key].errors = [*form[key].errors, message]


@bp.route("/<int:customer_id>")
@staff_required("customer.find")
def record(customer_id: int):
    """A customer's whole record, the consent form, and the history of every change."""
    customer = get_customer(customer_id)
    return _record_page(customer, ConsentForm(formdata=None))


def _record_page(customer, consent_form, status: int = 200, lift_form=None):
    restricted = processing_restricted(customer)
    if restricted:  # only a refusal or a withdrawal may be recorded
        consent_form.decision.choices = [choice for choice in consent_form.decision.choices
                                         if choice.value != "given"]
    html = render_template("customers/record.html", customer=customer_record(customer), form=consent_form,
                           channels=list(Channel), purposes=CONSENT_PURPOSES, restricted=restricted,
                           lift_form=lift_form or LiftRestrictionForm(formdata=None))
    _log_views([customer.id], ViewedPage.RECORD)
    db.session.commit()
    return html, status


@bp.route("/<int:customer_id>/consent", methods=["POST"])
@staff_required("customer.edit")
def consent(customer_id: int):
    """Record a grant or withdrawal of consent the customer gave us off the portal, with its proof."""
    customer = get_customer(customer_id)
    form = ConsentForm()
    if form.validate_on_submit():
        try:
            if form.decision.data not in ("given", "withdrawn"):
                raise IntakeProblem({"decision": _("Choose the customer's answer.")})
            record_staff_consent(customer, purpose=form.purpose.data, granted=form.decision.data == "given",
                                 method=form.method.data, evidence=form.evidence.data,
                                 member=current_user.staff, now=clock.now())
        except IntakeProblem as problem:
            db.session.rollback()
            for key, message in problem.problems.items():
                form[key].errors = [message]
        else:
            db.session.commit()
            flash(_("The customer's consent is recorded."), "info")
            return redirect(url_for(".record", customer_id=customer.id), 303)
    return _record_page(customer, form, 400)


@bp.route("/<int:customer_id>/lift-restriction", methods=["POST"])
@staff_required("restriction.lift")
def lift(customer_id: int):
    """Lift a restriction of processing the customer asked for, with the reason they are e-mailed."""
    customer = get_customer(customer_id)
    form = LiftRestrictionForm()
    if form.validate_on_submit():
        try:
            lift_restriction(customer, current_user.staff, form.reason.data, clock.now())
        except RightsProblem as problem:
            db.session.rollback()
            form.reason.errors = [str(problem.args[0])]
        else:
            db.session.commit()
            flash(_("The restriction is lifted, and the customer was e-mailed the reason."), "info")
            return redirect(url_for(".record", customer_id=customer.id), 303)
    return _record_page(customer, ConsentForm(formdata=None), 400, lift_form=form)


@bp.route("/<int:customer_id>/edit", methods=["GET", "POST"])
@staff_required("customer.edit")
def edit(customer_id: int):
    """Correct a customer's name, notes and contact points. A form drawn before someone else's change
    is refused: saving it would undo that change."""
    customer = get_customer(customer_id)
    try:
        refuse_if_restricted(customer)
    except RecordRestricted as problem:
        flash(str(problem.args[0]), "error")
        return redirect(url_for(".record", customer_id=customer.id), 303)
    form = EditRecordForm()
    if form.is_submitted():
        saved = form.validate_on_submit() and _save_edit(customer, form)
        if saved:
            return saved
        status = 400
    else:
        _fill_edit_form(form, customer)
        status = 200
    html = render_template("customers/edit.html", form=form, customer=customer)
    _log_views([customer.id], ViewedPage.RECORD)
    db.session.commit()
    return html, status


def _fill_edit_form(form, customer) -> None:
    lists = record_lists(customer.id, ("contact_points",))
    form.full_name.data, form.notes.data = customer.full_name, customer.notes
    form.version.data = str(customer.data_version)
    form.source.data = DataSource.PHONE.value
    for point in lists["contact_points"]:
        form.contacts.append_entry({"contact_id": str(point.id), "kind": f"{point.channel.value}:{point.kind.value}",
                                    "value": point.value})
    for _row in range(BLANK_ROWS):
        form.contacts.append_entry({"kind": "phone:mobile"})


def _save_edit(customer, form):
    values = _read_record(form)
    if values is None:
        return None
    try:
        changed = update_customer(customer, version=form.version.data, full_name=values[0], notes=values[1],
                                  contacts=values[2], source=DataSource(form.source.data),
                                  member=current_user.staff, now=clock.now())
    except IntakeProblem as problem:
        db.session.rollback()
        _show_problems(form, problem.problems)
        return None
    except RecordRestricted as problem:
        db.session.rollback()
        form.version.errors = [str(problem.args[0])]
        return None
    except StaleRecord:
        db.session.rollback()
        form.version.errors = [_("Someone changed this record after you opened this form. Nothing was saved: "
                                 "open the record again and make your change there.")]
        return None
    db.session.commit()
    flash(_("The changes are saved.") if changed else _("Nothing was changed."), "info")
    return redirect(url_for(".record", customer_id=customer.id), 303)
