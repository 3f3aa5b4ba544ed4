"""Leak complaints and misuse reports: the board's answer to them (a finding, its reason and the
remedy), recorded from the kinds' staff partials. The kinds themselves — forms, detail tables, the rule
that a complaint is resolved only with an answer — are in ``portal/tickets/kinds/leak_complaint.py``
and ``misuse_report.py``."""

from flask import Blueprint

bp = Blueprint("complaints", __name__)

from portal.complaints import investigation, views  # noqa: E402,F401  (its routes join the blueprint; the panel joins the ticket page)
