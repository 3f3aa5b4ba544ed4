"""Benchmark the admin board at scale: queue views, the ticket page and the dashboard.

Fills a database with customers and tickets using bulk inserts (COPY on PostgreSQL, executemany in
batches on SQLite), then requests the real pages through the Flask test client, signed in as staff
members, and prints for each page the SQL statements it ran and its p50/p95 latency.

    .venv/bin/python bench/queue.py --database-url postgresql+psycopg://postgres@127.0.0.1/portal_bench
    .venv/bin/python bench/queue.py --database-url sqlite:////tmp/portal_bench.db --tickets 200000

The schema is created with the migrations (``flask db upgrade``). A database that already holds the
asked-for number of tickets is measured as it is; ``--refill`` starts again. This is a script, not a
test: targets (PostgreSQL, 1,000,000 tickets) are queue pages p95 <= 50 ms, dashboard <= 200 ms, and
statements per page that do not grow with the data (compare a run with ``--tickets 10000``).
"""

from __future__ import annotations

import os
import sys

# Run as a script, this file's folder comes first on the path, where its name would hide the
# standard library's ``queue`` (psycopg needs it): the repository root takes its place.
sys.path[0] = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

import argparse  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from array import array  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from datetime import date, datetime, timedelta, timezone  # noqa: E402

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import event, func, select, text  # noqa: E402

from portal import create_app  # noqa: E402
from portal.db import db  # noqa: E402
from portal.page_cache import PAGES  # noqa: E402
from portal.staff.models import StaffMember  # noqa: E402
from portal.staff.services import start_staff_session  # noqa: E402
from portal.tickets.models import Ticket  # noqa: E402
from portal.tickets.settings import defaults  # noqa: E402

NOW = datetime.now(timezone.utc).replace(microsecond=0)
HISTORY_DAYS = 1000
FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô"]
MIDDLE = ["Văn", "Thị", "Minh", "Hoàng", "Ngọc", "Thanh", "Quốc", "Thu", "Hữu", "Bích"]
GIVEN = ["An", "Bình", "Chi", "Dũng", "Giang", "Hà", "Hùng", "Lan", "Long", "Mai", "Nam", "Phúc", "Quân", "Tâm",
         "Thảo", "Trang", "Tuấn", "Vy", "Yến", "Khôi"]
STREETS = ["Lê Lợi", "Nguyễn Huệ", "Hai Bà Trưng", "Điện Biên Phủ", "Cách Mạng Tháng 8", "Lý Thường Kiệt"]
KIND_SHARES = {"correction": 12, "access": 10, "erasure": 8, "restriction": 6, "question": 8, "other": 30,
               "consent_withdrawal": 12, "leak_complaint": 4, "misuse_report": 10}
KINDS, KIND_WEIGHTS = list(KIND_SHARES), list(KIND_SHARES.values())
OPEN, DONE = ("new", "open", "waiting"), ("resolved", "closed", "rejected")


# --- filling -----------------------------------------------------------------------------------------


def make_app(database_url: str):
    return create_app({
        "ENV": "testing", "DATABASE_URL": database_url, "SECRET_KEY": "bench-secret-key-that-is-long-enough-0000",
        "BASE_URL": "http://localhost", "TRUSTED_HOSTS": ["localhost"], "INPROCESS_WORKER": False,
        "MAIL_TRANSPORT": "mailbox", "RATELIMIT_STORAGE_URL": "memory://", "RATELIMIT_ENABLED": False,
    })


def is_postgres() -> bool:
    return db.engine.dialect.name == "postgresql"


def wipe() -> None:
    tables = [table.name for table in reversed(db.metadata.sorted_tables)]
    if is_postgres():
        db.session.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    else:
        for table in tables:
            db.session.execute(text(f"DELETE FROM {table}"))
    db.session.commit()


class Writer:
    """Bulk rows into a table: COPY on PostgreSQL, executemany in batches on SQLite."""

    def __init__(self):
        self.raw = db.engine.raw_connection()
        self.postgres = is_postgres()

    def write(self, table: str, columns: list[str], rows) -> int:
        count = 0
        cursor = self.raw.cursor()
        if self.postgres:
            with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
        else:
            statement = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
            batch = []
            for row in rows:
                batch.append(tuple(_sqlite_value(value) for value in row))
                if len(batch) == 20000:
                    cursor.executemany(statement, batch)
                    count += len(batch)
                    batch = []
            cursor.executemany(statement, batch)
            count += len(batch)
        self.raw.commit()
        return count

    def close(self) -> None:
        self.raw.close()


def _sqlite_value(value):
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    return value


