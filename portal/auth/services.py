"""Customer sign-in by e-mailed link and code and customer sessions.

The link proves the customer reads the mailbox. A corporate mail scanner may open the link, run its
scripts and press its buttons, so nothing here is used up by a GET, and "Continue" only signs in from
the browser holding the nonce cookie set when the link was asked for; anywhere else the short code
from the same e-mail is needed.
"""

from __future__ import annotations

import enum
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import bindparam, func, select, update

from portal import email_links
from portal.access import timeout_reason
from portal.account.models import ContactPoint, Customer
from portal.audit.models import CustomerDataView
from portal.audit.services import record
from portal.auth.models import CustomerSession
from portal.auth.records import comparable, records_holding
from portal.db import db, read_plain
from portal.email_links import EmailLink
from portal.enums import Channel
from portal.hashing import keyed_hash, sha256
from portal.outbox.services import queue_email

PURPOSE = "sign_in"
HINT_SALT = "sign-in-address-hint"
MAX_HINT_LENGTH = 500
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I: easy to read and type
CODE_LENGTH = 8


def _new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(raw: str) -> str:
    return "".join(ch for ch in (raw or "").upper() if ch.isalnum())[:CODE_LENGTH * 2]


def format_code(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"


def find_email_contact(address: str) -> ContactPoint | None:
    """The stored e-mail contact point for a normalised address, if any customer has one."""
    statement = (
        select(ContactPoint)
        .where(ContactPoint.channel == Channel.EMAIL, ContactPoint.value_normalized == address)
        .order_by(ContactPoint.id)
        .limit(1)
    )
    return db.session.scalars(statement).first()


@dataclass
class IssuedLink:
    link: EmailLink
    token: str
    nonce: str


def issue_link(address: str, next_path: str | None, locale: str, now: datetime) -> IssuedLink:
    """Void older links for ``address``, create a new one and queue its e-mail.

    Known and unknown addresses take the same path and the same work; only the e-mail differs.
    For a known customer the mail goes to the address as stored, not as typed. An address several
    records hold (a shared mailbox) gets a neutral e-mail that names no record.
    """
    contact = find_email_contact(address)
    customer = contact.customer if contact else None
    # A shared mailbox (several records hold the address): the e-mail names none of them, and is
    # written in the language the link was asked in; the records are chosen after signing in.
    shared = records_holding(address) > 1
    code, nonce = _new_code(), secrets.token_urlsafe(32)
    minutes = current_app.config["SIGN_IN_LINK_MINUTES"]
    link, token = email_links.issue(
        PURPOSE, email=contact.value if contact else address, address_key=keyed_hash(address),
        lifetime=timedelta(minutes=minutes), now=now, customer_id=customer.id if customer else None,
        next_path=next_path, nonce_hash=sha256(nonce))
    link.code_hash = keyed_hash(f"{link.token_hash}:{code}")
    mail_locale = (customer.preferred_locale if customer and not shared else None) or locale
    template = "sign_in_shared" if shared else "sign_in_link" if customer else "sign_in_unknown"
    queue_email(link.email, template, mail_locale, "sign_in_link",
                token=token, code=format_code(code), minutes=minutes, customer=customer,
                useless_after=link.expires_at)
    db.session.flush()
    record("anonymous", "sign_in.link_requested", customer or "", link_id=link.id)
    return IssuedLink(link=link, token=token, nonce=nonce)


def _hint_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=HINT_SALT)


def address_hint(address: str, now: datetime) -> str:
    """A signed, expiring token naming ``address``, for the sign-in link of a notification e-mail.

    It only fills in the sign-in form: the link it leads to still goes to the address stored on the
    record, under the same limits, so a forged or stolen hint gains nothing. Signing keeps anyone from
    making hints of their own; the expiry keeps an old link from filling in the form for ever.
    The address can be read back from the token by anyone holding it (signed, not encrypted): the
    sign-in page moves it out of the URL at once and access logs show it redacted.
    """
    expires = int((now + timedelta(days=current_app.config["SIGN_IN_HINT_DAYS"])).timestamp())
    return _hint_serializer().dumps([address, expires])


