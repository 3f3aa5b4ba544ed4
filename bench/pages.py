"""``make bench``: what each page of the portal costs, measured against Flask's own ceiling.

For each database (SQLite, and PostgreSQL when a URL is given) it builds a portal with the demo data,
serves it with gunicorn (two sync workers, no threads: fixed, not the production settings), signs a
customer and two staff members in through the real pages, and serves ``bench/bare.py`` — a bare Flask
app — the same way. Then wrk, from another process on loopback, drives each page in turn (2 threads,
16 connections), the rows interleaved and the whole set repeated; the table gives the median of the
rounds: requests per second and its ratio to the bare Flask endpoint of the same run, p50/p99
latency, responses that were not 2xx, CPU time the servers spent per request, and the SQL statements
the page runs (counted in-process on the same database, with the same session cookie).

    .venv/bin/python bench/pages.py [--database-url postgresql+psycopg://...] [--seconds 10] [--rounds 3]

Ratios hold on a shared machine where absolute figures do not; the README shows the last output.
"""

from __future__ import annotations

import os
import sys

# Run as a script, this file's folder comes first on the path, where bench/queue.py would hide the
# standard library's ``queue``: the repository root takes its place.
sys.path[0] = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

import argparse  # noqa: E402
import http.cookiejar  # noqa: E402
import re  # noqa: E402
import secrets  # noqa: E402
import shutil  # noqa: E402
import socket  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import urllib.parse  # noqa: E402
import urllib.request  # noqa: E402
import uuid  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from datetime import datetime, timezone  # noqa: E402
from pathlib import Path  # noqa: E402

import psycopg  # noqa: E402
import pyotp  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import event, select  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from portal import create_app  # noqa: E402
from portal.db import db  # noqa: E402
from portal.demo import load_demo_data  # noqa: E402
from portal.hashing import hash_password  # noqa: E402
from portal.outbox.models import OutboxMessage  # noqa: E402
from portal.staff.models import StaffMember  # noqa: E402
from portal.tickets.models import Ticket  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
PYTHON = sys.executable
GUNICORN = str(Path(PYTHON).with_name("gunicorn"))
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
PASSWORD = "bench-password-" + secrets.token_hex(8)
CUSTOMER = "an.nguyen@example.vn"
CARE = "cskh.lan@khoingo.net"
BOARD = "giamdoc@khoingo.net"


@dataclass
class Row:
    name: str
    server: str  # "bare" or "portal"
    path: str
    who: str | None = None  # "customer", "care", "board" or None (anonymous)
    figures: list[dict] = field(default_factory=list)
    statements: int | None = None


def rows_to_measure(reference: str) -> list[Row]:
    return [
        Row("bare Flask endpoint", "bare", "/"),
        Row("bare Flask + Jinja page of 8 KB", "bare", "/page"),
        Row("home (anonymous)", "portal", "/", "visitor"),
        Row("sign-in page", "portal", "/sign-in", "visitor"),
        Row("My data", "portal", "/my-data", "customer"),
        Row("my requests", "portal", "/requests/", "customer"),
        Row("one request", "portal", f"/requests/{reference}", "customer"),
        Row("staff queue (care)", "portal", "/board/?view=department", "care"),
        Row("staff ticket page (care)", "portal", f"/board/tickets/{reference}", "care"),
        Row("dashboard (board)", "portal", "/board/dashboard", "board"),
    ]


# --- the portal and its data ---------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def database(url: str | None, folder: Path):
    """A fresh database for one run: a SQLite file, or a new PostgreSQL database dropped afterwards."""
    if not url:
        yield f"sqlite:///{folder / 'bench.db'}"
        return
    parsed = make_url(url)
    name = f"portal_bench_pages_{uuid.uuid4().hex[:8]}"
    admin = parsed.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield parsed.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def portal_environment(database_url: str, port: int, folder: Path) -> dict[str, str]:
    return {"PORTAL_ENV": "development", "PORTAL_SECRET_KEY": secrets.token_urlsafe(32),
            "PORTAL_DATABASE_URL": database_url, "PORTAL_BASE_URL": f"http://127.0.0.1:{port}",
            "PORTAL_TRUSTED_HOSTS": "127.0.0.1", "PORTAL_MAIL_TRANSPORT": "mailbox",
            "PORTAL_INPROCESS_WORKER": "0", "PORTAL_RATELIMIT_STORAGE_URL": "memory://",
            "BENCH_ERROR_LOG": str(folder / "gunicorn.log")}


