"""Who is making the request: the Flask-Login loader and the gates on views."""

from __future__ import annotations

from datetime import timedelta
from functools import wraps

from flask import abort, redirect, request, url_for
from flask_login import UserMixin, current_user

from portal import clock
from portal.auth.models import CustomerSession
from portal.auth.services import active_session
from portal.db import db
from portal.enums import Role
from portal.extensions import login_manager

# Writing last_seen_at on every request would cost a write per page; a minute's precision is plenty
# for a 30-minute idle timeout.
LAST_SEEN_RESOLUTION = timedelta(seconds=60)


class CustomerPrincipal(UserMixin):
    """A signed-in customer: the server-side session row and the key the cookie holds."""

    is_customer = True
    is_staff = False

    def __init__(self, row: CustomerSession, key: str):
        self.session_row = row
        self.key = key

    def get_id(self) -> str:
        return f"c:{self.key}"

    @property
    def customer(self):
        return self.session_row.customer

    @property
    def locale_owner(self):
        """Where this person's language choice is kept (None: a visitor with no customer record)."""
        return self.session_row.customer

    @property
    def actor(self) -> str:
        return f"customer:{self.session_row.customer_id}"

    @property
    def email(self) -> str:
        return self.session_row.email


class StaffPrincipal(UserMixin):
    """A signed-in staff member. Role and active flag are read afresh on every request."""

    is_customer = False
    is_staff = True

    def __init__(self, row, key: str):
        self.session_row = row
        self.key = key

    def get_id(self) -> str:
        return f"s:{self.key}"

    @property
    def staff(self):
        return self.session_row.staff

    @property
    def locale_owner(self):
        return self.session_row.staff

    @property
    def actor(self) -> str:
        return f"staff:{self.session_row.staff_id}"

    @property
    def role(self) -> Role:
        return Role(self.staff.role)

    def can(self, action: str) -> bool:
        return can(self.role, action)


@login_manager.user_loader
def load_principal(user_id: str):
    """Resolve the session cookie to a live server-side session, or to nobody."""
    kind, _, key = user_id.partition(":")
    if kind == "s":
        return _load_staff(key)
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


def _load_staff(key: str):
    from portal.staff.services import active_staff_session

    now = clock.now()
    row = active_staff_session(key, now)
    if row is None:
        db.session.commit()  # keep the record of a session ended by timeout or deactivation
        return None
    if now - row.last_seen_at >= LAST_SEEN_RESOLUTION:
        row.last_seen_at = now
        db.session.commit()
    return StaffPrincipal(row, key)


# The permission matrix: which role may do what. The README shows the same table; a test checks
# every cell. Object-level rules (which department's tickets) are in can_see_ticket.
PERMISSIONS: dict[str, frozenset[Role]] = {
    "queue.own_department": frozenset({Role.BOARD, Role.SALES, Role.CARE}),
    "queue.all": frozenset({Role.BOARD, Role.ADMIN}),
    "ticket.view_thread": frozenset({Role.BOARD, Role.SALES, Role.CARE}),
    "ticket.work": frozenset({Role.BOARD, Role.SALES, Role.CARE}),
    "ticket.route": frozenset({Role.BOARD, Role.SALES, Role.CARE, Role.ADMIN}),
    "customer.view": frozenset({Role.BOARD, Role.SALES, Role.CARE}),
    "evidence.view": frozenset({Role.BOARD}),
    "dashboard.view": frozenset({Role.BOARD, Role.ADMIN}),
    "settings.edit": frozenset({Role.ADMIN}),
    "staff.manage": frozenset({Role.ADMIN}),
}


def can(role: Role, action: str) -> bool:
    return role in PERMISSIONS[action]


def can_see_ticket(role: Role, department: str) -> bool:
    """Board and admin see every queue; sales and care only their own department's."""
    return can(role, "queue.all") or role.value == department


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
