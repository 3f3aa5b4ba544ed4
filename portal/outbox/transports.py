"""Ways a message leaves the outbox: a real SMTP server, or the development mailbox."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import format_datetime

from portal.outbox.models import OutboxMessage


class DeliveryError(Exception):
    """The message could not be delivered this time; the text is safe to store."""


def build_email(message: OutboxMessage, sender: str) -> EmailMessage:
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.recipient
    email["Subject"] = message.subject
    email["Message-ID"] = message.message_id
    email["Date"] = format_datetime(message.created_at)
    email["Content-Language"] = message.locale
    email["Auto-Submitted"] = "auto-generated"
    email.set_content(message.body_text)
    email.add_alternative(message.body_html, subtype="html")
    return email


def _scrub(text: str, config) -> str:
    """Remove credentials from an error text before it is stored or logged."""
    for secret in (config["SMTP_PASSWORD"], config["SMTP_USERNAME"]):
        if secret:
            text = text.replace(secret, "***")
    return text[:1000]


def send_smtp(message: OutboxMessage, config) -> None:
    """Deliver one message to the configured SMTP server or raise :class:`DeliveryError`."""
    email = build_email(message, config["MAIL_FROM"])
    host, port, timeout = config["SMTP_HOST"], config["SMTP_PORT"], config["SMTP_TIMEOUT"]
    try:
        if config["SMTP_SECURITY"] == "ssl":
            client = smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(host, port, timeout=timeout)
        with client:
            if config["SMTP_SECURITY"] == "starttls":
                client.starttls(context=ssl.create_default_context())
            if config["SMTP_USERNAME"]:
                client.login(config["SMTP_USERNAME"], config["SMTP_PASSWORD"])
            client.send_message(email)
    except (OSError, smtplib.SMTPException) as error:
        raise DeliveryError(_scrub(f"{type(error).__name__}: {error}", config)) from None