def prepare_data(app) -> str:
    """Migrate, load the demo data, give the demo staff a known password and an authenticator, and
    return the reference of the demo customer's request."""
    with app.app_context():
        upgrade()
        load_demo_data(datetime.now(timezone.utc))
        for member in db.session.scalars(select(StaffMember)):
            member.password_hash = hash_password(PASSWORD)
            member.totp_secret = pyotp.random_base32()
            member.totp_enrolled_at = datetime.now(timezone.utc)
        db.session.commit()
        ticket = db.session.scalars(select(Ticket).where(Ticket.requester_email == CUSTOMER)).first()
        return ticket.reference


# --- signing in through the real pages -----------------------------------------------------------


class Browser:
    """urllib with a cookie jar, as far as a sign-in needs a browser."""

    def __init__(self, base: str):
        self.base = base
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))

    def get(self, path: str) -> str:
        with self.opener.open(self.base + path) as response:
            return response.read().decode()

    def post(self, path: str, fields: dict) -> str:
        data = urllib.parse.urlencode(fields).encode()
        with self.opener.open(urllib.request.Request(self.base + path, data=data)) as response:
            return response.read().decode()

    def token(self, path: str) -> str:
        return CSRF.search(self.get(path)).group(1)

    def cookie(self, name: str) -> str:
        return next(cookie.value for cookie in self.cookies if cookie.name == name)


def visitor_cookie(base: str) -> str:
    """The session cookie a visitor's browser keeps from their first page (it holds their CSRF
    secret): a browser sends it back with every later page, as wrk does with this one."""
    browser = Browser(base)
    browser.get("/")
    return browser.cookie("kn_session")


def sign_in_customer(app, base: str) -> str:
    """Ask for a link, read it from the outbox as the mailbox would show it, open it, Continue."""
    browser = Browser(base)
    browser.post("/sign-in", {"csrf_token": browser.token("/sign-in"), "email": CUSTOMER})
    with app.app_context():
        body = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc())).first().body_text
    link = re.search(r"(/sign-in/link/[A-Za-z0-9_\-]+)", body).group(1)
    page = browser.get(link)
    browser.post("/sign-in/continue", {"csrf_token": CSRF.search(page).group(1)})
    return browser.cookie("kn_session")


def sign_in_staff(app, base: str, email: str) -> str:
    """Password, then the code the member's authenticator shows."""
    browser = Browser(base)
    browser.post("/staff/sign-in", {"csrf_token": browser.token("/staff/sign-in"), "email": email,
                                    "password": PASSWORD})
    with app.app_context():
        secret = db.session.scalars(select(StaffMember.totp_secret).where(StaffMember.email == email)).one()
    browser.post("/staff/sign-in/code", {"csrf_token": browser.token("/staff/sign-in/code"),
                                         "code": pyotp.TOTP(secret).now()})
    return browser.cookie("kn_session")


# --- serving and measuring -----------------------------------------------------------------------


@contextmanager
def served(module: str, port: int, environment: dict[str, str]):
    """gunicorn with the bench settings, until the block ends."""
    env = {**os.environ, **environment, "BENCH_BIND": f"127.0.0.1:{port}"}
    process = subprocess.Popen([GUNICORN, "-c", str(BENCH / "gunicorn_bench.py"), module], cwd=ROOT, env=env)
    try:
        wait_for(port)
        yield process
    finally:
        process.terminate()
        process.wait(timeout=30)


