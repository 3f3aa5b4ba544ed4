"""Shared fixtures: an app on a fresh database per test, a client, a controllable clock, mail
helpers, and a helper that signs a customer in through the real link flow.

Set PORTAL_TEST_DATABASE_URL (e.g. postgresql+psycopg://127.0.0.1/portal_ci) to run against
PostgreSQL; otherwise each test gets its own SQLite file.
"""

from __future__ import annotations

import os
import re
from datetime import datetime, timedelta, timezone

import pytest
from flask import has_app_context
from flask.testing import FlaskClient
from sqlalchemy import select, text

from portal import clock as clock_module
from portal import create_app
from portal.account.models import Consent, ContactPoint, Customer, Order
from portal.db import db
from portal.enums import Channel
from portal.extensions import limiter
from portal.outbox.models import OutboxMessage

TEST_DATABASE_URL = os.environ.get("PORTAL_TEST_DATABASE_URL", "")
_pg_schema_ready = False


def _prepare_database(app) -> None:
    """Give the test an empty schema: a new SQLite file, or emptied PostgreSQL tables."""
    global _pg_schema_ready
    if app.config["DATABASE_URL"].startswith("sqlite"):
        db.create_all()
        return
    if not _pg_schema_ready:
        db.drop_all()
        db.session.execute(text("DROP TABLE IF EXISTS alembic_version"))
        db.session.commit()
        db.create_all()
        _pg_schema_ready = True
    tables = ", ".join(table.name for table in db.metadata.sorted_tables)
    db.session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    db.session.commit()


class FreshContextClient(FlaskClient):
    """A test client whose every request runs in its own app context, as in production.

    The ``app`` fixture keeps an app context open for the test's own database work; without this,
    requests would share its ``g`` (Flask-Login's cached user, Flask-WTF's token) and its database
    session. After each request the test's session forgets what it had loaded, so it reads what the
    request committed.
    """

    def open(self, *args, **kwargs):
        with self.application.app_context():
            response = super().open(*args, **kwargs)
        if has_app_context():
            db.session.expire_all()
        return response


def make_test_app(tmp_path, **overrides):
    settings = {
        "ENV": "testing",
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-that-is-long-enough-000000",
        "DATABASE_URL": TEST_DATABASE_URL or f"sqlite:///{tmp_path / 'portal.db'}",
        "BASE_URL": "http://localhost",
        "TRUSTED_HOSTS": ["localhost", "127.0.0.1"],
        "INPROCESS_WORKER": False,
        "MAIL_TRANSPORT": "mailbox",
        "RATELIMIT_STORAGE_URL": "memory://",
    }
    settings.update(overrides)
    app = create_app(settings)
    app.test_client_class = FreshContextClient
    return app


@pytest.fixture
def app(tmp_path):
    app = make_test_app(tmp_path)
    with app.app_context():
        _prepare_database(app)
        limiter.reset()
        yield app
        db.session.remove()
        db.engine.dispose()  # no connection left open per test on a shared PostgreSQL server


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class FrozenClock:
    """The portal's clock, stopped at a fixed time and moved by the test."""

    def __init__(self, start: datetime):
        self.current = start

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta) -> datetime:
        self.current += timedelta(**delta)
        return self.current


@pytest.fixture
def clock(monkeypatch):
    frozen = FrozenClock(datetime.now(timezone.utc).replace(microsecond=0))
    monkeypatch.setattr(clock_module, "now", frozen.now)
    return frozen


def make_customer(email: str = "an.nguyen@example.vn", name: str = "Nguyễn Văn An", **extra) -> Customer:
    """A customer with an e-mail address, a phone, an address, an order and two consents."""
    now = datetime.now(timezone.utc)
    customer = Customer(full_name=name, source="web_form", notes=extra.get("notes", ""),
                        preferred_locale=extra.get("locale"))
    customer.contact_points = [
        ContactPoint(channel=Channel.EMAIL.value, kind="personal", value=email, value_normalized=email.lower(),
                     source="web_form"),
        ContactPoint(channel=Channel.PHONE.value, kind="mobile", value=extra.get("phone", "0903 123 456"),
                     value_normalized="+84903123456", source="phone"),
        ContactPoint(channel=Channel.ADDRESS.value, kind="home",
                     value=extra.get("address", "12 Lê Lợi, Quận 1, TP. Hồ Chí Minh"),
                     value_normalized="", source="web_form"),
    ]
    customer.orders = [Order(reference=extra.get("order", f"DH-2026-{abs(hash(email)) % 100000:05d}"),
                             description="Camera IP 4MP", ordered_on=now.date() - timedelta(days=100),
                             warranty_ends_on=now.date() + timedelta(days=600))]
    customer.consents = [
        Consent(purpose="warranty", is_granted=True, method="web_form", evidence="form-1001", given_at=now),
        Consent(purpose="promotions", is_granted=False, method="recorded_call", evidence="call-7.mp3",
                given_at=now),
    ]
    db.session.add(customer)
    db.session.commit()
    return customer