def end_of_local_day(moment: datetime, days: int) -> datetime:
    """The last second of the local (UTC+7, no daylight saving) day ``days`` after ``moment``."""
    local = (moment + timedelta(hours=7)).date() + timedelta(days=days)
    return datetime(local.year, local.month, local.day, 16, 59, 59, tzinfo=timezone.utc)


def make_staff() -> dict[str, list[int]]:
    members = {"board": 5, "sales": 10, "care": 15, "admin": 1}
    ids: dict[str, list[int]] = {}
    for role, count in members.items():
        for number in range(count):
            member = StaffMember(email=f"{role}{number}@khoingo.net", full_name=f"{random.choice(FAMILY)} "
                                 f"{random.choice(MIDDLE)} {random.choice(GIVEN)} ({role} {number})", role=role,
                                 is_active=True, failed_sign_in_count=0, created_at=NOW - timedelta(days=HISTORY_DAYS))
            db.session.add(member)
            db.session.flush()
            ids.setdefault(role, []).append(member.id)
    db.session.commit()
    return ids


def customer_rows(count: int):
    for number in range(1, count + 1):
        yield (number, f"{FAMILY[number % 14]} {MIDDLE[number % 10]} {GIVEN[number % 20]}", "",
               "web_form" if number % 3 else "phone", None, NOW - timedelta(days=HISTORY_DAYS + number % 400))


def contact_rows(count: int):
    for number in range(1, count + 1):
        since = NOW - timedelta(days=HISTORY_DAYS)
        phone = f"9{number:08d}"
        yield (3 * number - 2, number, "email", "personal", f"kh{number}@example.vn", f"kh{number}@example.vn",
               "web_form", since)
        yield (3 * number - 1, number, "phone", "mobile", f"0{phone[:2]} {phone[2:5]} {phone[5:]}", f"+84{phone}",
               "phone", since)
        yield (3 * number, number, "address", "home", f"{number % 300 + 1} {STREETS[number % 6]}, TP. Hồ Chí Minh",
               "", "web_form", since)


def order_rows(count: int):
    for number in range(1, count + 1):
        ordered = (NOW - timedelta(days=number % 900)).date()
        yield (number, number, f"DH-{number:08d}", "Camera IP 4MP kèm đầu ghi", ordered, ordered + timedelta(days=730))


def consent_rows(count: int):
    for number in range(1, count + 1):
        given = NOW - timedelta(days=HISTORY_DAYS)
        yield (2 * number - 1, number, "notices", True, "web_form", f"form-{number}", given, "staff", "", "1")
        yield (2 * number, number, "promotions", number % 2 == 0, "recorded_call", f"call-{number}.mp3", given,
               "staff", "", "1")


def ticket_rows(count: int, customers: int, staff: dict[str, list[int]], rng: random.Random, timeline: Timeline):
    """Tickets spread over the last ``HISTORY_DAYS`` days: recent ones mostly unfinished, a small
    backlog of old unfinished (overdue) ones, the rest answered and finished."""
    routing, clocks = defaults("routing"), defaults("clocks")
    step = HISTORY_DAYS * 86400 / count
    for number in range(1, count + 1):
        # Filed one after the other, as in life: ids and filing times rise together.
        created = NOW - timedelta(days=HISTORY_DAYS) + timedelta(seconds=(number - 1 + rng.random()) * step)
        kind = rng.choices(KINDS, KIND_WEIGHTS)[0]
        department = str(routing[kind]["department"])
        age_days = (NOW - created).days
        unfinished = rng.random() < (0.8 if age_days < 20 else 0.01)
        status = rng.choice(OPEN) if unfinished else rng.choice(DONE)
        escalated = unfinished and age_days > 25 and rng.random() < 0.5
        members = staff[department]
        assignee = None if (department == "board" or rng.random() < 0.08) and rng.random() < 0.6 else \
            rng.choice(members)
        first_response = None if status == "new" else created + timedelta(minutes=rng.randrange(30, 72 * 60))
        resolved = created + timedelta(hours=rng.randrange(24, 25 * 24)) if status in DONE else None
        timeline.add(created, first_response)
        customer_id = rng.randrange(1, customers + 1) if rng.random() < 0.9 else None
        email = f"kh{customer_id}@example.vn" if customer_id else f"la{number}@example.vn"
        yield (number, str(kind), status, "board" if escalated else department, str(routing[kind]["priority"]),
               assignee, customer_id, email, "vi", created, created, end_of_local_day(created, 3),
               end_of_local_day(created, clocks["fulfil_days"][kind]), first_response, None, None,
               created + timedelta(days=21) if escalated else None, resolved,
               resolved + timedelta(days=7) if status == "closed" else None,
               "Không thuộc phạm vi dữ liệu cá nhân." if status == "rejected" else None,
               resolved or first_response or created, 1, None)


