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
    return create_app(settings)


@pytest.fixture
def app(tmp_path):
    app = make_test_app(tmp_path)
    with app.app_context():
        _prepare_database(app)
        limiter.reset()
        yield app
        db.session.remove()


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