def address_from_hint(hint: str | None, now: datetime) -> str | None:
    """The address a hint names, or None if it is forged, damaged or expired."""
    if not hint or len(hint) > MAX_HINT_LENGTH:
        return None
    try:
        address, expires = _hint_serializer().loads(hint)
    except (BadSignature, ValueError, TypeError):
        return None
    if not isinstance(address, str) or not isinstance(expires, int) or now.timestamp() >= expires:
        return None
    return address


def find_link(token: str | None) -> EmailLink | None:
    return email_links.find(token, PURPOSE)


def nonce_matches(link: EmailLink, nonce: str | None) -> bool:
    return bool(nonce) and len(nonce) <= 100 and hmac.compare_digest(link.nonce_hash, sha256(nonce))


def consume(link: EmailLink, now: datetime) -> bool:
    """Mark the link used; True for exactly one caller even when several race for it."""
    return email_links.use(link, now)


class CodeResult(enum.Enum):
    ACCEPTED = "accepted"
    WRONG = "wrong"
    LOCKED = "locked"  # too many wrong codes: the link is void
    UNUSABLE = "unusable"  # expired, used or voided


def try_code(link: EmailLink, raw_code: str, now: datetime) -> CodeResult:
    """Check a typed code; a wrong one counts, and the last allowed wrong one voids the link.

    Each try is counted *before* the code is compared, by one UPDATE that only succeeds while the link
    is usable and under the limit. That UPDATE holds the row (PostgreSQL) or the database (SQLite)
    until the caller commits, so tries on one link run one after another: guesses sent in parallel
    cannot all be compared before any of them has counted, and at most the limit of wrong codes is
    ever compared. A right code gives its try back and uses the link in the same transaction.
    """
    limit = current_app.config["SIGN_IN_MAX_WRONG_CODES"]
    usable = (EmailLink.id == link.id, EmailLink.used_at.is_(None), EmailLink.voided_at.is_(None),
              EmailLink.expires_at > now)
    counted = db.session.execute(
        update(EmailLink)
        .where(*usable, EmailLink.wrong_code_count < limit)
        .values(wrong_code_count=EmailLink.wrong_code_count + 1)
        .execution_options(synchronize_session=False)
    )
    if counted.rowcount != 1:
        db.session.refresh(link)
        return CodeResult.UNUSABLE
    expected = keyed_hash(f"{link.token_hash}:{normalize_code(raw_code)}")
    if hmac.compare_digest(expected, link.code_hash):
        db.session.execute(
            update(EmailLink)
            .where(EmailLink.id == link.id)
            .values(wrong_code_count=EmailLink.wrong_code_count - 1, used_at=now)
            .execution_options(synchronize_session=False)
        )
        db.session.refresh(link)
        return CodeResult.ACCEPTED
    db.session.execute(
        update(EmailLink)
        .where(EmailLink.id == link.id, EmailLink.wrong_code_count >= limit, EmailLink.voided_at.is_(None))
        .values(voided_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(link)
    record("anonymous", f"{link.purpose}.wrong_code", f"customer:{link.customer_id}" if link.customer_id else "",
           link_id=link.id, wrong_codes=link.wrong_code_count)
    return CodeResult.LOCKED if link.voided_at else CodeResult.WRONG


def attempts_left(link: EmailLink) -> int:
    return max(current_app.config["SIGN_IN_MAX_WRONG_CODES"] - link.wrong_code_count, 0)


def start_session(link: EmailLink, now: datetime) -> str:
    """Create the server-side session for a used link; return the key for the cookie. An address held
    by several records starts with none: the customer chooses (portal/auth/records.py)."""
    key = secrets.token_urlsafe(32)
    several = link.customer_id is not None and records_holding(link.email) > 1
    db.session.add(CustomerSession(key_hash=sha256(key), customer_id=None if several else link.customer_id,
                                   email=link.email, several_records=several, created_at=now, last_seen_at=now))
    customer = f"customer:{link.customer_id}" if link.customer_id and not several else ""
    record(customer or f"address:{link.address_key[:12]}", "sign_in.succeeded", customer, link_id=link.id,
           several_records=several)
    return key


@lru_cache(maxsize=1)
def _session_statement():
    """A session and its customer's record, in one statement built once: every page of a signed-in
    customer starts with it, and plain values cost less than objects of the session. With them come
    the versions of what My data shows (the record's, and the latest staff view of it), which decide
    whether the page drawn last is still true."""
    latest_view = (select(func.max(CustomerDataView.id)).where(CustomerDataView.customer_id == Customer.id)
                   .correlate(Customer).scalar_subquery())
    return (select(CustomerSession.id, CustomerSession.customer_id, CustomerSession.email,
                   CustomerSession.several_records,
                   CustomerSession.created_at, CustomerSession.last_seen_at, CustomerSession.ended_at,
                   CustomerSession.fresh_at, Customer.full_name, Customer.notes, Customer.source,
                   Customer.preferred_locale,
                   Customer.created_at.label("customer_since"), Customer.data_version,
                   Customer.restricted_at, Customer.erased_at,
                   latest_view.label("latest_view"))
            .outerjoin(Customer, Customer.id == CustomerSession.customer_id)
            .where(CustomerSession.key_hash == bindparam("key_hash")))


def live_session(key: str, now: datetime):
    """The live session for a cookie key (a row of plain values), ending it first if it has idled or
    aged out."""
    row = read_plain(_session_statement(), {"key_hash": sha256(key)}).first()
    if row is None or row.ended_at is not None:
        return None
    reason = timeout_reason(row, now)
    if reason:
        end_session(db.session.get(CustomerSession, row.id), now, reason)
        return None
    return row


def remember_language(customer_id: int, locale: str) -> None:
    """Keep the customer's language choice on their record (their e-mails use it too)."""
    customer = db.session.get(Customer, customer_id)
    if customer is not None and customer.preferred_locale != locale:
        record(customer, "locale_changed", customer, old=customer.preferred_locale, new=locale)
        customer.preferred_locale = locale


def end_session(row: CustomerSession, now: datetime, reason: str) -> None:
    row.ended_at = now
    row.end_reason = reason
    customer = f"customer:{row.customer_id}" if row.customer_id else ""
    record(customer or "anonymous", "session.ended", customer, reason=reason)


def move_sessions_to_new_address(customer_id: int, old_address: str, new_address: str, now: datetime,
                                 keep_session_id: int | None = None) -> int:
    """The record's e-mail address ``old_address`` became ``new_address``: every live session of the
    record signed in with the old address ends ("email_changed"), except ``keep_session_id`` — the
    customer's own session in the browser that confirmed the change, which has just proved it reads
    the new mailbox too — which goes on signed in with the new address. How many ended.

    A shared-mailbox session that has not chosen a record yet is left alone: the record no longer
    holds the old address, so it is not offered there any more."""
    old = comparable(old_address)
    rows = db.session.scalars(select(CustomerSession).where(CustomerSession.customer_id == customer_id,
                                                            CustomerSession.ended_at.is_(None))
                              .order_by(CustomerSession.id)).all()
    ended = 0
    for row in rows:
        if comparable(row.email) != old:
            continue
        if row.id == keep_session_id:
            row.email, row.several_records = new_address, records_holding(new_address) > 1
            record(f"customer:{customer_id}", "session.address_changed", f"customer:{customer_id}", session=row.id)
        else:
            end_session(row, now, "email_changed")
            ended += 1
    return ended
