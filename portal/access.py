"""Who is making the request, and the gates on views.

The session cookie names a server-side session: ``c:<key>`` for a customer, ``s:<key>`` for a staff
member. Each feature registers the loader for its own prefix (:func:`principal_loader`), so this
module knows no feature; both kinds of session follow the one timeout rule below.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import wraps

from flask import abort, current_app, redirect, request, session, url_for
from flask_login import current_user
from sqlalchemy import update

from portal import clock
from portal.db import db, write_plain
from portal.extensions import login_manager

# Writing last_seen_at on every request would cost a write per page; a minute's precision is plenty
# for a 30-minute idle timeout.
LAST_SEEN_RESOLUTION = timedelta(seconds=60)
MAX_KEY_LENGTH = 100

_loaders: dict[str, Callable[[str], object | None]] = {}


def principal_loader(prefix: str):
    """Register the function that turns a session key with ``prefix`` into a principal (or None)."""

    def register(loader):
        _loaders[prefix] = loader
        return loader

    return register


@login_manager.user_loader
def load_principal(user_id: str):
    """Resolve the session cookie to a live server-side session, or to nobody."""
    prefix, _, key = user_id.partition(":")
    loader = _loaders.get(prefix)
    if loader is None or not key or len(key) > MAX_KEY_LENGTH:
        return None
    return loader(key)


def timeout_reason(row, now: datetime) -> str | None:
    """Why a session row (customer or staff) has timed out at ``now``: "expired", "idle" or None."""
    config = current_app.config
    if now - row.created_at >= timedelta(hours=config["SESSION_ABSOLUTE_HOURS"]):
        return "expired"
    if now - row.last_seen_at >= timedelta(minutes=config["SESSION_IDLE_MINUTES"]):
        return "idle"
    return None


def resume_session(key: str, find_live_session, make_principal, session_model):
    """The principal of a live session, or None. ``find_live_session(key, now)`` ends a session
    that has timed out (that end is committed, so it is recorded); a live one's idle clock (the
    ``last_seen_at`` of its ``session_model`` row) moves on at most once a minute, by one UPDATE: a
    write on every page would cost more than the precision is worth."""
    now = clock.now()
    row = find_live_session(key, now)
    if row is None:
        db.session.commit()
        return None
    if now - row.last_seen_at >= LAST_SEEN_RESOLUTION:
        write_plain(update(session_model).where(session_model.id == row.id).values(last_seen_at=now))
        db.session.commit()  # with what the request did before, if anything
    return make_principal(row, key)


def restart_browser_session() -> None:
    """Drop everything in the browser's session (CSRF token included) but the chosen language: done
    at every sign-in and sign-out, so nothing of the session before carries over."""
    locale = session.get("locale")
    session.clear()
    if locale:
        session["locale"] = locale


def staff_required(action: str | None = None):
    """Gate a view on a signed-in, active staff member allowed to do ``action`` (404 otherwise)."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated or not getattr(current_user, "is_staff", False):
                return redirect(url_for("staff.sign_in", next=request.full_path.rstrip("?")))
            if action is not None and not current_user.can(action):
                abort(404)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def customer_required(view):
    """Send anonymous visitors to sign-in, and bring them back here afterwards."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated or not current_user.is_customer:
            return redirect(url_for("auth.sign_in", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapped
