"""Delivering the outbox: claim a due message, try it once, record the attempt, commit.

Any number of workers may run: on PostgreSQL each claims rows with ``FOR UPDATE SKIP LOCKED`` and
holds the lock while sending, so two workers never send the same message. A failed attempt is
retried on an exponential schedule until ``MAIL_GIVE_UP_HOURS`` have passed since the message was
written (the last try is made when that time comes); then it is marked failed and stays in the table
for staff to see and resend. A message that fails for an unexpected reason (a bug, bad data) counts
as a failed attempt too, so it neither blocks the messages queued after it nor is retried in a loop.
"""

from __future__ import annotations

import logging
import os
import socket
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from portal.audit.services import record
from portal.db import db
from portal.outbox.models import DeliveryAttempt, OutboxMessage, OutboxStatus
from portal.outbox.transports import DeliveryError, SmtpSession, describe
from portal.security import redact_secrets

log = logging.getLogger(__name__)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def retry_delay(attempt_count: int, config) -> timedelta:
    """The wait after the ``attempt_count``-th failed attempt: doubling, capped."""
    seconds = config["MAIL_RETRY_FIRST_SECONDS"] * 2 ** max(attempt_count - 1, 0)
    return timedelta(seconds=min(seconds, config["MAIL_RETRY_MAX_SECONDS"]))


def _claim_next_due(now: datetime) -> OutboxMessage | None:
    statement = (
        select(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    return db.session.scalars(statement).first()


def _send(message: OutboxMessage, config, smtp: SmtpSession | None) -> None:
    if config["MAIL_TRANSPORT"] == "smtp":
        if smtp is None:
            with SmtpSession(config) as own:
                own.send(message)
        else:
            smtp.send(message)
    # The "mailbox" transport delivers by marking the row sent: the development mailbox shows it.


def _record_outcome(message: OutboxMessage, now: datetime, error: str | None, config) -> None:
    message.attempt_count += 1
    db.session.add(DeliveryAttempt(message=message, attempted_at=now, succeeded=error is None,
                                   error=error, worker=worker_name()))
    if error is None:
        message.status = OutboxStatus.SENT
        message.sent_at = now
        message.transport = config["MAIL_TRANSPORT"]
        _forget_secrets(message, config)
        return
    message.last_error = error
    give_up_at = message.queued_at + timedelta(hours=config["MAIL_GIVE_UP_HOURS"])
    if message.useless_after is not None:
        give_up_at = min(give_up_at, message.useless_after)
    if now >= give_up_at:
        message.status = OutboxStatus.FAILED
        message.failed_at = now
        _forget_secrets(message, config)
        record("system", "mail.failed", f"outbox:{message.id}", error=error,
               attempts=message.attempt_count)
        log.error("Gave up on outbox message %s after %s attempts", message.id, message.attempt_count)
    else:
        # Never wait past the give-up time: the last try is made when it comes, not skipped.
        message.next_attempt_at = min(now + retry_delay(message.attempt_count, config), give_up_at)


def _give_up_unsent(message: OutboxMessage, now: datetime, config) -> None:
    """A message whose content has expired before it could be sent (a sign-in link or code, after a
    mail server or worker was down) is not sent late: the person asks again, and gets a link that
    works. It is kept, as failed, with the reason."""
    message.status = OutboxStatus.FAILED
    message.failed_at = now
    message.last_error = "Not sent: what it carries expired before it could be sent."
    _forget_secrets(message, config)
    record("system", "mail.expired_unsent", f"outbox:{message.id}", attempts=message.attempt_count)
    log.warning("Outbox message %s expired before it could be sent", message.id)


def _forget_secrets(message: OutboxMessage, config) -> None:
    """Once a message has left (or never will), keep no working sign-in or password link in it: the
    database holds only hashes of those. The development mailbox is the inbox itself, so it keeps them."""
    if config["MAIL_TRANSPORT"] == "mailbox":
        return
    with_codes = message.purpose in ("sign_in_link", "fresh_sign_in")  # the e-mails that carry a code
    message.body_text = redact_secrets(message.body_text, with_codes)
    message.body_html = redact_secrets(message.body_html, with_codes)


def deliver_one(now: datetime, smtp: SmtpSession | None = None) -> bool:
    """Claim and try one due message (on ``smtp``'s connection if given, else on one of its own);
    return False when none is due. Commits its own work."""
    message = _claim_next_due(now)
    if message is None:
        db.session.rollback()
        return False
    config = current_app.config
    if message.useless_after is not None and now >= message.useless_after:
        _give_up_unsent(message, now, config)
        db.session.commit()
        return True
    try:
        _send(message, config, smtp)
        error = None
    except DeliveryError as failure:
        error = str(failure)
        log.warning("Delivery of outbox message %s failed: %s", message.id, error)
    except Exception as failure:  # noqa: BLE001 (recorded as a failed attempt, never lost or looped on)
        error = describe(failure, config)
        log.error("Delivery of outbox message %s failed unexpectedly: %s", message.id, error)
    _record_outcome(message, now, error, config)
    db.session.commit()
    return True


def deliver_due(now: datetime, limit: int = 100) -> int:
    """Try every message due at ``now`` (at most ``limit``) over one SMTP connection, kept while it
    works; return how many were tried.

    The round stops when no connection to the server can be set up: that message's failed attempt
    is recorded as any other, and the messages after it stay queued as they were, for the next round.
    Dialling a server that is down once per message would only make a long round of failures (each
    waiting up to ``SMTP_TIMEOUT``) and push every message's next try back for nothing."""
    tried = 0
    with SmtpSession(current_app.config) as smtp:
        while tried < limit and not smtp.unavailable and deliver_one(now, smtp):
            tried += 1
    return tried


def resend(message: OutboxMessage, now: datetime, actor: str) -> None:
    """Put a failed message back in the queue, keeping its Message-ID and history."""
    message.status = OutboxStatus.PENDING
    message.queued_at = now
    message.next_attempt_at = now
    message.failed_at = None
    record(actor, "mail.resend", f"outbox:{message.id}")
