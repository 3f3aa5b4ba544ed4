"""Purging the portal's own personal data past its retention period (settings/retention.py): one
statement per kind, each purge that removed something written to the audit log. Run by ``flask
worker`` (portal/jobs.py); any number of workers may run it at once, since every statement only
removes what is past its time. The same job removes evidence files that no complaint names."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select, update

from portal.audit.models import AuditRecord
from portal.audit.services import record
from portal.auth.models import CustomerSession
from portal.db import db
from portal.email_links import EmailLink
from portal.outbox.models import OutboxMessage, OutboxStatus
from portal.settings.retention import cutoffs
from portal.staff.models import StaffSession
from portal.tickets.kinds.evidence import remove_orphan_files
from portal.tickets.kinds.leak_complaint import EvidenceFile


def _statements(before: dict[str, datetime]) -> dict:
    """The statement that purges each kind of data older than its cutoff."""
    return {
        "sign_in_links": delete(EmailLink).where(EmailLink.expires_at < before["sign_in_links"]),
        "customer_sessions": delete(CustomerSession).where(
            func.coalesce(CustomerSession.ended_at, CustomerSession.last_seen_at) < before["customer_sessions"]),
        "staff_sessions": delete(StaffSession).where(
            func.coalesce(StaffSession.ended_at, StaffSession.last_seen_at) < before["staff_sessions"]),
        "email_bodies": update(OutboxMessage).where(
            OutboxMessage.status == OutboxStatus.SENT, OutboxMessage.sent_at < before["email_bodies"],
            OutboxMessage.body_text != "").values(body_text="", body_html=""),
        "audit_addresses": update(AuditRecord).where(
            AuditRecord.occurred_at < before["audit_addresses"], AuditRecord.client_address.is_not(None))
        .values(client_address=None),
    }


def purge_expired(now: datetime) -> int:
    """Purge everything past its retention period; return how many rows were purged (the caller
    commits)."""
    before = cutoffs(now)
    purged = 0
    for name, statement in _statements(before).items():
        count = db.session.execute(statement.execution_options(synchronize_session=False)).rowcount or 0
        if count:
            record(None, "retention.purged", f"retention:{name}", rows=count, before=before[name].isoformat())
            purged += count
    return purged


def remove_orphan_evidence(now: datetime) -> int:
    """Remove evidence files no complaint names (written for a complaint the database then refused);
    an audit record says how many went."""
    known = set(db.session.scalars(select(EvidenceFile.stored_name)))
    removed = remove_orphan_files(known, now)
    if removed:
        record(None, "retention.orphan_files_removed", "retention:evidence_files", files=removed)
    return removed
