"""Periodic work that ``flask worker`` does on every round, each job committing its own work."""

from __future__ import annotations

import logging
from datetime import datetime

from portal.db import db
from portal.outbox.delivery import deliver_due
from portal.retention import purge_expired
from portal.tickets.services import escalate_overdue

log = logging.getLogger(__name__)


def run_due_jobs(now: datetime) -> int:
    """Escalate missed acknowledgements and overdue tickets (their e-mails join the outbox), purge
    the portal's own data past its retention period, then deliver the outbox.

    Return how much work was done, so an idle worker knows to wait before the next round.
    """
    escalated = escalate_overdue(now)
    db.session.commit()
    if escalated:
        log.info("Escalated %s overdue ticket(s)", escalated)
    purged = purge_expired(now)
    db.session.commit()
    if purged:
        log.info("Purged %s row(s) past their retention period", purged)
    return escalated + purged + deliver_due(now)
