"""Pages drawn once and served again while nothing they show has changed.

A page is kept, in the memory of the process that drew it, under a key made of everything that
decides what it shows: the page (endpoint and full path), the language, who asks (nobody, or one
customer and the address they signed in with) and the version of the data it shows. Anything a
response must not share with another — the CSRF token of the browser's session, a form's key that
stores a double submit once — is drawn as a mark and filled in afresh for every response. A page
with a message to show once (a flashed notice) is never kept or served from the cache.

The key decides who can be served a page: a customer's page is keyed by that customer, so no other
customer, member of staff or visitor can ever be served it; what the cache holds is what the process
already read for that customer. A view asks for the cache only where it can name the data version
(see ``customers.data_version`` and the views that use it).
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from flask import request, session
from flask_babel import get_locale
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

PAGES_KEPT = 1024  # per process; a page is a few kilobytes


class _Pages:
    """A small least-recently-used store, safe for the threads of one process."""

    def __init__(self, size: int):
        self.size = size
        self.pages: OrderedDict[tuple, tuple[str, object, float]] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: tuple, max_age: float | None = None) -> tuple[str, object] | None:
        """The page kept under ``key`` and what was noted with it, unless it was drawn more than
        ``max_age`` seconds ago."""
        with self.lock:
            kept = self.pages.get(key)
            if kept is None or (max_age is not None and time.monotonic() - kept[2] > max_age):
                return None
            self.pages.move_to_end(key)
            return kept[0], kept[1]

    def put(self, key: tuple, page: str, noted: object = None) -> None:
        with self.lock:
            self.pages[key] = (page, noted, time.monotonic())
            self.pages.move_to_end(key)
            while len(self.pages) > self.size:
                self.pages.popitem(last=False)

    def clear(self) -> None:
        with self.lock:
            self.pages.clear()


PAGES = _Pages(PAGES_KEPT)
# Marks are random for each process: no text a person writes can be mistaken for one.
_MARK = f"page-cache-{secrets.token_hex(8)}"


def serve(parts: tuple | None, draw: Callable[[dict[str, str]], str],
          fresh: dict[str, Callable[[], str]] | None = None, max_age: float | None = None) -> str:
    """The page ``draw(values)`` draws, from the cache when it holds it under ``parts`` (who asks and
    the data's version, which the caller names; None: do not keep this one) and the request's page
    and language. ``values`` holds ``csrf_token`` and one value from each of ``fresh``, new for
    every response. ``max_age`` bounds how long a page is served for what its key cannot name
    (lists of reference data that change rarely, the passing of time)."""
    page, _noted = serve_noting(parts, lambda values: (draw(values), None), fresh, max_age)
    return page


def serve_noting(parts: tuple | None, draw: Callable[[dict[str, str]], tuple[str, object]],
                 fresh: dict[str, Callable[[], str]] | None = None,
                 max_age: float | None = None) -> tuple[str, object]:
    """Like :func:`serve`, for a page that must note something when it is drawn that every response
    needs again (the customers a list names, to log each view): ``draw`` returns the page and the
    note, and so does this, whether the page was drawn or kept."""
    values = {"csrf_token": generate_csrf(), **{name: make() for name, make in (fresh or {}).items()}}
    if parts is None or session.get("_flashes"):
        return draw(values)
    key = (request.endpoint, request.full_path, str(get_locale()), *parts)
    kept = PAGES.get(key, max_age)
    if kept is None:
        page, noted = draw(values)
        stored = page
        for name, value in values.items():
            stored = stored.replace(value, f"{_MARK}:{name}")
        PAGES.put(key, stored, noted)
        return page, noted
    page, noted = kept
    for name, value in values.items():
        page = page.replace(f"{_MARK}:{name}", value)
    return page, noted


def visitor_key() -> tuple | None:
    """What decides a page for someone not signed in: nothing but the page and the language. Someone
    signed in sees their own header and menu: their page is not a visitor's (None: not kept)."""
    return None if current_user.is_authenticated else ("visitor",)
