"""Benchmark the notice to a breach incident's affected customers: queueing, then delivering.

Builds a throwaway database with the migrations (a SQLite file in a temporary folder, or the
PostgreSQL database named by ``--database-url``, emptied first), adds ``--customers`` customers on
one incident's list (one in a hundred without an e-mail address), then times

1. queueing every notice: ``queue_waiting_notices`` as ``flask worker`` runs it (batches of 500,
   each rendered in Vietnamese and English and committed with its outbox rows), and
2. delivering them all through the portal's real delivery code (``deliver_due``, the SMTP transport,
   one connection per message as in production) to an aiosmtpd server on 127.0.0.1 running in a
   process of its own, which counts what it accepts.

    .venv/bin/python bench/notify.py
    .venv/bin/python bench/notify.py --database-url postgresql+psycopg://postgres@127.0.0.1/portal_bench

This is a script, not a test: it prints seconds and messages per second.
"""

from __future__ import annotations

import os
import sys

sys.path[0] = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

import argparse  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import datetime, timedelta, timezone  # noqa: E402

from sqlalchemy import func, insert, select  # noqa: E402

from bench.database import empty_database  # noqa: E402
from portal import create_app  # noqa: E402
from portal.account.models import ContactPoint, Customer  # noqa: E402
from portal.db import db  # noqa: E402
from portal.incidents import notify  # noqa: E402
from portal.incidents.models import AffectedCustomer, BreachIncident  # noqa: E402
from portal.outbox.delivery import deliver_due  # noqa: E402
from portal.outbox.models import OutboxMessage, OutboxStatus  # noqa: E402
from portal.staff.models import StaffMember  # noqa: E402

CHUNK = 5_000  # rows per bulk insert while filling


def make_app(database_url: str, smtp_port: int):
    return create_app({
        "ENV": "testing", "DATABASE_URL": database_url, "SECRET_KEY": "bench-secret-key-that-is-long-enough-0000",
        "BASE_URL": "http://localhost", "TRUSTED_HOSTS": ["localhost"], "INPROCESS_WORKER": False,
        "RATELIMIT_STORAGE_URL": "memory://", "RATELIMIT_ENABLED": False,
        "MAIL_TRANSPORT": "smtp", "SMTP_HOST": "127.0.0.1", "SMTP_PORT": smtp_port, "SMTP_SECURITY": "none",
        "SMTP_USERNAME": "", "SMTP_PASSWORD": "", "SMTP_TIMEOUT": 10,
    })


def fill(count: int, now: datetime) -> int:
    """One board member, one described incident, ``count`` affected customers; the incident's id."""
    member = StaffMember(email="giamdoc@khoingo.net", full_name="Ngô Minh Khôi", role="board", is_active=True,
                         failed_sign_in_count=0, created_at=now)
    incident = BreachIncident(
        title="Lộ danh sách khách hàng lắp camera", discovered_at=now - timedelta(hours=20),
        occurred_from=now - timedelta(days=3), occurred_until=now - timedelta(days=1),
        acts="Một tài khoản của đối tác lắp đặt bị chiếm quyền và danh sách khách hàng bị tải xuống.",
        categories=["name", "phone", "address", "order"],
        consequences="Kẻ gian có thể gọi điện mạo danh công ty để hỏi mật khẩu thiết bị.",
        measures="Khóa tài khoản, đổi toàn bộ khóa truy cập, báo cơ quan chức năng.")
    db.session.add(member)
    db.session.flush()
    incident.created_by_id = member.id
    db.session.add(incident)
    db.session.commit()
    for start in range(0, count, CHUNK):
        numbers = range(start, min(start + CHUNK, count))
        ids = list(db.session.scalars(
            insert(Customer).returning(Customer.id, sort_by_parameter_order=True),
            [{"full_name": f"Nguyễn Văn Khách {n}", "source": "import"} for n in numbers]))
        db.session.execute(insert(ContactPoint), [
            {"customer_id": customer_id, "channel": "email", "kind": "personal", "value": f"khach{n}@example.vn",
             "value_normalized": f"khach{n}@example.vn", "source": "import"}
            for n, customer_id in zip(numbers, ids, strict=True) if n % 100 != 99])
        db.session.execute(insert(AffectedCustomer), [
            {"incident_id": incident.id, "customer_id": customer_id, "source": "imported"} for customer_id in ids])
        db.session.commit()
    notify.start_customer_notice(incident, member, now)
    db.session.commit()
    return incident.id


# --- the SMTP server, in a process of its own --------------------------------------------------------


def serve_smtp(port: int) -> None:
    """Accept every message on 127.0.0.1:``port`` until stdin closes; then print how many."""
    from aiosmtpd.controller import Controller

    class Counter:
        accepted = 0

        async def handle_DATA(self, server, session, envelope):
            Counter.accepted += 1
            return "250 2.0.0 Accepted"

    controller = Controller(Counter(), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    sys.stdin.read()
    controller.stop()
    print(Counter.accepted, flush=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--serve-smtp", type=int, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.serve_smtp:
        serve_smtp(arguments.serve_smtp)
        return
    port = free_port()
    server = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--serve-smtp", str(port)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout.readline().strip() == "ready"
        with tempfile.TemporaryDirectory() as folder:
            url = arguments.database_url or f"sqlite:///{os.path.join(folder, 'bench.db')}"
            run(make_app(url, port), arguments.customers, url.split(":")[0].split("+")[0])
        server.stdin.close()
        accepted = int(server.stdout.readline())
        print(f"the SMTP server accepted {accepted:,} messages")
    finally:
        if server.poll() is None:
            server.terminate()
        server.wait()


def run(app, count: int, backend: str) -> None:
    now = datetime.now(timezone.utc).replace(microsecond=0)
    with app.app_context():
        empty_database()
        incident_id = fill(count, now)
        print(f"{count:,} affected customers (one in a hundred without an e-mail address), on {backend}")

        started = time.perf_counter()
        taken = notify.queue_waiting_notices(now)
        seconds = time.perf_counter() - started
        progress = notify.notice_progress(incident_id)
        print(f"queueing   {progress.emailed:>7,} e-mails in {seconds:6.1f} s  {progress.emailed / seconds:>6,.0f}/s  "
              f"({taken:,} customers, {progress.without_email:,} to be told another way; "
              f"batches of {notify.BATCH_SIZE}, a commit each)")

        started = time.perf_counter()
        delivered = deliver_due(datetime.now(timezone.utc), limit=count + 1)  # the messages are stamped since
        seconds = time.perf_counter() - started
        sent = db.session.scalar(select(func.count()).select_from(OutboxMessage)
                                 .where(OutboxMessage.status == OutboxStatus.SENT))
        print(f"delivering {sent:>7,} e-mails in {seconds:6.1f} s  {sent / seconds:>6,.0f}/s  "
              f"({delivered:,} tried by deliver_due over SMTP to 127.0.0.1, a connection per round of 100)")
        db.engine.dispose()


if __name__ == "__main__":
    main()
