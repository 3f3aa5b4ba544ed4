"""What tests do the way a person would: build an app on a fresh database, read pages and e-mails,
sign a customer in through the real link flow and a staff member through password and TOTP.

The schema is built once per test run (a template SQLite file, or the tables of the PostgreSQL
database named by PORTAL_TEST_DATABASE_URL) and each app starts from an empty copy of it: a copied
file on SQLite, emptied tables on PostgreSQL.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import sqlite3
import tempfile
import uuid
from contextlib import contextmanager, suppress
from datetime import datetime, timedelta

import psycopg
import pyotp
from flask import has_app_context
from flask.testing import FlaskClient
from jinja2 import BytecodeCache
from sqlalchemy import event, func, select, text
from sqlalchemy.engine import Engine, make_url

from portal import clock as clock_module
from portal import create_app
from portal.db import db
from portal.incidents.models import BreachIncident
from portal.local_time import to_local
from portal.outbox.models import OutboxMessage

TEST_DATABASE_URL = os.environ.get("PORTAL_TEST_DATABASE_URL", "")
ON_POSTGRESQL = TEST_DATABASE_URL.startswith("postgresql")
# With several test processes (pytest -n), each has a PostgreSQL database of its own beside the one
# named, made when it starts and dropped when it ends (see worker_database).
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
SECRET_KEY = "test-secret-key-that-is-long-enough-000000"
STAFF_PASSWORD = "lantern-orbit-mango-7319"

# Cheap argon2 for tests only (hashes are still real argon2id, verified the same way).
CHEAP_PASSWORD_HASHING = {"ARGON2_TIME_COST": 1, "ARGON2_MEMORY_KIB": 8, "ARGON2_PARALLELISM": 1}


# --- apps and their databases -------------------------------------------------------------------


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


@event.listens_for(Engine, "connect")
def _no_waiting_for_the_disk(connection, record) -> None:
    """A test database is thrown away: SQLite need not wait for each commit to reach the disk."""
    if isinstance(connection, sqlite3.Connection):
        connection.execute("PRAGMA synchronous = OFF")


def _test_database_url() -> str:
    """PORTAL_TEST_DATABASE_URL (this process's own database, with several); on PostgreSQL without
    waiting for each commit to reach the disk (a test database is thrown away: its durability buys
    nothing and costs a flush per commit)."""
    if not ON_POSTGRESQL:
        return TEST_DATABASE_URL
    url = make_url(TEST_DATABASE_URL)
    if WORKER:
        url = url.set(database=f"{url.database}_{WORKER}")
    url = url.update_query_dict({"options": "-c synchronous_commit=off"})
    return url.render_as_string(hide_password=False)


def _admin_connection():
    url = make_url(TEST_DATABASE_URL).set(drivername="postgresql", database="postgres")
    return psycopg.connect(url.render_as_string(hide_password=False), autocommit=True)


def drop_portal_connections() -> None:
    """What a restart of the PostgreSQL server does to the portal's pool: every connection to this
    process's test database is ended by the server."""
    db.session.remove()
    with _admin_connection() as connection:
        connection.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                           (make_url(_test_database_url()).database,))


@contextmanager
def worker_database():
    """This test process's own PostgreSQL database, when there are several processes: made for the
    run and dropped after it."""
    if not (ON_POSTGRESQL and WORKER):
        yield
        return
    name = make_url(_test_database_url()).database
    with _admin_connection() as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield
    finally:
        with _admin_connection() as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def make_test_app(tmp_path, **overrides):
    """An app in testing mode whose database (a file under ``tmp_path`` on SQLite) is not yet made:
    :func:`prepare_database` gives it an empty schema."""
    if "DATABASE_URL" not in overrides:
        overrides["DATABASE_URL"] = _test_database_url() or f"sqlite:///{tmp_path / 'portal.db'}"
    settings = {
        "ENV": "testing",
        "TESTING": True,
        "SECRET_KEY": SECRET_KEY,
        "BASE_URL": "http://localhost",
        "TRUSTED_HOSTS": ["localhost", "127.0.0.1"],
        "INPROCESS_WORKER": False,
        "MAIL_TRANSPORT": "mailbox",
        "RATELIMIT_STORAGE_URL": "memory://",
        **CHEAP_PASSWORD_HASHING,
    }
    settings.update(overrides)
    app = create_app(settings)
    app.test_client_class = FreshContextClient
    app.jinja_env.bytecode_cache = COMPILED_TEMPLATES  # each test's app would compile every template anew
    return app


