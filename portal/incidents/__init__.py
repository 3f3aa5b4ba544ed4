"""Breach incidents: confirmed leaks raised from complaints into one incident, with its affected
customers, the 72-hour clock for the notice to the authority (Law 91/2025 Art. 23), the printable
notice (Decree 356/2025 Art. 28, Form No. 08) and written record, and the notice to every affected
customer through the outbox."""

from flask import Blueprint

bp = Blueprint("incidents", __name__, url_prefix="/board/incidents")

from portal.incidents import document_views, notify_views, views  # noqa: E402,F401 (their routes join the blueprint)
