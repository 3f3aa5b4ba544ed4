"""Where a page's time goes: the portal served as ``make bench`` serves it, one page driven by wrk,
one gunicorn worker sampled by py-spy.

It builds the same portal (demo data, a customer and two staff members signed in through the real
pages), drives the page for ``--seconds`` and records one worker at 250 samples a second, counting
only samples where the worker holds the GIL (Python at work, not waiting on the database or the
network). It prints the share of those samples each function was on the stack for (inclusive),
portal functions and the libraries' main steps alike.

    .venv/bin/python bench/profile.py my-data [--database-url postgresql+psycopg://...] [--all-frames]

Pages: home, sign-in, my-data, my-requests, one-request, queue, ticket, dashboard.
"""

from __future__ import annotations

import os
import sys

sys.path[0] = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # see bench/pages.py

import argparse  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
from collections import Counter  # noqa: E402
from pathlib import Path  # noqa: E402

from bench import pages  # noqa: E402

PAGES = {"home": 2, "sign-in": 3, "my-data": 4, "my-requests": 5, "one-request": 6, "queue": 7, "ticket": 8,
         "dashboard": 9}  # the rows of bench/pages.py
PY_SPY = str(Path(sys.executable).with_name("py-spy"))
# Frames of the server loop, not of the page: every sample has them.
SERVER_LOOP = re.compile(r"\((gunicorn|werkzeug/local)|^<module>")


def shares(samples: Path, portal_only: bool) -> tuple[int, list[tuple[float, str]]]:
    """Each function's inclusive share of the samples in py-spy's raw (collapsed) output."""
    on_stack: Counter[str] = Counter()
    total = 0
    for line in samples.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        total += int(count)
        frames = {re.sub(r":\d+\)$", ")", re.sub(r" \(.*site-packages/", " (", frame)) for frame in stack.split(";")}
        for frame in frames:
            on_stack[frame] += int(count)
    chosen = [(count / total, frame) for frame, count in on_stack.most_common()
              if not SERVER_LOOP.search(frame) and (not portal_only or "portal/" in frame)]
    return total, chosen


def profile(url: str | None, page: str, seconds: int, portal_only: bool, top: int) -> None:
    folder = Path(tempfile.mkdtemp(prefix="portal-profile-"))
    try:
        with pages.database(url, folder) as database_url:
            port = pages.free_port()
            environment = pages.portal_environment(database_url, port, folder)
            os.environ.update(environment)
            app = pages.create_app()
            reference = pages.prepare_data(app)
            row = pages.rows_to_measure(reference)[PAGES[page]]
            base = f"http://127.0.0.1:{port}"
            with pages.served("wsgi:app", port, environment) as server:
                cookies = {"visitor": pages.visitor_cookie(base), "customer": pages.sign_in_customer(app, base),
                           "care": pages.sign_in_staff(app, base, pages.CARE),
                           "board": pages.sign_in_staff(app, base, pages.BOARD)}
                worker = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()[0]
                command = ["wrk", "-t2", "-c16", f"-d{seconds + 2}s", "-H", f"Cookie: kn_session={cookies[row.who]}",
                           base + row.path]
                load = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
                samples = folder / "samples.txt"
                subprocess.run([PY_SPY, "record", "--pid", worker, "--duration", str(seconds), "--rate", "250",
                                "--gil", "--nonblocking", "--format", "raw", "--output", str(samples)],
                               check=True, capture_output=True)
                rate = re.search(r"Requests/sec:\s+([\d.]+)", load.communicate()[0])
        total, chosen = shares(samples, portal_only)
        print(f"{row.name} ({row.path}), {database_url.split(':')[0]}: {rate.group(1) if rate else '?'} req/s "
              f"under py-spy; {total} samples of one worker holding the GIL\n")
        for share, frame in chosen[:top]:
            print(f"{share:6.1%}  {frame}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("page", choices=sorted(PAGES))
    parser.add_argument("--database-url", default="", help="PostgreSQL server to profile on (default: SQLite)")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--all-frames", action="store_true", help="libraries' frames too, not only the portal's")
    arguments = parser.parse_args()
    for tool in ("wrk", PY_SPY):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is needed (wrk: apt-get install wrk; py-spy: make install)")
    profile(arguments.database_url or None, arguments.page, arguments.seconds, not arguments.all_frames,
            arguments.top)


if __name__ == "__main__":
    main()