class _CompiledTemplates(BytecodeCache):
    """Templates compiled once per test run and shared by every app the tests build."""

    def __init__(self):
        self.compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket) -> None:
        if bucket.key in self.compiled:
            bucket.bytecode_from_string(self.compiled[bucket.key])

    def dump_bytecode(self, bucket) -> None:
        self.compiled[bucket.key] = bucket.bytecode_to_string()


COMPILED_TEMPLATES = _CompiledTemplates()
_sqlite_template: str | None = None
_postgresql_schema_ready = False


def _sqlite_template_file() -> str:
    """A SQLite file holding the empty schema, built once per test run."""
    global _sqlite_template
    if _sqlite_template is None:
        folder = tempfile.mkdtemp(prefix="portal-schema-")
        path = os.path.join(folder, "schema.db")
        app = make_test_app(None, DATABASE_URL=f"sqlite:///{path}")
        with app.app_context():
            db.create_all()
            db.engine.dispose()
        _sqlite_template = path
    return _sqlite_template


def _replace_sqlite_file(template: str, path: str) -> None:
    """Put a copy of ``template`` at ``path`` as a new file. The file and its write-ahead log are
    removed first, not overwritten: a connection a test left open (a live server's thread) keeps
    the old ones, and a log written for the old file never meets the new one."""
    for leftover in (path, path + "-wal", path + "-shm"):
        with suppress(FileNotFoundError):
            os.remove(leftover)
    shutil.copyfile(template, path)


def _empty_postgresql_tables() -> None:
    """Delete every row and restart the ids: cheaper than TRUNCATE for tables this small."""
    global _postgresql_schema_ready
    if not _postgresql_schema_ready:  # whatever an earlier run or schema left there goes
        db.session.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        db.session.commit()
        db.create_all()
        _postgresql_schema_ready = True
    tables = list(reversed(db.metadata.sorted_tables))
    statements = [f"DELETE FROM {table.name}" for table in tables]  # noqa: S608 (our own table names)
    counters = [table.name for table in tables if [column.name for column in table.primary_key.columns] == ["id"]]
    statements.append("SELECT " + ", ".join(f"setval(pg_get_serial_sequence('{name}', 'id'), 1, false)"
                                            for name in counters))
    db.session.execute(text("; ".join(statements)))
    db.session.commit()


def prepare_database(app) -> None:
    """Give ``app`` an empty schema: a copy of the template file, or emptied PostgreSQL tables.
    Call it inside the app's context."""
    url = app.config["DATABASE_URL"]
    if url.startswith("sqlite"):
        db.engine.dispose()
        _replace_sqlite_file(_sqlite_template_file(), url.removeprefix("sqlite:///"))
    elif url == _test_database_url():
        _empty_postgresql_tables()
    else:  # a database of its own (see separate_database), still empty
        db.create_all()


@contextmanager
def separate_database(folder, name: str):
    """Yield the URL of a database of its own for a group of tests: a new SQLite file in ``folder``, or
    a new PostgreSQL database beside the test one, dropped afterwards."""
    if not ON_POSTGRESQL:
        yield f"sqlite:///{folder / (name + '.db')}"
        return
    url = make_url(TEST_DATABASE_URL)
    database = f"{url.database}_{name}_{uuid.uuid4().hex[:8]}"
    admin = url.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{database}"')
    try:
        yield url.set(database=database).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def count(model, *conditions) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model).where(*conditions))


# --- time -----------------------------------------------------------------------------------------


class FrozenClock:
    """The portal's clock, stopped at a fixed time and moved by the test."""

    def __init__(self, start: datetime):
        self.current = start

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta) -> datetime:
        self.current += timedelta(**delta)
        return self.current


# --- pages and e-mails ----------------------------------------------------------------------------

CSRF_FIELD = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
LINK_PATTERN = re.compile(r"https?://[^/\s]+(/sign-in/link/[A-Za-z0-9_\-]+)")
CODE_PATTERN = re.compile(r"\b([A-Z2-9]{4}-[A-Z2-9]{4})\b")


def page_text(response) -> str:
    return response.get_data(as_text=True)


def csrf_token(client, path: str) -> str:
    page = client.get(path).get_data(as_text=True)
    return CSRF_FIELD.search(page).group(1)


