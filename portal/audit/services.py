"""Writing audit records. Every mutating service calls :func:`record`."""

from __future__ import annotations

from flask import has_request_context, request

from portal import clock
from portal.audit.models import AuditRecord
from portal.db import db


def audit_name(party) -> str:
    """The one way a party is written in the log: "staff:3", "customer:12", "anonymous", "system",
    "cli" ... Anything with an ``audit_name`` (a member, a customer, a signed-in principal, a ticket)
    names itself; a string is taken as it is; nobody (None) is the system."""
    if party is None:
        return "system"
    if isinstance(party, str):
        return party
    return party.audit_name


def record(actor, action: str, target="", **data) -> AuditRecord:
    """Add an audit record to the current transaction (the caller commits)."""
    entry = AuditRecord(
        occurred_at=clock.now(),
        actor=audit_name(actor),
        action=action,
        target=audit_name(target) if target else "",
        data=data,
        client_address=request.remote_addr if has_request_context() else None,
    )
    db.session.add(entry)
    return entry