class Timeline:
    """When each ticket was filed and first answered, kept compactly while the tickets are written,
    so their threads can be written without reading the tickets back."""

    def __init__(self):
        self.filed, self.answered = array("d"), array("d")

    def add(self, filed: datetime, answered: datetime | None) -> None:
        self.filed.append(filed.timestamp())
        self.answered.append(answered.timestamp() if answered else -1.0)


def entry_rows(timeline: Timeline, rng: random.Random, authors: list[int]):
    """For each ticket: the "created" event and the customer's message; a reply when answered."""
    entry_id = 0
    for index, (filed, answered) in enumerate(zip(timeline.filed, timeline.answered, strict=True)):
        ticket_id, created = index + 1, datetime.fromtimestamp(filed, timezone.utc)
        entry_id += 1
        yield (entry_id, ticket_id, created, "event", None, "", "created", "{}", None)
        entry_id += 1
        yield (entry_id, ticket_id, created, "customer_message", None,
               "Tôi muốn biết công ty đang lưu những dữ liệu nào của tôi và ai được xem.", None, "{}", None)
        if answered >= 0:
            entry_id += 1
            yield (entry_id, ticket_id, datetime.fromtimestamp(answered, timezone.utc), "staff_reply",
                   rng.choice(authors), "Chúng tôi đã nhận được yêu cầu và sẽ trả lời trong thời hạn luật định.",
                   None, "{}", None)


def fill(customers: int, tickets: int) -> None:
    rng = random.Random(2026)
    random.seed(2026)
    started = time.perf_counter()
    wipe()
    staff = make_staff()
    writer, timeline = Writer(), Timeline()
    done = {
        "customers": writer.write("customers", ["id", "full_name", "notes", "source", "preferred_locale",
                                                "created_at"], customer_rows(customers)),
        "contact_points": writer.write("contact_points", ["id", "customer_id", "channel", "kind", "value",
                                                          "value_normalized", "source", "created_at"],
                                       contact_rows(customers)),
        "orders": writer.write("orders", ["id", "customer_id", "reference", "description", "ordered_on",
                                          "warranty_ends_on"], order_rows(customers)),
        "consent_entries": writer.write(
            "consent_entries", ["id", "customer_id", "purpose", "granted", "method", "evidence", "recorded_at",
                                "actor_kind", "actor_name", "notice_version"], consent_rows(customers)),
        "tickets": writer.write("tickets", [
            "id", "kind", "status", "department", "priority", "assignee_id", "customer_id", "requester_email",
            "requester_locale", "created_at", "received_at", "acknowledge_due_at", "due_at", "first_response_at",
            "extended_at", "extension_reason", "escalated_at", "resolved_at", "closed_at", "outcome_reason",
            "updated_at", "version", "submission_key"], ticket_rows(tickets, customers, staff, rng, timeline)),
    }
    done["ticket_entries"] = writer.write("ticket_entries", [
        "id", "ticket_id", "created_at", "kind", "author_staff_id", "body", "event", "data", "submission_key"],
        entry_rows(timeline, rng, staff["care"] + staff["sales"] + staff["board"]))
    writer.close()
    _after_bulk_load(list(done))
    print(f"Filled in {time.perf_counter() - started:.0f} s: "
          + ", ".join(f"{count:,} {table}" for table, count in done.items()), flush=True)


def _after_bulk_load(tables: list[str]) -> None:
    """Move the id sequences past the rows written with explicit ids, and gather statistics."""
    if is_postgres():
        for table in tables:
            db.session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                    f"(SELECT coalesce(max(id), 1) FROM {table}))"))
        db.session.commit()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
    else:
        db.session.execute(text("ANALYZE"))
        db.session.commit()


# --- measuring -----------------------------------------------------------------------------------------


@contextmanager
def counting():
    statements = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def signed_in_client(app, member_id: int):
    """A test client carrying a staff session made directly (the bench measures pages, not sign-in)."""
    with app.app_context():
        key = start_staff_session(db.session.get(StaffMember, member_id), datetime.now(timezone.utc))
        db.session.commit()
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = f"s:{key}"
        session["_fresh"] = True
    return client


