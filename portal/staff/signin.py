"""The rules of staff sign-in: password, TOTP or recovery code, enrolment, and lockout.

A TOTP code is accepted for its own 30-second step and one step either side (clock drift), and only
if that step is later than the last one accepted: a code seen over someone's shoulder, or sent twice,
is refused.

Only wrong codes lock the account: five in a row after the right password lock it for 15 minutes.
Wrong passwords are recorded but do not count, so a stranger who knows a staff address cannot lock
that member out, let alone keep them locked; they are held back by the per-client limit on sign-in
posts instead. Each code attempt is counted before its code is compared, in one UPDATE that holds the
member's row until the attempt's transaction ends, so attempts posted at the same instant are checked
one after another and at most five are ever checked before the lock.
"""

from __future__ import annotations

import enum
import hmac
import secrets
from datetime import datetime, timedelta

import pyotp
import segno
from sqlalchemy import delete, or_, select, update

from portal.audit.services import record
from portal.db import db
from portal.hashing import hash_password, keyed_hash, password_needs_rehash, verify_password
from portal.staff.models import StaffMember, StaffRecoveryCode
from portal.staff.services import find_member, start_staff_session

MAX_FAILURES = 5
LOCK_MINUTES = 15
VALID_WINDOW = 1  # steps either side of now
ISSUER = "Khôi Ngô Security"
RECOVERY_CODE_COUNT = 10
RECOVERY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I
RECOVERY_CODE_LENGTH = 10  # 50 bits each


class Outcome(enum.Enum):
    ACCEPTED = "accepted"
    WRONG = "wrong"
    REPLAYED = "replayed"  # a right code whose step was already used
    LOCKED = "locked"  # locked before or by this attempt


def is_locked(member: StaffMember, now: datetime) -> bool:
    return member.locked_until is not None and now < member.locked_until


def check_password(email: str, password: str, now: datetime) -> tuple[Outcome, StaffMember | None]:
    """The first step. An unknown, inactive or not yet set-up member is just WRONG (and costs as much).

    A wrong password gets the same answer whether or not the account exists or is locked, so the page
    tells nobody which addresses are staff; only the right password learns of a lock. A wrong
    password is recorded, never counted towards the lock.
    """
    member = find_member(email)
    usable = member is not None and member.is_active and member.password_hash is not None
    if not verify_password(member.password_hash if usable else None, password):
        if usable:
            record("anonymous", "staff.sign_in_failed", member, step="password")
        return Outcome.WRONG, None
    if is_locked(member, now):
        return Outcome.LOCKED, member
    if password_needs_rehash(member.password_hash):
        member.password_hash = hash_password(password)
    return Outcome.ACCEPTED, member


def count_attempt(member: StaffMember, now: datetime) -> bool:
    """Count a second-step attempt before its code is compared; False if the account is locked.

    The UPDATE holds the member's row (PostgreSQL) or the database (SQLite) until the caller commits,
    so simultaneous attempts are counted, checked and answered one at a time."""
    counted = db.session.execute(
        update(StaffMember)
        .where(StaffMember.id == member.id, StaffMember.failed_sign_in_count < MAX_FAILURES,
               or_(StaffMember.locked_until.is_(None), StaffMember.locked_until <= now))
        .values(failed_sign_in_count=StaffMember.failed_sign_in_count + 1)
        .execution_options(synchronize_session=False)
    ).rowcount == 1
    db.session.refresh(member)
    return counted


def record_wrong_code(member: StaffMember, now: datetime, method: str) -> Outcome:
    """An attempt counted by :func:`count_attempt` was wrong: the last allowed one locks the account
    (exactly once, and the count starts again for after the lock)."""
    locked = db.session.execute(
        update(StaffMember)
        .where(StaffMember.id == member.id, StaffMember.failed_sign_in_count >= MAX_FAILURES)
        .values(failed_sign_in_count=0, locked_until=now + timedelta(minutes=LOCK_MINUTES))
        .execution_options(synchronize_session=False)
    ).rowcount == 1
    db.session.refresh(member)
    record("anonymous", "staff.sign_in_failed", member, step=method)
    if locked:
        record("system", "staff.locked", member, minutes=LOCK_MINUTES,
               until=member.locked_until.isoformat())
        return Outcome.LOCKED
    return Outcome.WRONG


def failures_left(member: StaffMember) -> int:
    return max(MAX_FAILURES - member.failed_sign_in_count, 0)


# --- TOTP ------------------------------------------------------------------------------------------


def _totp(secret: str) -> pyotp.TOTP:
    return pyotp.TOTP(secret)  # 6 digits, 30 s, SHA-1: what every authenticator app expects


def matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step whose code ``code`` is, within the allowed window, or None."""
    totp = _totp(secret)
    current = totp.timecode(now)
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _claim_step(member: StaffMember, step: int) -> bool:
    """Store ``step`` as the last used one, unless it (or a later one) was used already."""
    claimed = db.session.execute(
        update(StaffMember)
        .where(StaffMember.id == member.id,
               or_(StaffMember.totp_last_step.is_(None), StaffMember.totp_last_step < step))
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    ).rowcount == 1
    db.session.refresh(member)
    return claimed


def is_totp_code(code: str) -> bool:
    return len(code) == 6 and code.isascii() and code.isdigit()


def check_second_factor(member: StaffMember, raw_code: str, now: datetime) -> tuple[Outcome, str]:
    """The second step: a TOTP code, or a recovery code in its place. Returns the outcome and method."""
    if not count_attempt(member, now):
        return Outcome.LOCKED, ""
    code = "".join((raw_code or "").split())
    if is_totp_code(code):
        method = "totp"
        step = matching_step(member.totp_secret, code, now)
        if step is not None and _claim_step(member, step):
            return Outcome.ACCEPTED, method
        outcome = Outcome.REPLAYED if step is not None else Outcome.WRONG
    else:
        method = "recovery_code"
        if use_recovery_code(member, code, now):
            return Outcome.ACCEPTED, method
        outcome = Outcome.WRONG
    return (Outcome.LOCKED if record_wrong_code(member, now, method) is Outcome.LOCKED else outcome), method


# --- Enrolment and recovery codes -----------------------------------------------------------------


def enrolment_secret(member: StaffMember) -> str:
    """The secret being enrolled: kept while unconfirmed, so a phone that scanned it still works."""
    if member.totp_enrolled_at is None and not member.totp_secret:
        member.totp_secret = pyotp.random_base32()  # 160 bits
        db.session.flush()
    return member.totp_secret


def provisioning_uri(member: StaffMember) -> str:
    return _totp(member.totp_secret).provisioning_uri(name=member.email, issuer_name=ISSUER)


def qr_data_uri(member: StaffMember) -> str:
    """The enrolment QR code as an SVG data: URI (the CSP allows data: images, not inline markup)."""
    return segno.make(provisioning_uri(member), error="m").svg_data_uri(scale=5, border=4, light="#fff")


def grouped(secret: str) -> str:
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def confirm_enrolment(member: StaffMember, raw_code: str, now: datetime) -> list[str] | None:
    """Enrol the authenticator if ``raw_code`` is its current code; return fresh recovery codes."""
    code = "".join((raw_code or "").split())
    step = matching_step(member.totp_secret, code, now) if is_totp_code(code) else None
    if step is None or not _claim_step(member, step):
        return None
    member.totp_enrolled_at = now
    codes = new_recovery_codes(member, now)
    record(member, "staff.totp_enrolled", member)
    return codes


def _recovery_hash(member: StaffMember, code: str) -> str:
    return keyed_hash(f"staff-recovery:{member.id}:{code}")


def normalize_recovery_code(raw: str) -> str:
    return "".join(ch for ch in (raw or "").upper() if ch.isalnum())[:RECOVERY_CODE_LENGTH * 2]


def format_recovery_code(code: str) -> str:
    return f"{code[:5]}-{code[5:]}"


def new_recovery_codes(member: StaffMember, now: datetime) -> list[str]:
    """Replace the member's recovery codes with new ones, shown once and stored only as keyed hashes."""
    db.session.execute(delete(StaffRecoveryCode).where(StaffRecoveryCode.staff_id == member.id))
    codes = ["".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))
             for _ in range(RECOVERY_CODE_COUNT)]
    db.session.add_all(StaffRecoveryCode(staff_id=member.id, code_hash=_recovery_hash(member, code), created_at=now)
                       for code in codes)
    db.session.flush()
    return [format_recovery_code(code) for code in codes]


def use_recovery_code(member: StaffMember, raw_code: str, now: datetime) -> bool:
    code = normalize_recovery_code(raw_code)
    if len(code) != RECOVERY_CODE_LENGTH:
        return False
    row = db.session.scalars(select(StaffRecoveryCode).where(
        StaffRecoveryCode.staff_id == member.id, StaffRecoveryCode.code_hash == _recovery_hash(member, code),
        StaffRecoveryCode.used_at.is_(None))).first()
    if row is None:
        return False
    used = db.session.execute(
        update(StaffRecoveryCode).where(StaffRecoveryCode.id == row.id, StaffRecoveryCode.used_at.is_(None))
        .values(used_at=now).execution_options(synchronize_session=False)
    ).rowcount == 1
    if used:
        record(member, "staff.recovery_code_used", member,
               codes_left=recovery_codes_left(member))
    return used


def recovery_codes_left(member: StaffMember) -> int:
    return len(list(db.session.scalars(select(StaffRecoveryCode.id).where(
        StaffRecoveryCode.staff_id == member.id, StaffRecoveryCode.used_at.is_(None)))))


# --- Success ---------------------------------------------------------------------------------------


def complete_sign_in(member: StaffMember, now: datetime, method: str) -> str:
    """Both steps passed: clear the failures, start a session, and return its cookie key."""
    member.failed_sign_in_count = 0
    member.locked_until = None
    member.last_sign_in_at = now
    key = start_staff_session(member, now)
    record(member, "staff.signed_in", member, method=method)
    return key
