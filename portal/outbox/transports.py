"""Ways a message leaves the outbox: a real SMTP server, or the development mailbox."""

from __future__ import annotations

import base64
import logging
import re
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import format_datetime

from portal.outbox.models import OutboxMessage

log = logging.getLogger(__name__)


class DeliveryError(Exception):
    """The message could not be delivered this time; the text is safe to store."""


def build_email(message: OutboxMessage, sender: str) -> EmailMessage:
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.recipient
    email["Subject"] = message.subject
    email["Message-ID"] = message.message_id
    email["Date"] = format_datetime(message.created_at)
    email["Auto-Submitted"] = "auto-generated"
    # Base64 always, rather than the standard library's guess from the first lines (which picks
    # quoted-printable when they are long and plain, as the HTML masthead is): each part then arrives
    # exactly as queued, line endings included, and Vietnamese text is smaller so.
    email.set_content(message.body_text, cte="base64")
    email.add_alternative(message.body_html, subtype="html", cte="base64")
    # After the bodies: set_content() removes every Content-* header already on the message.
    email["Content-Language"] = message.locale
    return email


_WORD_CHARACTER = r"[^\W_]"  # a letter or digit, of any script


def _secret_forms(config) -> list[str]:
    """The credentials as they may come back in a server's reply: plain, and base64 as AUTH sends them."""
    username, password = config["SMTP_USERNAME"], config["SMTP_PASSWORD"]
    forms = []
    if password:
        forms += [password, base64.b64encode(password.encode()).decode(),
                  base64.b64encode(f"\0{username}\0{password}".encode()).decode()]
    if username:
        forms += [username, base64.b64encode(username.encode()).decode()]
    return sorted({form for form in forms if form}, key=len, reverse=True)  # longest first


def scrub(text: str, config) -> str:
    """Remove credentials from an error text before it is stored or logged.

    Only a credential standing on its own counts: not one that is part of a longer word or number,
    or a short user name such as "u" would blank every letter u of the server's reply."""
    for secret in _secret_forms(config):
        text = re.sub(rf"(?<!{_WORD_CHARACTER}){re.escape(secret)}(?!{_WORD_CHARACTER})", "***", text)
    return text[:1000]


def describe(error: BaseException, config) -> str:
    return scrub(f"{type(error).__name__}: {error}", config)


def _connect(config) -> smtplib.SMTP:
    host, port, timeout = config["SMTP_HOST"], config["SMTP_PORT"], config["SMTP_TIMEOUT"]
    if config["SMTP_SECURITY"] == "ssl":
        return smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
    return smtplib.SMTP(host, port, timeout=timeout)


def send_smtp(message: OutboxMessage, config) -> None:
    """Deliver one message to the configured SMTP server or raise :class:`DeliveryError`.

    Once the server has accepted the message (its reply to DATA), nothing that follows makes it
    count as undelivered: a failed goodbye must not get the message sent a second time.
    """
    email = build_email(message, config["MAIL_FROM"])
    try:
        client = _connect(config)
    except (OSError, smtplib.SMTPException) as error:
        raise DeliveryError(describe(error, config)) from None
    try:
        try:
            if config["SMTP_SECURITY"] == "starttls":
                client.starttls(context=ssl.create_default_context())
            if config["SMTP_USERNAME"]:
                client.login(config["SMTP_USERNAME"], config["SMTP_PASSWORD"])
            client.send_message(email)
        except (OSError, smtplib.SMTPException) as error:
            raise DeliveryError(describe(error, config)) from None
        try:
            client.quit()
        except (OSError, smtplib.SMTPException) as error:
            log.info("Outbox message %s was accepted; closing the SMTP session failed: %s",
                     message.id, describe(error, config))
    finally:
        client.close()
