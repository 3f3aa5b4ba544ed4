"""A fresh sign-in for the acts that need one (a copy of one's data, deletion).

Whoever holds a signed-in browser for a moment must not take away a customer's data or erase it, so
these acts need a sign-in younger than ``FRESH_SIGN_IN_MINUTES`` (15). Otherwise the customer is
asked on the spot for a fresh code, e-mailed to the address they signed in with and entered on the
page. The code is an e-mailed link of its own purpose (:mod:`portal.email_links`), bound to the
session that asked for it, and counted and limited like a sign-in code (:func:`try_code`: five
wrong codes void it, it expires with sign-in links and works once). A right code records the fresh
time on the server-side session.

Use :func:`fresh_sign_in_required` on a view; the confirmation page and its two posts are drawn by
the template ``rights/fresh.html`` and the views of :mod:`portal.rights.views`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import wraps

from flask import current_app, render_template, request
from flask_login import current_user
from sqlalchemy import select, update

from portal import clock, email_links
from portal.audit.services import record
from portal.auth.forms import FreshCodeForm, FreshCodeRequestForm
from portal.auth.models import CustomerSession
from portal.auth.services import CodeResult, _new_code, attempts_left, format_code, try_code
from portal.db import db
from portal.email_links import EmailLink
from portal.hashing import keyed_hash
from portal.outbox.services import queue_email

PURPOSE = "fresh_sign_in"


def is_fresh(principal, now: datetime) -> bool:
    """Whether the customer signed in, or entered a fresh code, within the last 15 minutes."""
    return now - principal.fresh_since < timedelta(minutes=current_app.config["FRESH_SIGN_IN_MINUTES"])


def _session_key(session_id: int) -> str:
    """The address key of a session's fresh codes: a newer code voids the older of the same session."""
    return keyed_hash(f"{PURPOSE}:{session_id}")


def send_fresh_code(principal, locale: str, now: datetime) -> EmailLink:
    """E-mail a fresh code to the address the customer signed in with (voiding any older one)."""
    minutes = current_app.config["SIGN_IN_LINK_MINUTES"]
    link, _token = email_links.issue(PURPOSE, email=principal.email, address_key=_session_key(principal.session_id),
                                     lifetime=timedelta(minutes=minutes), now=now,
                                     customer_id=principal.customer_id)
    code = _new_code()
    link.code_hash = keyed_hash(f"{link.token_hash}:{code}")
    queue_email(principal.email, "fresh_code", principal.preferred_locale or locale, PURPOSE,
                code=format_code(code), minutes=minutes, useless_after=link.expires_at)
    record(principal, "fresh_sign_in.code_sent", principal.audit_name, link_id=link.id)
    return link


def _newest_link(principal) -> EmailLink | None:
    """The newest fresh code of this session, usable or not."""
    statement = (select(EmailLink).where(EmailLink.purpose == PURPOSE,
                                         EmailLink.address_key == _session_key(principal.session_id))
                 .order_by(EmailLink.id.desc()).limit(1))
    return db.session.scalars(statement).first()


def confirm_fresh_code(principal, raw_code: str, now: datetime) -> CodeResult:
    """Check a typed fresh code; a right one makes the session fresh from ``now``."""
    link = _newest_link(principal)
    if link is None or not link.is_usable(now):
        return CodeResult.UNUSABLE
    result = try_code(link, raw_code, now)
    if result is CodeResult.ACCEPTED:
        db.session.execute(update(CustomerSession).where(CustomerSession.id == principal.session_id)
                                       .values(fresh_at=now).execution_options(synchronize_session=False))
        record(principal, "fresh_sign_in.confirmed", principal.audit_name, link_id=link.id)
    return result


def fresh_attempts_left(principal) -> int:
    """How many more wrong codes the session's newest fresh code allows."""
    link = _newest_link(principal)
    return attempts_left(link) if link is not None else 0


def fresh_sign_in_required(view):
    """Run ``view`` only for a customer whose sign-in is fresh; otherwise ask, on the spot, for a
    fresh code (the page offers to e-mail one). Put it under :func:`portal.access.customer_required`."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if is_fresh(current_user, clock.now()):
            return view(*args, **kwargs)
        return ask_for_fresh_code()

    return wrapped


def ask_for_fresh_code(code_form: FreshCodeForm | None = None, sent: bool = False, status: int = 200,
                       next_path: str | None = None):
    """The page that asks for a fresh code and then goes back to ``next_path`` (this page)."""
    target = next_path or request.path
    return render_template("rights/fresh.html", request_form=FreshCodeRequestForm(formdata=None, next=target),
                           form=code_form or FreshCodeForm(formdata=None, next=target), sent=sent,
                           email=current_user.email,
                           minutes=current_app.config["FRESH_SIGN_IN_MINUTES"]), status