def wait_for(port: int, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                time.sleep(0.5)  # let both workers boot
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing answers on port {port}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its children (gunicorn's master and workers)."""
    total = 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    pids = [pid] + [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    for each in pids:
        fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def drive(url: str, cookie: str | None, seconds: int, server_pid: int) -> dict:
    """One wrk run against ``url``; its figures and the servers' CPU time per request."""
    command = ["wrk", "-t2", "-c16", f"-d{seconds}s", "--latency", "-s", str(BENCH / "count_status.lua")]
    if cookie:
        command += ["-H", f"Cookie: kn_session={cookie}"]
    before = cpu_seconds(server_pid)
    output = subprocess.run(command + [url], capture_output=True, text=True, check=True).stdout
    cpu = cpu_seconds(server_pid) - before
    value = {key: int(number) for key, number in re.findall(r"^([A-Z0-9_]+) (\d+)$", output, re.MULTILINE)}
    requests = value["REQUESTS"]
    return {"rps": requests / (value["DURATION_US"] / 1e6), "p50": value["LATENCY_P50_US"] / 1000,
            "p99": value["LATENCY_P99_US"] / 1000, "not_2xx": value["NOT_2XX"],
            "cpu_ms": 1000 * cpu / max(requests, 1)}


def count_statements(app, row: Row, cookies: dict[str, str], base: str) -> int | None:
    """The SQL statements the page runs, counted in-process with the same session cookie."""
    if row.server != "portal":
        return None
    statements = []
    with app.app_context():
        engine = db.engine  # the requests below push their own contexts, as gunicorn's would

    def count(conn, cursor, statement, *_args):
        statements.append(statement)

    client = app.test_client()
    if row.who:
        client.set_cookie("kn_session", cookies[row.who], domain="127.0.0.1")
    client.get(row.path, base_url=base)  # once first: a minute's "last seen" write is not the page's
    event.listen(engine, "before_cursor_execute", count)
    try:
        response = client.get(row.path, base_url=base)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert response.status_code == 200, (row.path, response.status_code)
    if os.environ.get("BENCH_SHOW_SQL"):
        print(row.path, *statements, sep="\n  ", file=sys.stderr)
    return len(statements)


# --- the run -------------------------------------------------------------------------------------


def run(database_url: str | None, seconds: int, rounds: int) -> tuple[str, list[Row]]:
    folder = Path(tempfile.mkdtemp(prefix="portal-bench-"))
    try:
        with database(database_url, folder) as url:
            return run_on(url, folder, seconds, rounds)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def run_on(url: str, folder: Path, seconds: int, rounds: int) -> tuple[str, list[Row]]:
    portal_port, bare_port = free_port(), free_port()
    environment = portal_environment(url, portal_port, folder)
    os.environ.update(environment)
    app = create_app()
    reference = prepare_data(app)
    base = f"http://127.0.0.1:{portal_port}"
    rows = rows_to_measure(reference)
    with served("wsgi:app", portal_port, environment) as portal, \
            served("bench.bare:app", bare_port, environment) as bare:
        cookies = {"visitor": visitor_cookie(base), "customer": sign_in_customer(app, base),
                   "care": sign_in_staff(app, base, CARE),
                   "board": sign_in_staff(app, base, BOARD)}
        for row in rows:
            row.statements = count_statements(app, row, cookies, base)
        for number in range(rounds):
            for row in rows:
                server, port = (portal, portal_port) if row.server == "portal" else (bare, bare_port)
                url_of_page = f"http://127.0.0.1:{port}{row.path}"
                row.figures.append(drive(url_of_page, cookies.get(row.who), seconds, server.pid))
            print(f"  round {number + 1} of {rounds} done", file=sys.stderr)
    return app.config["DATABASE_URL"].split(":", 1)[0].split("+")[0], rows


def table(dialect: str, rows: list[Row], seconds: int, rounds: int) -> str:
    median = {row.name: {key: statistics.median(f[key] for f in row.figures) for key in row.figures[0]}
              for row in rows}
    ceiling = median[rows[0].name]["rps"]
    lines = [f"{dialect}: gunicorn 2 sync workers; wrk 2 threads, 16 connections, {seconds} s per row; "
             f"median of {rounds} interleaved rounds", "",
             f"{'page':<34}{'req/s':>8}{'of bare':>9}{'p50 ms':>9}{'p99 ms':>9}{'non-2xx':>9}"
             f"{'CPU ms/req':>12}{'SQL':>6}"]
    for row in rows:
        figures = median[row.name]
        statements = "—" if row.statements is None else str(row.statements)
        lines.append(f"{row.name:<34}{figures['rps']:>8.0f}{figures['rps'] / ceiling:>9.0%}{figures['p50']:>9.1f}"
                     f"{figures['p99']:>9.1f}{figures['not_2xx']:>9.0f}{figures['cpu_ms']:>12.2f}{statements:>6}")
    return "\n".join(lines)


def reachable(url: str) -> bool:
    admin = make_url(url).set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    try:
        with psycopg.connect(admin, connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="", help="also measure on this PostgreSQL server")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--postgresql-only", action="store_true", help="skip SQLite (needs --database-url)")
    arguments = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed (apt-get install wrk)")
    runs = [None] if arguments.sqlite_only or not arguments.database_url else [None, arguments.database_url]
    if arguments.postgresql_only and arguments.database_url:
        runs = [arguments.database_url]
    if arguments.database_url and not reachable(arguments.database_url):
        print(f"PostgreSQL at {make_url(arguments.database_url).host} cannot be reached: SQLite only.\n")
        runs = [None]
    for database_url in runs:
        dialect, rows = run(database_url, arguments.seconds, arguments.rounds)
        print(table(dialect, rows, arguments.seconds, arguments.rounds), end="\n\n", flush=True)


if __name__ == "__main__":
    main()
