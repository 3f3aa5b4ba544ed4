"""One number that moves on whenever anything the staff board lists may have changed.

The queue and the dashboard show many tickets at once, with their customers' names, the members
they are assigned to and figures the settings decide; no single row's version can say whether such
a page is still true. ``change_counters`` holds a counter, ``board``, that every transaction moves on
at commit when it changed a model marked ``shown_on_board = True``. A page kept under the counter's
value (portal/page_cache.py) is therefore never served after a change it shows has committed.

The counter is moved on as the last step of the commit, after the final flush, so every transaction
takes its lock last: two transactions can wait for each other's counter, never deadlock on it.
"""

from __future__ import annotations

from functools import lru_cache
from itertools import chain

from flask import g
from sqlalchemy import String, event, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from portal.db import db, read_plain

BOARD = "board"
_CHANGED = "board_changed"


class ChangeCounter(db.Model):
    __tablename__ = "change_counters"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(default=0)


def board_counter():
    """The board's counter as a scalar subquery (NULL before the first change)."""
    return select(ChangeCounter.value).where(ChangeCounter.name == BOARD).scalar_subquery()


@lru_cache(maxsize=1)
def _read_statement():
    return select(board_counter())


def note_board_version(value: int | None) -> None:
    """Keep the counter a statement of this request read before any page data (the staff session's)."""
    g.board_version = value or 0


def board_version() -> int:
    """The board's counter as committed now (0 before the first change), or as the staff session's
    statement read it at the start of this request. Read before the data a page shows, so a page is never kept
    under a newer value than its data."""
    noted = g.pop("board_version", None)  # once: a later call of the request reads it again
    return noted if noted is not None else read_plain(_read_statement()).scalar() or 0


@event.listens_for(Session, "before_flush")
def _note_board_changes(session, flush_context, instances) -> None:
    if any(getattr(thing, "shown_on_board", False) for thing in chain(session.new, session.dirty, session.deleted)):
        session.info[_CHANGED] = True


@event.listens_for(Session, "before_commit")
def _move_board_on(session) -> None:
    session.flush()  # the changes first: the counter is the transaction's last lock
    if session.info.pop(_CHANGED, False):
        session.execute(text("INSERT INTO change_counters (name, value) VALUES (:name, 1) "
                             "ON CONFLICT (name) DO UPDATE SET value = change_counters.value + 1"), {"name": BOARD})


@event.listens_for(Session, "after_rollback")
def _forget_board_changes(session) -> None:
    session.info.pop(_CHANGED, None)
