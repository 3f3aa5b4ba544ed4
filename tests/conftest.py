"""Shared fixtures: an app on an empty database per test, a client, a controllable clock, apps with
other settings, a real SMTP server, and a customer.

Set PORTAL_TEST_DATABASE_URL (e.g. postgresql+psycopg://127.0.0.1/portal_ci) to run against
PostgreSQL; otherwise each test gets its own copy of a SQLite file holding the schema.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from portal import clock as clock_module
from portal.db import db
from portal.extensions import limiter
from portal.page_cache import PAGES
from tests.factories import make_customer, make_staff
from tests.helpers import (
    ON_POSTGRESQL,
    FrozenClock,
    SMTPTestServer,
    free_port,
    make_test_app,
    prepare_database,
    staff_client,
    worker_database,
)

pytest_plugins = ["tests.browsing"]


@pytest.fixture
def make_app(tmp_path):
    """Build apps with other settings, each on its own empty database and with its own context
    pushed (the newest is current); everything is closed after the test."""
    pushed = []

    def build(**overrides):
        folder = tmp_path / f"app-{len(pushed)}"
        folder.mkdir()
        application = make_test_app(folder, **overrides)
        context = application.app_context()
        context.push()
        pushed.append(context)
        prepare_database(application)
        limiter.reset()
        PAGES.clear()
        return application

    yield build
    for context in reversed(pushed):
        db.session.remove()
        db.engine.dispose()  # no connection left open per test on a shared PostgreSQL server
        context.pop()


@pytest.fixture(scope="session", autouse=True)
def own_database():
    """With several test processes, this one's PostgreSQL database (nothing to do on SQLite)."""
    with worker_database():
        yield


@pytest.fixture(scope="session")
def default_app(tmp_path_factory, own_database):
    """The app with the test settings, built once: building one costs more than most tests."""
    app = make_test_app(tmp_path_factory.mktemp("default-app"))
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def app(default_app):
    """The app with the test settings on an empty database, its context pushed for the test. Any
    setting a test changes is put back afterwards."""
    settings = dict(default_app.config)
    PAGES.clear()  # each test's database starts its ids and versions again
    with default_app.app_context():
        prepare_database(default_app)
        limiter.reset()
        yield default_app
        db.session.remove()
        if not ON_POSTGRESQL:
            db.engine.dispose()  # the next test replaces the file
    default_app.config.clear()
    default_app.config.update(settings)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def clock(monkeypatch):
    frozen = FrozenClock(datetime.now(timezone.utc).replace(microsecond=0))
    monkeypatch.setattr(clock_module, "now", frozen.now)
    return frozen


@pytest.fixture
def customer(app):
    return make_customer()


@pytest.fixture
def smtp_server():
    """A running SMTP server on a free local port, stopped (and its loop closed) after the test."""
    server = SMTPTestServer(free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def board(app, clock):
    """A board member signed in, reading the pages in English (the member is ``board.member``)."""
    return staff_client(app, make_staff("board", name="Đỗ Minh Quân"), clock, in_english=True)