def outbox(recipient: str | None = None) -> list[OutboxMessage]:
    statement = select(OutboxMessage).order_by(OutboxMessage.id)
    if recipient:
        statement = statement.where(OutboxMessage.recipient == recipient)
    return list(db.session.scalars(statement))


def link_and_code(message: OutboxMessage) -> tuple[str, str]:
    """The sign-in link's path and the code, read from the e-mail as a person would."""
    return LINK_PATTERN.search(message.body_text).group(1), CODE_PATTERN.search(message.body_text).group(1)


def english(client):
    """Pick English with the language switch, as a visitor would; return the client."""
    response = client.post("/language", data={"csrf_token": csrf_token(client, "/"), "locale": "en", "next": "/"})
    assert response.status_code == 303
    return client


# --- signing in -----------------------------------------------------------------------------------


def request_link(client, email: str, next_path: str = ""):
    token = csrf_token(client, "/sign-in")
    return client.post("/sign-in", data={"email": email, "csrf_token": token, "next": next_path})


def sign_in(client, email: str) -> None:
    """Sign ``client`` in through the real flow: ask, read the e-mail, open the link, Continue."""
    response = request_link(client, email)
    assert response.status_code == 303, response.get_data(as_text=True)
    path, _code = link_and_code(outbox()[-1])
    continue_page = client.get(path, follow_redirects=True)
    token = CSRF_FIELD.search(continue_page.get_data(as_text=True))
    response = client.post("/sign-in/continue", data={"csrf_token": token.group(1)})
    assert response.status_code == 303 and response.headers["Location"].endswith("/my-data"), response.status


def staff_totp_code(member, clock=None) -> str:
    """The code the member's app shows at the portal's current time. If that step's code was used
    already, a real app makes you wait for the next one: a frozen ``clock`` is moved on to it; without
    one the next step's code is given (accepted within the one-step window)."""
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


def staff_client(app, member, clock=None, *, in_english: bool = False):
    """A new client signed in as ``member`` (see :func:`sign_in_staff`), which keeps the member as
    ``client.member``. With ``in_english`` it picks English on the language switch first, as a
    person reading the board in English would; the choice outlasts the sign-in."""
    client = app.test_client()
    if in_english:
        english(client)
    sign_in_staff(client, member, clock=clock)
    client.member = member
    return client


# --- a real SMTP server for the outbox tests ------------------------------------------------------

SMTP_TEST_USERNAME = "portal-mailer"
SMTP_TEST_PASSWORD = "s3cret-Sm7p-Passw0rd"  # noqa: S105 (a test server's password)


def free_port() -> int:
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
        self.peer = session.peer  # the client's address and port: one per connection
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


# --- counting SQL statements ----------------------------------------------------------------------


@contextmanager
def counted_statements():
    """The SQL statements the app's engine runs inside the ``with`` block, as a list."""
    statements = []

    def count_statement(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", count_statement)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count_statement)


# --- breach incidents, through the board's form --------------------------------------------------

NEW_INCIDENT = "/board/incidents/new"


def local_input(moment) -> str:
    """``moment`` as a datetime-local field holds it: Vietnam time, to the minute."""
    return to_local(moment).strftime("%Y-%m-%dT%H:%M")


def incident_form(client, clock, path: str = NEW_INCIDENT, **changes) -> dict:
    """A filled-in new-incident form, with the token of the page at ``path``; a change of None drops
    that field."""
    data = {"csrf_token": csrf_token(client, path), "title": "Danh sách khách hàng bị chép ra ngoài",
            "discovered_at": local_input(clock.now() - timedelta(hours=10)),
            "occurred_from": local_input(clock.now() - timedelta(days=3)), "occurred_until": "",
            "place": "Phần mềm bán hàng", "acts": "Một nhân viên cũ chép danh sách khách hàng",
            "parties": "Công ty bất động sản X", "categories": ["name", "phone"], "volume": "khoảng 300 khách",
            "consequences": "Khách bị gọi điện quảng cáo", "measures": "Khoá tài khoản, yêu cầu xoá dữ liệu"}
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def create_incident(client, clock, complaints=(), **changes) -> BreachIncident:
    """Record an incident through the form (raised from ``complaints``, ticket ids); the incident."""
    response = client.post(NEW_INCIDENT, data=incident_form(client, clock, complaints=[str(c) for c in complaints],
                                                            **changes))
    assert response.status_code == 303, response.get_data(as_text=True)
    db.session.expire_all()
    return db.session.get(BreachIncident, int(response.headers["Location"].rsplit("/", 1)[-1]))

