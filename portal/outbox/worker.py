"""The worker loop behind ``flask worker``, and the development thread that runs it in-process."""

from __future__ import annotations

import logging
import signal
import threading

from portal import clock
from portal.db import db
from portal.outbox.delivery import deliver_due

log = logging.getLogger(__name__)


def run_once(app) -> int:
    """Do every due job once; return how many messages were tried."""
    with app.app_context():
        try:
            return deliver_due(clock.now())
        finally:
            db.session.remove()


def run_forever(app, poll_seconds: float, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            tried = run_once(app)
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


def start_background_worker(app) -> threading.Thread:
    stop = threading.Event()
    thread = threading.Thread(target=run_forever, args=(app, 1.0, stop), name="outbox-worker", daemon=True)
    thread.start()
    return thread
