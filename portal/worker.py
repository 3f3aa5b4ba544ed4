"""The worker loop behind ``flask worker`` (escalation and e-mail delivery, see portal.jobs), and
the development thread that runs it in-process."""

from __future__ import annotations

import logging
import signal
import threading

from portal import clock
from portal.db import db
from portal.jobs import PurgeSchedule, run_due_jobs

log = logging.getLogger(__name__)


def run_once(app, purges: PurgeSchedule | None = None) -> int:
    """Do every due job once; return how much work was done (0: nothing was due). ``purges`` is the
    worker loop's schedule of retention purges; without one (``flask worker --once``) they run."""
    with app.app_context():
        try:
            return run_due_jobs(clock.now(), purges)
        finally:
            db.session.remove()


def run_forever(app, poll_seconds: float, stop: threading.Event) -> None:
    purges = PurgeSchedule()  # this worker's: its first round purges, then once an hour
    while not stop.is_set():
        try:
            tried = run_once(app, purges)
        except Exception:  # a broken round must not kill the worker; the next round retries
            log.exception("Worker round failed")
            tried = 0
        if tried == 0:
            stop.wait(poll_seconds)


def run_until_signalled(app, poll_seconds: float) -> None:
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    log.info("Worker started; polling every %ss", poll_seconds)
    run_forever(app, poll_seconds, stop)


class BackgroundWorker(threading.Thread):
    """The development worker thread; :meth:`stop` ends it after the current round."""

    def __init__(self, app, poll_seconds: float):
        super().__init__(name="outbox-worker", daemon=True)
        self.app = app
        self.poll_seconds = poll_seconds
        self.stopping = threading.Event()

    def run(self) -> None:
        run_forever(self.app, self.poll_seconds, self.stopping)

    def stop(self, timeout: float | None = None) -> None:
        self.stopping.set()
        self.join(timeout)


def start_background_worker(app, poll_seconds: float = 1.0) -> BackgroundWorker:
    worker = BackgroundWorker(app, poll_seconds)
    worker.start()
    return worker
