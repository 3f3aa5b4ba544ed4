"""Telling every affected customer of a breach incident: one bilingual e-mail each, through the outbox.

A board member starts the notice (:func:`start_customer_notice`); the notices are then queued in
batches (:func:`queue_notice_batch`): a small first one (:data:`FIRST_BATCH_SIZE`) in the request
that starts it, the rest by ``flask worker`` (:func:`queue_waiting_notices`), which commits after
every batch, so a crash loses at most the batch in hand and the next round carries on where the
last commit stopped.

Nobody is told twice: a customer appears once on an incident's list (the table's unique key), and a
batch claims its rows by setting ``notice_queued_at`` on rows where it is still empty, in the same
transaction as their outbox messages — on PostgreSQL the rows are picked with ``FOR UPDATE SKIP
LOCKED``, so concurrent runners take different rows; on SQLite the claiming UPDATE takes the one
write lock, and a second runner's UPDATE finds the rows already set.

A customer without an e-mail address (or whose data was erased) is marked queued with no outbox
message: the board tells them another way, and the progress counts them apart.
"""

from __future__ import annotations

from datetime import datetime

from flask import render_template
from flask_babel import force_locale, get_translations
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from portal.account.models import ContactPoint, Customer
from portal.audit.services import record
from portal.db import db
from portal.enums import Channel
from portal.incidents.models import DATA_CATEGORIES, AffectedCustomer, BreachIncident
from portal.incidents.queries import notice_progress
from portal.outbox.services import queue_email

BATCH_SIZE = 500  # what the worker (and "Resume") queues in one transaction
# What the request that starts the notice queues itself, so that its page answers quickly; the worker
# does the rest.
FIRST_BATCH_SIZE = 50
# Vietnamese first, then English, in every notice whatever the customer's language.
NOTICE_LOCALES = ("vi", "en")
PURPOSE = "incident_notice"

NOT_ALLOWED = _l("Only the board of directors can notify the customers of an incident.")
NOBODY_AFFECTED = _l("No customer is listed as affected by this incident: add them before notifying.")
NOTHING_TO_SAY = _l("Describe what happened and the measures taken before notifying the customers: "
                    "the notice tells them both.")


class NoticeRefused(ValueError):
    """The notice cannot start; the message says why, in the reader's language."""


def start_customer_notice(incident: BreachIncident, staff, now: datetime) -> bool:
    """Start notifying the incident's affected customers; return False if it had already started
    (starting twice changes nothing). Raises :class:`NoticeRefused` when it may not start."""
    if not staff.can("incident.manage"):
        raise NoticeRefused(NOT_ALLOWED)
    if incident.customers_notice_started_at is not None:
        return False
    if not (incident.acts or "").strip() or not (incident.measures or "").strip():
        raise NoticeRefused(NOTHING_TO_SAY)
    affected = notice_progress(incident.id).total
    if not affected:
        raise NoticeRefused(NOBODY_AFFECTED)
    incident.customers_notice_started_at = now
    incident.customers_notice_started_by_id = staff.id
    record(staff, "incident.customers_notice_started", incident, affected=affected)
    db.session.flush()
    return True


def _claim(incident_id: int, now: datetime, limit: int) -> list[tuple[int, int]]:
    """Mark up to ``limit`` waiting rows queued at ``now``; return (row id, customer id) of each."""
    waiting = (select(AffectedCustomer.id)
               .where(AffectedCustomer.incident_id == incident_id, AffectedCustomer.notice_queued_at.is_(None))
               .order_by(AffectedCustomer.id)
               .limit(limit)
               .with_for_update(skip_locked=True))  # PostgreSQL; SQLite has one writer
    claimed = db.session.execute(
        update(AffectedCustomer)
        .where(AffectedCustomer.id.in_(waiting.scalar_subquery()), AffectedCustomer.notice_queued_at.is_(None))
        .values(notice_queued_at=now)
        .returning(AffectedCustomer.id, AffectedCustomer.customer_id)
        .execution_options(synchronize_session=False))
    return sorted((row.id, row.customer_id) for row in claimed)