def outbox(recipient: str | None = None) -> list[OutboxMessage]:
    statement = select(OutboxMessage).order_by(OutboxMessage.id)
    if recipient:
        statement = statement.where(OutboxMessage.recipient == recipient)
    return list(db.session.scalars(statement))


LINK_PATTERN = re.compile(r"https?://[^/\s]+(/sign-in/link/[A-Za-z0-9_\-]+)")
CODE_PATTERN = re.compile(r"\b([A-Z2-9]{4}-[A-Z2-9]{4})\b")


def link_and_code(message: OutboxMessage) -> tuple[str, str]:
    """The sign-in link's path and the code, read from the e-mail as a person would."""
    return LINK_PATTERN.search(message.body_text).group(1), CODE_PATTERN.search(message.body_text).group(1)


def page_text(response) -> str:
    return response.get_data(as_text=True)


def english(client):
    """Pick English with the language switch, as a visitor would; return the client."""
    response = client.post("/language", data={"csrf_token": csrf_token(client, "/"), "locale": "en", "next": "/"})
    assert response.status_code == 303
    return client


def csrf_token(client, path: str) -> str:
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def request_link(client, email: str, next_path: str = ""):
    token = csrf_token(client, "/sign-in")
    return client.post("/sign-in", data={"email": email, "csrf_token": token, "next": next_path})


