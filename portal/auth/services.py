"""Customer sign-in by e-mailed link and code (DESIGN §4), and customer sessions.

The link proves the customer reads the mailbox. A corporate mail scanner may open the link, run its
scripts and press its buttons, so nothing here is used up by a GET, and "Continue" only signs in from
the browser holding the nonce cookie set when the link was asked for; anywhere else the short code
from the same e-mail is needed.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from sqlalchemy import select, update

from portal.account.models import ContactPoint
from portal.audit.services import record
from portal.auth.models import CustomerSession, SignInLink
from portal.db import db
from portal.enums import Channel
from portal.outbox.services import queue_email

MAX_ADDRESS_LENGTH = 254
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I: easy to read and type
CODE_LENGTH = 8


class InvalidAddress(ValueError):
    pass


def normalize_email(raw: str) -> str:
    """Return the comparable form of an e-mail address or raise :class:`InvalidAddress`."""
    if not raw or len(raw) > MAX_ADDRESS_LENGTH or any(ord(ch) < 32 or ord(ch) == 127 for ch in raw):
        raise InvalidAddress(raw)
    try:
        result = validate_email(raw.strip(), check_deliverability=False)
    except EmailNotValidError:
        raise InvalidAddress(raw) from None
    return result.normalized.lower()


def sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def keyed_hash(value: str) -> str:
    """HMAC with the app's secret: not reversible by someone holding only the database."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


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
        .where(ContactPoint.channel == Channel.EMAIL.value, ContactPoint.value_normalized == address)
        .order_by(ContactPoint.id)
        .limit(1)
    )
    return db.session.scalars(statement).first()


@dataclass
class IssuedLink:
    link: SignInLink
    token: str
    nonce: str


def issue_link(address: str, next_path: str | None, locale: str, now: datetime) -> IssuedLink:
    """Void older links for ``address``, create a new one and queue its e-mail.

    Known and unknown addresses take the same path and the same work; only the e-mail differs.
    For a known customer the mail goes to the address as stored, not as typed.
    """
    contact = find_email_contact(address)
    key = keyed_hash(address)
    db.session.execute(
        update(SignInLink)
        .where(SignInLink.address_key == key, SignInLink.used_at.is_(None), SignInLink.voided_at.is_(None))
        .values(voided_at=now)
    )
    token, code, nonce = secrets.token_urlsafe(32), _new_code(), secrets.token_urlsafe(32)
    token_hash = sha256(token)
    customer = contact.customer if contact else None
    link = SignInLink(
        token_hash=token_hash,
        code_hash=keyed_hash(f"{token_hash}:{code}"),
        nonce_hash=sha256(nonce),
        address_key=key,
        email=contact.value if contact else address,
        customer=customer,
        next_path=next_path,
        created_at=now,
        expires_at=now + timedelta(minutes=current_app.config["SIGN_IN_LINK_MINUTES"]),
    )
    db.session.add(link)
    mail_locale = (customer.preferred_locale if customer else None) or locale
    queue_email(
        link.email,
        "sign_in_link" if customer else "sign_in_unknown",
        mail_locale,
        "sign_in_link",
        token=token,
        code=format_code(code),
        minutes=current_app.config["SIGN_IN_LINK_MINUTES"],
        customer=customer,
        useless_after=link.expires_at,
    )
    db.session.flush()
    record("anonymous", "sign_in.link_requested", f"customer:{customer.id}" if customer else "",
           link_id=link.id)
    return IssuedLink(link=link, token=token, nonce=nonce)


def find_link(token: str | None) -> SignInLink | None:
    if not token or len(token) > 100:
        return None
    return db.session.scalars(select(SignInLink).where(SignInLink.token_hash == sha256(token))).first()


def nonce_matches(link: SignInLink, nonce: str | None) -> bool:
    return bool(nonce) and len(nonce) <= 100 and hmac.compare_digest(link.nonce_hash, sha256(nonce))


