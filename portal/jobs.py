"""Periodic work that ``flask worker`` does on its rounds, each job committing its own work."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from portal.db import db
from portal.incidents.notify import queue_waiting_notices
from portal.outbox.delivery import deliver_due
from portal.oversight.services import raise_alerts
from portal.retention import purge_expired, remove_orphan_evidence
from portal.rights import erasure
from portal.tickets.services import escalate_overdue

log = logging.getLogger(__name__)


class PurgeSchedule:
    """When one worker last purged data past its retention period and swept orphan evidence files
    (:mod:`portal.retention`); each worker loop keeps one, so each worker process purges at most once
    every :attr:`INTERVAL`, on its first round and then an hour after the last purge.

    Why not on every round: the purge is a statement per kind of data over the sessions, links,
    outbox and audit log, and the sweep lists the whole evidence folder, while an idle worker starts
    a round every ``WORKER_POLL_SECONDS`` and a busy one starts the next round at once. Retention
    periods are counted in days, so purging up to an hour late changes nothing for anyone. Times
    come from the portal's clock; a clock set back counts as an hour gone (purging again is harmless).
    """

    INTERVAL = timedelta(hours=1)

    def __init__(self):
        self.last_purge: datetime | None = None

    def due(self, now: datetime) -> bool:
        return self.last_purge is None or not timedelta(0) <= now - self.last_purge < self.INTERVAL


def run_due_jobs(now: datetime, purges: PurgeSchedule | None = None) -> int:
    """Escalate missed acknowledgements and overdue tickets (their e-mails join the outbox), raise
    insider-leak alerts (:mod:`portal.oversight`), finish interrupted erasures and erase what erasures
    kept once its date has passed, purge the portal's own data past its retention period (when
    ``purges`` says it is due; always without one), queue the waiting notices of breach incidents to
    their affected customers (a commit per batch), then deliver the outbox.

    Return how much work was done, so an idle worker knows to wait before the next round.
    """
    escalated = escalate_overdue(now)
    db.session.commit()
    if escalated:
        log.info("Escalated %s overdue ticket(s)", escalated)
    alerts = raise_alerts(now)
    db.session.commit()
    if alerts:
        log.info("Raised %s insider-leak alert(s)", alerts)
    erased = run_erasure_jobs(now)
    purged = run_purges(now, purges or PurgeSchedule())
    notices = queue_waiting_notices(now)
    if notices:
        log.info("Queued %s breach notice(s) to affected customers", notices)
    return escalated + alerts + erased + purged + notices + deliver_due(now)


def run_purges(now: datetime, purges: PurgeSchedule) -> int:
    """Purge what is past its retention period and sweep orphan evidence files, if ``purges`` says
    it is time; return how much was removed."""
    if not purges.due(now):
        return 0
    purged = purge_expired(now) + remove_orphan_evidence(now)
    db.session.commit()
    purges.last_purge = now
    if purged:
        log.info("Purged %s row(s) past their retention period", purged)
    return purged


def run_erasure_jobs(now: datetime) -> int:
    """Resume approved erasures that were interrupted (each step commits with its record), then erase
    the data kept after an erasure whose date has passed."""
    resumed = erasure.unfinished()
    for details in resumed:
        erasure.carry_out(details, now, db.session.commit)
    db.session.commit()
    expired = erasure.erase_expired(now.date(), now)
    db.session.commit()
    if resumed or expired:
        log.info("Resumed %s erasure(s); erased %s retained item(s)", len(resumed), expired)
    return len(resumed) + expired