def sign_in(client, email: str) -> None:
    """Sign ``client`` in through the real flow: ask, read the e-mail, open the link, Continue."""
    response = request_link(client, email)
    assert response.status_code == 303, response.get_data(as_text=True)
    path, _code = link_and_code(outbox()[-1])
    continue_page = client.get(path, follow_redirects=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', continue_page.get_data(as_text=True))
    response = client.post("/sign-in/continue", data={"csrf_token": token.group(1)})
    assert response.status_code == 303 and response.headers["Location"].endswith("/my-data"), response.status


@pytest.fixture
def customer(app):
    return make_customer()


# --- A real SMTP server for the outbox tests -------------------------------------------------------

SMTP_TEST_USERNAME = "portal-mailer"
SMTP_TEST_PASSWORD = "s3cret-Sm7p-Passw0rd"  # noqa: S105 (a test server's password)


def free_port() -> int:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ReceivedMail:
    def __init__(self, envelope, session, raw: bytes):
        from email import policy
        from email.parser import BytesParser

        self.mail_from = envelope.mail_from
        self.rcpt_tos = list(envelope.rcpt_tos)
        self.login = session.login_data
        self.raw = raw
        self.message = BytesParser(policy=policy.default).parsebytes(raw)

    @property
    def message_id(self) -> str:
        return self.message["Message-ID"]


class SMTPTestServer:
    """aiosmtpd on 127.0.0.1:<port>, requiring the test credentials. It can be stopped and started
    again on the same port; what it received survives restarts.

    Knobs: ``delay`` (seconds each DATA takes), ``auth_reply`` (the reply to any AUTH attempt,
    e.g. a rejection), ``quit_reply`` (the reply to QUIT)."""

    host = "127.0.0.1"
    username = SMTP_TEST_USERNAME
    password = SMTP_TEST_PASSWORD

    def __init__(self, port: int):
        import threading

        self.port = port
        self.received: list[ReceivedMail] = []
        self.delay = 0.0
        self.auth_reply: str | None = None
        self.quit_reply: str | None = None
        self._lock = threading.Lock()
        self._controller = None

    # aiosmtpd handler hooks
    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        import asyncio

        if self.delay:
            await asyncio.sleep(self.delay)
        with self._lock:
            self.received.append(ReceivedMail(envelope, session, envelope.original_content or envelope.content))
        return "250 2.0.0 Message accepted for delivery"

    async def handle_QUIT(self, server, session, envelope):
        from aiosmtpd.smtp import MISSING

        return self.quit_reply or MISSING

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        from aiosmtpd.smtp import AuthResult

        if self.auth_reply:
            return AuthResult(success=False, handled=False, message=self.auth_reply)
        ok = (auth_data.login == self.username.encode() and auth_data.password == self.password.encode())
        return AuthResult(success=ok, handled=False, auth_data=auth_data)

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        assert self._controller is None, "already running"
        controller = Controller(self, hostname=self.host, port=self.port, server_hostname="mail.test",
                                authenticator=self._authenticate, auth_require_tls=False,
                                ready_timeout=10)
        try:
            controller.start()
        except BaseException:
            controller.stop(no_assert=True)
            if not controller.loop.is_closed():
                controller.loop.close()
            raise
        self._controller = controller

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def message_ids(self) -> list[str]:
        with self._lock:
            return [mail.message_id for mail in self.received]

    def app_config(self) -> dict:
        """The settings that make the portal deliver to this server."""
        return {"MAIL_TRANSPORT": "smtp", "SMTP_HOST": self.host, "SMTP_PORT": self.port,
                "SMTP_SECURITY": "none", "SMTP_USERNAME": self.username,
                "SMTP_PASSWORD": self.password, "SMTP_TIMEOUT": 5}


@pytest.fixture
def smtp_server():
    """A running SMTP server on a free local port, stopped (and its loop closed) after the test."""
    server = SMTPTestServer(free_port())
    server.start()
    yield server
    server.stop()


# --- Staff members and their sign-in (password, then TOTP) ----------------------------------------

STAFF_PASSWORD = "lantern-orbit-mango-7319"


def make_staff(role: str = "care", email: str | None = None, password: str | None = STAFF_PASSWORD,
               enrolled: bool = True, name: str | None = None):
    """A staff member with ``password``; if ``enrolled``, with an authenticator already set up, whose
    secret is ``member.totp_secret`` (see :func:`staff_totp_code`)."""
    import pyotp

    from portal.staff.models import StaffMember
    from portal.staff.passwords import hash_password

    now = clock_module.now()
    member = StaffMember(email=(email or f"{role}@khoingo.net").lower(), full_name=name or f"Nhân viên {role}",
                         role=role, is_active=True, password_hash=hash_password(password) if password else None,
                         failed_sign_in_count=0, created_at=now)
    if enrolled:
        member.totp_secret = pyotp.random_base32()
        member.totp_enrolled_at = now
    db.session.add(member)
    db.session.commit()
    return member


def staff_totp_code(member, clock=None) -> str:
    """The code the member's app shows at the portal's current time. If that step's code was used
    already, a real app makes you wait for the next one: a frozen ``clock`` is moved on to it; without
    one the next step's code is given (accepted within the one-step window)."""
    import pyotp

    db.session.expire_all()
    totp = pyotp.TOTP(member.totp_secret)
    step = totp.timecode(clock_module.now())
    if member.totp_last_step is not None and step <= member.totp_last_step:
        if clock is not None:
            clock.advance(seconds=30 * (member.totp_last_step + 1 - step))
            step = totp.timecode(clock_module.now())
        else:
            step = member.totp_last_step + 1
    return totp.generate_otp(step)


def sign_in_staff(client, member, password: str = STAFF_PASSWORD, clock=None):
    """Sign a staff member in through the real pages: e-mail and password, then a TOTP code."""
    response = client.post("/staff/sign-in", data={"email": member.email, "password": password,
                                                    "csrf_token": csrf_token(client, "/staff/sign-in")})
    assert response.status_code == 303 and response.headers["Location"].endswith("/staff/sign-in/code"), \
        response.get_data(as_text=True)
    token = csrf_token(client, "/staff/sign-in/code")
    response = client.post("/staff/sign-in/code", data={"code": staff_totp_code(member, clock), "csrf_token": token})
    assert response.status_code == 303, response.get_data(as_text=True)
    return response
