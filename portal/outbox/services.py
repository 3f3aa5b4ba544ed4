"""Putting e-mail in the outbox, in the transaction of the change that causes it."""

from __future__ import annotations

from datetime import datetime
from email.utils import make_msgid

from flask import current_app, render_template
from flask_babel import force_locale

from portal import clock
from portal.db import db
from portal.outbox.models import OutboxMessage, OutboxStatus


def queue_email(recipient: str, template: str, locale: str, purpose: str, *,
                useless_after: datetime | None = None, flush: bool = True, **context) -> OutboxMessage:
    """Render ``templates/emails/<template>.{txt,html}`` in ``locale`` and add it to the outbox.

    The first line of the text template is the subject; the text part opens with the company's name
    (``emails/_masthead.txt``), as the HTML layout opens with its mark. Nothing is sent here: the row
    is part of the caller's transaction, so the e-mail exists if and only if the change that caused
    it commits. A caller queueing many at once passes ``flush=False`` and flushes once (one INSERT
    for them all); the message has its id only after that flush.
    """
    with force_locale(locale):
        text = render_template(f"emails/{template}.txt", **context)
        html = render_template(f"emails/{template}.html", **context)
        masthead = render_template("emails/_masthead.txt").strip()
    subject, _, body = text.partition("\n")
    # Stamped by the portal's clock (not the column defaults), the clock the worker asks what is due.
    now = clock.now()
    message = OutboxMessage(
        message_id=make_msgid(domain=current_app.config["MAIL_MESSAGE_ID_DOMAIN"]),
        recipient=recipient,
        subject=subject.strip(),
        body_text=f"{masthead}\n\n{body.lstrip()}",
        body_html=html,
        locale=locale,
        purpose=purpose,
        status=OutboxStatus.PENDING,
        attempt_count=0,
        created_at=now,
        queued_at=now,
        next_attempt_at=now,
        useless_after=useless_after,
    )
    db.session.add(message)
    if flush:
        db.session.flush()
    return message
