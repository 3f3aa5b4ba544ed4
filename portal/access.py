"""Who is making the request: the Flask-Login loader and the gates on views."""

from __future__ import annotations

from datetime import timedelta
from functools import wraps

from flask import redirect, request, url_for
from flask_login import UserMixin, current_user

from portal import clock
from portal.auth.models import CustomerSession
from portal.auth.services import active_session
from portal.db import db
from portal.extensions import login_manager

# Writing last_seen_at on every request would cost a write per page; a minute's precision is plenty
# for a 30-minute idle timeout.
LAST_SEEN_RESOLUTION = timedelta(seconds=60)


class CustomerPrincipal(UserMixin):
    """A signed-in customer: the server-side session row and the key the cookie holds."""

    is_customer = True

    def __init__(self, row: CustomerSession, key: str):
        self.session_row = row
        self.key = key

    def get_id(self) -> str:
        return f"c:{self.key}"

    @property
    def customer(self):
        return self.session_row.customer

    @property
    def email(self) -> str:
        return self.session_row.email


@login_manager.user_loader
def load_principal(user_id: str):
    """Resolve the session cookie to a live server-side session, or to nobody."""
    kind, _, key = user_id.partition(":")
    if kind != "c":
        return None
    now = clock.now()
    row = active_session(key, now)
    if row is None:
        db.session.commit()  # keep the record of a session that has just timed out
        return None
    if now - row.last_seen_at >= LAST_SEEN_RESOLUTION:
        row.last_seen_at = now
        db.session.commit()
    return CustomerPrincipal(row, key)


def customer_required(view):
    """Send anonymous visitors to sign-in, and bring them back here afterwards."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated or not getattr(current_user, "is_customer", False):
            return redirect(url_for("auth.sign_in", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapped
