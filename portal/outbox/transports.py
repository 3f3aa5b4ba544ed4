"""Ways a message leaves the outbox: a real SMTP server, or the development mailbox."""

from __future__ import annotations

import base64
import logging
import re
import smtplib
import ssl
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime

from portal import clock
from portal.outbox.models import OutboxMessage

log = logging.getLogger(__name__)


class DeliveryError(Exception):
    """The message could not be delivered this time; the text is safe to store."""


# Servers end a connection that has been idle for a while (often after 60 seconds or more); one idle
# for less than this is used as it is, without asking the server first.
IDLE_BEFORE_TEST = timedelta(seconds=30)


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


class SmtpSession:
    """One connection to the SMTP server for a round of deliveries: opened for the first message and
    reused for the next ones, dropped after any failure (the next message opens a new one). Setting
    up a connection (TCP, EHLO, STARTTLS, AUTH) costs far more than a message.

    A connection idle for :data:`IDLE_BEFORE_TEST` or longer (by the portal's clock) is tested with
    NOOP first and replaced if the server has dropped it meanwhile; one used just before is not, which
    saves a round trip per message in a busy round. If the server closes a connection sooner than
    that, the message sent on it fails this time and is retried on the usual schedule.

    Once the server has accepted a message (its reply to DATA), nothing that follows makes it count
    as undelivered: a failed goodbye must not get the message sent a second time.
    """

    def __init__(self, config):
        self.config = config
        self.client: smtplib.SMTP | None = None
        self.last_used: datetime | None = None  # when the connection was opened or last used
        # The last attempt to set up a connection failed (the server could not be reached, or refused
        # STARTTLS or the sign-in): the other messages would fail the same way just now.
        self.unavailable = False

    def __enter__(self) -> SmtpSession:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def send(self, message: OutboxMessage) -> None:
        """Deliver one message or raise :class:`DeliveryError`."""
        email = build_email(message, self.config["MAIL_FROM"])
        client = self._ready_client()
        try:
            client.send_message(email)
        except (OSError, smtplib.SMTPException) as error:
            self._drop()
            raise DeliveryError(describe(error, self.config)) from None
        self.last_used = clock.now()

    def _ready_client(self) -> smtplib.SMTP:
        if self.client is not None:
            if not self._idle_too_long() or self._still_open():
                return self.client
            self._drop()  # the server closed it meanwhile: a new one
        self.client = self._open()
        self.unavailable = False
        self.last_used = clock.now()
        return self.client

    def _idle_too_long(self) -> bool:
        """Idle for :data:`IDLE_BEFORE_TEST` or more; a clock set back counts as idle too."""
        idle = clock.now() - self.last_used
        return not timedelta(0) <= idle < IDLE_BEFORE_TEST

    def _still_open(self) -> bool:
        try:
            return self.client.noop()[0] == 250
        except (OSError, smtplib.SMTPException):
            return False

    def _open(self) -> smtplib.SMTP:
        """A new connection, secured and signed in as configured."""
        try:
            client = _connect(self.config)
        except (OSError, smtplib.SMTPException) as error:
            self.unavailable = True
            raise DeliveryError(describe(error, self.config)) from None
        try:
            if self.config["SMTP_SECURITY"] == "starttls":
                client.starttls(context=ssl.create_default_context())
            if self.config["SMTP_USERNAME"]:
                client.login(self.config["SMTP_USERNAME"], self.config["SMTP_PASSWORD"])
        except (OSError, smtplib.SMTPException) as error:
            client.close()
            self.unavailable = True
            raise DeliveryError(describe(error, self.config)) from None
        return client

    def _drop(self) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None

    def close(self) -> None:
        """Say goodbye and close (a failure to say goodbye changes nothing that was sent)."""
        if self.client is None:
            return
        try:
            self.client.quit()
        except (OSError, smtplib.SMTPException) as error:
            log.info("Closing the SMTP session failed: %s", describe(error, self.config))
        finally:
            self._drop()

