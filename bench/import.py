"""Benchmark ``flask customers import``: rows loaded per second, and the memory the process took.

Writes a CSV export of ``--rows`` customers (an e-mail address, a phone number, an address each,
a consent with its evidence for every other one, and a few rows to refuse) to a temporary file, runs
the real import on an empty database built by the migrations, then runs it again (every row
already present) and prints rows/s for both and the process's peak memory.

    .venv/bin/python bench/import.py --rows 100000
    .venv/bin/python bench/import.py --database-url postgresql+psycopg://postgres@127.0.0.1/portal_bench

This is a script, not a test: memory must not grow with the file (compare --rows 10000 and 100000).
"""

from __future__ import annotations

import os
import sys

sys.path[0] = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

import argparse  # noqa: E402
import csv  # noqa: E402
import resource  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import datetime, timezone  # noqa: E402

from bench.database import empty_database  # noqa: E402
from portal import create_app  # noqa: E402
from portal.customers.importer import COLUMNS, import_customers  # noqa: E402
from portal.db import db  # noqa: E402


def make_app(database_url: str):
    return create_app({
        "ENV": "testing", "DATABASE_URL": database_url, "SECRET_KEY": "bench-secret-key-that-is-long-enough-0000",
        "BASE_URL": "http://localhost", "TRUSTED_HOSTS": ["localhost"], "INPROCESS_WORKER": False,
        "MAIL_TRANSPORT": "mailbox", "RATELIMIT_STORAGE_URL": "memory://", "RATELIMIT_ENABLED": False,
    })


def write_file(path: str, rows: int) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        for number in range(rows):
            consent = number % 2 == 0
            writer.writerow({
                "external_id": f"KH-{number:07d}", "full_name": f"Nguyễn Văn Khách {number}",
                "email_personal": f"khach{number}@example.vn", "phone_mobile": f"090{number % 10_000_000:07d}",
                "address_home": f"{number} Lê Lợi, Quận 1, TP. Hồ Chí Minh",
                "notes": "=1+1" if number % 1000 == 999 else "",  # one row in a thousand refused
                "consent_promotions": "yes" if consent else "", "consent_method": "web_form" if consent else "",
                "consent_evidence": f"form-{number}" if consent else ""})


def timed_import(path: str, rows: int, label: str) -> None:
    started = time.perf_counter()
    with open(path, "rb") as source:
        result = import_customers(source, datetime.now(timezone.utc), keep_refusals=0)
    seconds = time.perf_counter() - started
    print(f"{label:<22} {rows / seconds:>9,.0f} rows/s  ({seconds:.1f} s: {result.loaded} loaded, "
          f"{result.already_present} already present, {result.refused_count} refused)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--database-url", default="")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = arguments.database_url or f"sqlite:///{os.path.join(folder, 'bench.db')}"
        path = os.path.join(folder, "customers.csv")
        write_file(path, arguments.rows)
        print(f"{arguments.rows:,} rows, {os.path.getsize(path) / 1e6:.1f} MB, on {url.split(':')[0]}")
        app = make_app(url)
        with app.app_context():
            empty_database()
            timed_import(path, arguments.rows, "first run")
            timed_import(path, arguments.rows, "again (all present)")
            db.engine.dispose()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory of the process: {peak:.0f} MB")


if __name__ == "__main__":
    main()
