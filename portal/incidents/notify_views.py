"""Notifying an incident's affected customers: start (a small first batch is queued at once), resume
one batch, and the progress page. The partial ``incidents/_notify.html`` is what the incident page
shows, with the ``progress`` its view passes."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError
from wtforms import BooleanField, HiddenField
from wtforms.validators import InputRequired

from portal import clock
from portal.access import staff_required
from portal.db import db
from portal.forms import PortalForm
from portal.incidents import bp, notify, queries
from portal.incidents.models import BreachIncident


class StartNoticeForm(PortalForm):
    confirm = BooleanField(_l("Yes, e-mail the notice to these customers"), validators=[
        InputRequired(_l("Tick the box to confirm that the customers are to be e-mailed."))])
    back = HiddenField()


class ResumeNoticeForm(PortalForm):
    back = HiddenField()


@bp.app_template_global()
def incident_notice_forms(back: str = "") -> dict:
    return {"start": StartNoticeForm(formdata=None, back=back), "resume": ResumeNoticeForm(formdata=None, back=back)}


def _back(incident: BreachIncident, form) -> str:
    """Back to the page the form was on (the incident page or this one), never anywhere else."""
    back = (form.back.data or "").split("#")[0]
    own = url_for("incidents.customer_notice", incident_id=incident.id)
    prefix = own.removesuffix("/notify")  # the incident's own pages
    if back == prefix or back.startswith(prefix + "/") or back.startswith(prefix + "?"):
        return back + "#h-notify"
    return own


def _page(incident: BreachIncident, form=None, status: int = 200):
    return render_template("incidents/notify.html", incident=incident, notify_form=form, form=form,
                           progress=queries.notice_progress(incident.id)), status


@bp.route("/<int:incident_id>/notify")
@staff_required("incident.manage")
def customer_notice(incident_id: int):
    """The notice to the affected customers, on a page of its own: its progress and its buttons."""
    return _page(db.get_or_404(BreachIncident, incident_id))


@bp.route("/<int:incident_id>/notify", methods=["POST"])
@staff_required("incident.manage")
def start_notice(incident_id: int):
    """Start the notice and queue a small first batch; the worker queues the rest."""
    incident = db.get_or_404(BreachIncident, incident_id)
    form = StartNoticeForm()
    if not form.validate_on_submit():
        return _page(incident, form, 400)
    now = clock.now()
    try:
        started = notify.start_customer_notice(incident, current_user.staff, now)
        queued = notify.queue_notice_batch(incident.id, now, notify.FIRST_BATCH_SIZE, actor=current_user.staff)
        db.session.commit()
    except notify.NoticeRefused as refusal:
        db.session.rollback()
        flash(str(refusal.args[0]), "error")
        return redirect(_back(incident, form), 303)
    except StaleDataError:  # a colleague changed the incident (or started the notice) at the same moment
        db.session.rollback()
        flash(_("The incident changed at the same moment: check the notice below before trying again."), "error")
        return redirect(_back(incident, form), 303)
    _say_where_it_stands(incident.id, started, queued)
    return redirect(_back(incident, form), 303)


@bp.route("/<int:incident_id>/notify/resume", methods=["POST"])
@staff_required("incident.manage")
def resume_notice(incident_id: int):
    """Queue one more batch now, rather than wait for the worker."""
    incident = db.get_or_404(BreachIncident, incident_id)
    form = ResumeNoticeForm()
    if not form.validate_on_submit():
        abort(400)
    if incident.customers_notice_started_at is None:
        flash(_("The notice has not been started yet."), "error")
        return redirect(_back(incident, form), 303)
    queued = notify.queue_notice_batch(incident.id, clock.now(), actor=current_user.staff)
    db.session.commit()
    _say_where_it_stands(incident.id, False, queued)
    return redirect(_back(incident, form), 303)


def _say_where_it_stands(incident_id: int, started: bool, queued: int) -> None:
    progress = queries.notice_progress(incident_id)
    if not started and not queued:
        flash(_("The notice was already started; nothing was waiting to be queued."), "info")
        return
    if progress.waiting:
        flash(_("%(queued)d of %(total)d notices are queued; the worker queues the other %(waiting)d.",
                queued=progress.queued, total=progress.total, waiting=progress.waiting), "info")
    else:
        flash(_("All %(total)d notices are queued.", total=progress.total), "info")