def measure(app, client, path: str, requests: int) -> dict:
    for _ in range(3):  # warm caches and the session's last-seen time
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code, response.get_data(as_text=True)[:500])
    timings, counts, kept = [], [], []
    for _ in range(requests):
        PAGES.clear()  # every page drawn from the database: the figures are the worst case, not the cache's
        with app.app_context(), counting() as statements:
            started = time.perf_counter()
            response = client.get(path)
            timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, path
        counts.append(len(statements))
    for _ in range(requests):  # and served again while nothing changed
        started = time.perf_counter()
        client.get(path)
        kept.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return {"statements": f"{min(counts)}" if min(counts) == max(counts) else f"{min(counts)}-{max(counts)}",
            "p50": statistics.median(timings), "p95": timings[max(0, round(len(timings) * 0.95) - 1)],
            "kept": statistics.median(kept),
            "rows": len(re.findall(r'href="/board/tickets/KN-', response.get_data(as_text=True)))}


def pages_to_measure(app, care_client, board_client) -> list[tuple[str, object, str]]:
    with app.app_context():
        sample = db.session.execute(select(Ticket.id, Ticket.created_at, Ticket.customer_id)
                                    .where(Ticket.department == "care", Ticket.customer_id.is_not(None),
                                           Ticket.status.in_(OPEN)).order_by(Ticket.id.desc()).limit(1)).one()
        reference = f"KN-{sample.created_at.year}-{sample.id:06d}"
        email, phone = f"kh{sample.customer_id}@example.vn", f"0{9_00000000 + sample.customer_id}"
    due_by = (NOW + timedelta(days=5)).date().isoformat()
    first = board_client.get("/board/?view=all").get_data(as_text=True)
    cursor = re.search(r'href="([^"]+)" rel="next"', first).group(1).replace("&amp;", "&")
    deep = "/board/?view=all&status=any"
    for _ in range(20):  # follow the cursor twenty pages deep: the page costs the same
        page = board_client.get(deep).get_data(as_text=True)
        deep = re.search(r'href="([^"]+)" rel="next"', page).group(1).replace("&amp;", "&")
    return [
        ("queue: mine (care)", care_client, "/board/?view=mine"),
        ("queue: department (care)", care_client, "/board/?view=department"),
        ("queue: unassigned (care)", care_client, "/board/?view=unassigned"),
        ("queue: overdue (care)", care_client, "/board/?view=overdue"),
        ("queue: all (board)", board_client, "/board/?view=all"),
        ("queue: all, any status (board)", board_client, "/board/?view=all&status=any"),
        ("queue: filtered (board)", board_client, f"/board/?view=all&kind=access&department=care&due_by={due_by}"),
        ("queue: page 2 via cursor (board)", board_client, cursor),
        ("queue: any status, page 21 (board)", board_client, deep),
        ("search: reference (care)", care_client, f"/board/?q={reference}"),
        ("search: e-mail (care)", care_client, f"/board/?q={email}"),
        ("search: phone (care)", care_client, f"/board/?q={phone}"),
        ("ticket page (care)", care_client, f"/board/tickets/{reference}"),
        ("dashboard (board)", board_client, "/board/dashboard"),
    ]


def run(arguments) -> None:
    app = make_app(arguments.database_url)
    with app.app_context():
        upgrade(directory=os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                       "portal", "migrations"))
        existing = db.session.scalar(select(func.count()).select_from(Ticket))
        if arguments.refill or existing != arguments.tickets:
            fill(arguments.customers, arguments.tickets)
        tickets = db.session.scalar(select(func.count()).select_from(Ticket))
        busiest_care = db.session.execute(
            select(Ticket.assignee_id).join(StaffMember, StaffMember.id == Ticket.assignee_id)
            .where(StaffMember.role == "care").group_by(Ticket.assignee_id).order_by(func.count().desc()).limit(1)
        ).scalar_one()
        board = db.session.scalar(select(StaffMember.id).where(StaffMember.role == "board").limit(1))
        dialect = db.engine.dialect.name
    care_client, board_client = signed_in_client(app, busiest_care), signed_in_client(app, board)
    print(f"\n{dialect}, {tickets:,} tickets; {arguments.requests} requests per page\n")
    print(f"{'page':36} {'SQL statements':>14} {'p50 ms':>8} {'p95 ms':>8} {'kept p50':>9} {'rows':>5}")
    for label, client, path in pages_to_measure(app, care_client, board_client):
        result = measure(app, client, path, arguments.requests)
        print(f"{label:36} {result['statements']:>14} {result['p50']:8.1f} {result['p95']:8.1f} {result['kept']:9.1f} "
              f"{result['rows']:>5}",
              flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True, help="SQLAlchemy URL of a database the bench may fill")
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=50, help="requests per page measured")
    parser.add_argument("--refill", action="store_true", help="empty the database and fill it again")
    run(parser.parse_args())


if __name__ == "__main__":
    main()
