"""The incident's printable documents on the board: the notice to the authority (Form No. 08) and
the written record of the violation. Vietnamese, the documents' official language, unless
``?lang=en`` asks for the English rendering."""

from __future__ import annotations

from flask import abort, current_app, render_template, request
from flask_babel import force_locale

from portal import clock
from portal.access import staff_required
from portal.incidents import bp
from portal.incidents.documents import (
    document_locale,
    incident_facts,
    notice_state,
    protection_contact,
    written_date,
)
from portal.incidents.services import authority_clock
from portal.local_time import local_date


def _document(template: str, incident_id: int):
    facts = incident_facts(incident_id)
    if facts is None:
        abort(404)
    now = clock.now()
    locale = document_locale(request.args.get("lang"))
    with force_locale(locale):
        return render_template(template, facts=facts, incident=facts.incident, locale=locale,
                               contact=protection_contact(current_app.config), now=now,
                               today=written_date(local_date(now), locale),
                               notice_state=notice_state(authority_clock(facts.incident, now)))


@bp.route("/<int:incident_id>/notice")
@staff_required("incident.manage")
def notice(incident_id: int):
    """The notice to the authority laid out as Form No. 08 (Decree 356/2025 Art. 28), to print."""
    return _document("incidents/notice_form08.html", incident_id)


@bp.route("/<int:incident_id>/record")
@staff_required("incident.manage")
def record(incident_id: int):
    """The written record of the violation (Law 91/2025 Art. 23(2)), to print and sign."""
    return _document("incidents/written_record.html", incident_id)
