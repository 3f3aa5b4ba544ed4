"""Writing audit records. Every mutating service calls :func:`record`."""

from __future__ import annotations

from flask import has_request_context, request

from portal import clock
from portal.audit.models import AuditRecord
from portal.db import db


def record(actor: str, action: str, target: str = "", **data) -> AuditRecord:
    """Add an audit record to the current transaction (the caller commits)."""
    entry = AuditRecord(
        occurred_at=clock.now(),
        actor=actor,
        action=action,
        target=target,
        data=data,
        client_address=request.remote_addr if has_request_context() else None,
    )
    db.session.add(entry)
    return entry