def consume(link: SignInLink, now: datetime) -> bool:
    """Mark the link used; True for exactly one caller even when several race for it."""
    result = db.session.execute(
        update(SignInLink)
        .where(SignInLink.id == link.id, SignInLink.used_at.is_(None), SignInLink.voided_at.is_(None),
               SignInLink.expires_at > now)
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    db.session.refresh(link)
    return True


class CodeResult(enum.Enum):
    ACCEPTED = "accepted"
    WRONG = "wrong"
    LOCKED = "locked"  # too many wrong codes: the link is void
    UNUSABLE = "unusable"  # expired, used or voided


def try_code(link: SignInLink, raw_code: str, now: datetime) -> CodeResult:
    """Check a typed code; a wrong one counts, and the last allowed wrong one voids the link.

    Each try is counted *before* the code is compared, by one UPDATE that only succeeds while the link
    is usable and under the limit. That UPDATE holds the row (PostgreSQL) or the database (SQLite)
    until the caller commits, so tries on one link run one after another: guesses sent in parallel
    cannot all be compared before any of them has counted, and at most the limit of wrong codes is
    ever compared. A right code gives its try back and uses the link in the same transaction.
    """
    limit = current_app.config["SIGN_IN_MAX_WRONG_CODES"]
    usable = (SignInLink.id == link.id, SignInLink.used_at.is_(None), SignInLink.voided_at.is_(None),
              SignInLink.expires_at > now)
    counted = db.session.execute(
        update(SignInLink)
        .where(*usable, SignInLink.wrong_code_count < limit)
        .values(wrong_code_count=SignInLink.wrong_code_count + 1)
        .execution_options(synchronize_session=False)
    )
    if counted.rowcount != 1:
        db.session.refresh(link)
        return CodeResult.UNUSABLE
    expected = keyed_hash(f"{link.token_hash}:{normalize_code(raw_code)}")
    if hmac.compare_digest(expected, link.code_hash):
        db.session.execute(
            update(SignInLink)
            .where(SignInLink.id == link.id)
            .values(wrong_code_count=SignInLink.wrong_code_count - 1, used_at=now)
            .execution_options(synchronize_session=False)
        )
        db.session.refresh(link)
        return CodeResult.ACCEPTED
    db.session.execute(
        update(SignInLink)
        .where(SignInLink.id == link.id, SignInLink.wrong_code_count >= limit, SignInLink.voided_at.is_(None))
        .values(voided_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(link)
    record("anonymous", "sign_in.wrong_code", f"customer:{link.customer_id}" if link.customer_id else "",
           link_id=link.id, wrong_codes=link.wrong_code_count)
    return CodeResult.LOCKED if link.voided_at else CodeResult.WRONG


def attempts_left(link: SignInLink) -> int:
    return max(current_app.config["SIGN_IN_MAX_WRONG_CODES"] - link.wrong_code_count, 0)


def start_session(link: SignInLink, now: datetime) -> str:
    """Create the server-side session for a used link; return the key for the cookie."""
    key = secrets.token_urlsafe(32)
    db.session.add(CustomerSession(key_hash=sha256(key), customer_id=link.customer_id, email=link.email,
                                   created_at=now, last_seen_at=now))
    record(f"customer:{link.customer_id}" if link.customer_id else f"address:{link.address_key[:12]}",
           "sign_in.succeeded", f"customer:{link.customer_id}" if link.customer_id else "", link_id=link.id)
    return key


def timeout_reason(row, now: datetime) -> str | None:
    """Why a session row (customer or staff) has timed out at ``now``: "expired", "idle" or None."""
    config = current_app.config
    if now - row.created_at >= timedelta(hours=config["SESSION_ABSOLUTE_HOURS"]):
        return "expired"
    if now - row.last_seen_at >= timedelta(minutes=config["SESSION_IDLE_MINUTES"]):
        return "idle"
    return None


def active_session(key: str, now: datetime) -> CustomerSession | None:
    """The live session for a cookie key, ending it first if it has idled or aged out."""
    if not key or len(key) > 100:
        return None
    row = db.session.scalars(select(CustomerSession).where(CustomerSession.key_hash == sha256(key))).first()
    if row is None or row.ended_at is not None:
        return None
    reason = timeout_reason(row, now)
    if reason:
        end_session(row, now, reason)
        return None
    return row


def end_session(row: CustomerSession, now: datetime, reason: str) -> None:
    row.ended_at = now
    row.end_reason = reason
    record(f"customer:{row.customer_id}" if row.customer_id else "anonymous", "session.ended",
           f"customer:{row.customer_id}" if row.customer_id else "", reason=reason)