def _recipients(customer_ids: list[int]) -> dict[int, tuple[str, str | None]]:
    """customer id → (full name, the address the portal writes to, or None). The address is the
    record's first e-mail address, as the portal's other e-mails to a customer choose it; an erased
    record has none."""
    first_email = (select(ContactPoint.value)
                   .where(ContactPoint.customer_id == Customer.id, ContactPoint.channel == Channel.EMAIL)
                   .order_by(ContactPoint.id)
                   .limit(1)
                   .correlate(Customer)
                   .scalar_subquery())
    rows = db.session.execute(select(Customer.id, Customer.full_name, Customer.erased_at, first_email)
                              .where(Customer.id.in_(customer_ids)))
    return {row[0]: (row[1], None if row[2] is not None else row[3]) for row in rows}


def notice_parts(incident: BreachIncident) -> dict[str, dict[str, str]]:
    """The notice in each language, the same for every customer: its subject, the greeting (with a
    place for the customer's name) and the body."""
    parts = {}
    for locale in NOTICE_LOCALES:
        with force_locale(locale):
            text = render_template("emails/_incident_notice_part.txt", incident=incident,
                                   categories=[DATA_CATEGORIES[key] for key in incident.categories or []
                                               if key in DATA_CATEGORIES])
            subject, _, body = text.partition("\n")
            parts[locale] = {"subject": subject.strip(), "body": body.strip(),
                             "greeting": get_translations().ugettext("Dear %(name)s,")}
    return parts


def queue_notice_batch(incident_id: int, now: datetime, limit: int = BATCH_SIZE, actor=None) -> int:
    """Queue the notices of up to ``limit`` affected customers still waiting; return how many rows
    were taken (e-mailed or marked to be told another way). Flushes; the caller commits."""
    incident = db.session.get(BreachIncident, incident_id)
    if incident is None or incident.customers_notice_started_at is None:
        return 0
    claimed = _claim(incident_id, now, limit)
    if not claimed:
        return 0
    recipients = _recipients([customer_id for _row, customer_id in claimed])
    parts = notice_parts(incident)
    subject = " / ".join(parts[locale]["subject"] for locale in NOTICE_LOCALES)
    messages, without_email = [], 0
    for row_id, customer_id in claimed:
        name, address = recipients.get(customer_id, ("", None))
        if not address:
            without_email += 1
            continue
        greetings = {locale: parts[locale]["greeting"] % {"name": name} for locale in NOTICE_LOCALES}
        messages.append((row_id, queue_email(address, "incident_notice", NOTICE_LOCALES[0], PURPOSE, flush=False,
                                             subject=subject, parts=parts, greetings=greetings, incident=incident)))
    db.session.flush()  # the batch's messages in one INSERT, which gives them their ids
    links = [{"id": row_id, "outbox_id": message.id} for row_id, message in messages]
    if links:
        db.session.execute(update(AffectedCustomer), links)
    record(actor, "incident.customer_notices_queued", incident, emailed=len(links), without_email=without_email)
    db.session.flush()
    return len(claimed)


def queue_waiting_notices(now: datetime, limit: int = BATCH_SIZE) -> int:
    """For ``flask worker``: queue every waiting notice of every started incident, committing after
    each batch; return how many rows were taken."""
    waiting = (select(AffectedCustomer.id)
               .where(AffectedCustomer.incident_id == BreachIncident.id, AffectedCustomer.notice_queued_at.is_(None))
               .exists())
    incident_ids = list(db.session.scalars(
        select(BreachIncident.id).where(BreachIncident.customers_notice_started_at.is_not(None), waiting)
        .order_by(BreachIncident.id)))
    db.session.commit()
    total = 0
    for incident_id in incident_ids:
        while True:
            queued = queue_notice_batch(incident_id, now, limit)
            db.session.commit()
            total += queued
            if not queued:
                break
    return total

