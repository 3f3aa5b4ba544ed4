"""Staff accounts, password links and staff sessions. Services flush; the caller commits.

An administrator creates members and sends them links; nobody but the member ever chooses or sees
their password. Members are deactivated, never deleted, and every change is audited.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import func, select, update

from portal.audit.services import record
from portal.auth.services import sha256, timeout_reason
from portal.db import db
from portal.enums import Role
from portal.hashing import hash_password
from portal.i18n import DEFAULT_LOCALE
from portal.outbox.services import queue_email
from portal.staff.models import StaffMember, StaffPasswordLink, StaffRecoveryCode, StaffSession
from portal.tickets.services import release_tickets_outside_role

LINK_HOURS = {"invite": 72, "reset": 24}
MAX_TOKEN_LENGTH = 100


class LastAdministrator(ValueError):
    """The change would leave no active administrator to manage staff accounts."""


def actor_of(member: StaffMember | None) -> str:
    return f"staff:{member.id}" if member is not None else "cli"


def target_of(member: StaffMember) -> str:
    return f"staff:{member.id}"


def find_member(email: str) -> StaffMember | None:
    """The member with this (already normalised) address, active or not."""
    return db.session.scalars(select(StaffMember).where(StaffMember.email == email)).first()


def list_members() -> list[StaffMember]:
    return list(db.session.scalars(select(StaffMember).order_by(StaffMember.is_active.desc(),
                                                               StaffMember.full_name, StaffMember.id)))


def create_member(email: str, full_name: str, role: Role, actor: StaffMember | None, now: datetime,
                  password: str | None = None) -> StaffMember:
    """Add a member; without a password they set one through an invitation link."""
    member = StaffMember(email=email, full_name=full_name.strip(), role=role.value, is_active=True,
                         password_hash=hash_password(password) if password else None,
                         failed_sign_in_count=0, created_at=now)
    db.session.add(member)
    db.session.flush()
    record(actor_of(actor), "staff.created", target_of(member), email=email, role=role.value,
           via="cli" if actor is None else "admin")
    return member


def invite_member(email: str, full_name: str, role: Role, actor: StaffMember, now: datetime) -> StaffMember:
    member = create_member(email, full_name, role, actor, now)
    issue_password_link(member, "invite", actor, now)
    return member


def _active_admin_count() -> int:
    return db.session.scalar(select(func.count()).select_from(StaffMember).where(
        StaffMember.role == Role.ADMIN.value, StaffMember.is_active.is_(True)))


def _check_admin_remains(member: StaffMember) -> None:
    if member.role == Role.ADMIN.value and member.is_active and _active_admin_count() <= 1:
        raise LastAdministrator(member.email)


def change_role(member: StaffMember, role: Role, actor: StaffMember, now: datetime) -> bool:
    """Give ``member`` another role; it applies from their next request. False if unchanged."""
    if member.role == role.value:
        return False
    if role is not Role.ADMIN:
        _check_admin_remains(member)
    old = member.role
    member.role = role.value
    db.session.flush()
    record(actor_of(actor), "staff.role_changed", target_of(member), old=old, new=role.value)
    release_tickets_outside_role(member, actor, now)
    return True


def deactivate(member: StaffMember, actor: StaffMember, now: datetime) -> None:
    """Stop ``member`` from signing in: end their sessions and void their open links at once."""
    if not member.is_active:
        return
    _check_admin_remains(member)
    member.is_active = False
    member.deactivated_at = now
    _void_links(member, now)
    for row in live_sessions(member):
        end_staff_session(row, now, "deactivated")
    db.session.flush()
    record(actor_of(actor), "staff.deactivated", target_of(member))


def reactivate(member: StaffMember, actor: StaffMember, now: datetime) -> None:
    if member.is_active:
        return
    member.is_active = True
    member.deactivated_at = None
    db.session.flush()
    record(actor_of(actor), "staff.reactivated", target_of(member))


def reset_authenticator(member: StaffMember, actor: StaffMember, now: datetime) -> None:
    """Forget ``member``'s authenticator and recovery codes (a lost phone): they enrol a new one
    after their password at the next sign-in. Their sessions end now, so nobody holding the old
    phone stays signed in."""
    member.totp_secret = None
    member.totp_enrolled_at = None
    member.totp_last_step = None
    db.session.execute(
        update(StaffRecoveryCode)
        .where(StaffRecoveryCode.staff_id == member.id, StaffRecoveryCode.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    for row in live_sessions(member):
        end_staff_session(row, now, "authenticator_reset")
    db.session.flush()
    record(actor_of(actor), "staff.authenticator_reset", target_of(member))


def start_password_reset(member: StaffMember, actor: StaffMember, now: datetime) -> str:
    """E-mail ``member`` a link to choose a new password (a new invitation if they never set one).

    Nothing else changes: the old password, the authenticator and open sessions stay until the member
    uses the link."""
    purpose = "reset" if member.password_hash else "invite"
    issue_password_link(member, purpose, actor, now)
    return purpose


# --- Password links --------------------------------------------------------------------------------


def _void_links(member: StaffMember, now: datetime) -> None:
    db.session.execute(
        update(StaffPasswordLink)
        .where(StaffPasswordLink.staff_id == member.id, StaffPasswordLink.used_at.is_(None),
               StaffPasswordLink.voided_at.is_(None))
        .values(voided_at=now)
        .execution_options(synchronize_session=False)
    )


def issue_password_link(member: StaffMember, purpose: str, actor: StaffMember | None, now: datetime) -> str:
    """Void ``member``'s older links, create a new one and queue its e-mail; return the token."""
    _void_links(member, now)
    token = secrets.token_urlsafe(32)  # 256 bits; only the hash is stored
    hours = LINK_HOURS[purpose]
    link = StaffPasswordLink(staff_id=member.id, token_hash=sha256(token), purpose=purpose,
                             created_by_id=actor.id if actor else None, created_at=now,
                             expires_at=now + timedelta(hours=hours))
    db.session.add(link)
    # In the member's saved language; a new member has none yet: Vietnamese, the portal's default.
    queue_email(member.email, f"staff_{purpose}", member.preferred_locale or DEFAULT_LOCALE, f"staff_{purpose}",
                member=member, token=token, hours=hours, useless_after=link.expires_at)
    db.session.flush()
    action = "staff.invitation_sent" if purpose == "invite" else "staff.password_reset_started"
    record(actor_of(actor), action, target_of(member), link_id=link.id)
    return token


def find_password_link(token: str | None) -> StaffPasswordLink | None:
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    return db.session.scalars(
        select(StaffPasswordLink).where(StaffPasswordLink.token_hash == sha256(token))).first()


def link_is_usable(link: StaffPasswordLink | None, now: datetime) -> bool:
    return (link is not None and link.used_at is None and link.voided_at is None and now < link.expires_at
            and link.staff.is_active)


def set_password_with_link(link: StaffPasswordLink, password: str, now: datetime) -> bool:
    """Use the link once to set the member's password; False if it was used, voided or expired meanwhile.

    The member's other sessions end: whoever had the old password is signed out too."""
    result = db.session.execute(
        update(StaffPasswordLink)
        .where(StaffPasswordLink.id == link.id, StaffPasswordLink.used_at.is_(None),
               StaffPasswordLink.voided_at.is_(None), StaffPasswordLink.expires_at > now)
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    db.session.refresh(link)
    member = link.staff
    member.password_hash = hash_password(password)
    for row in live_sessions(member):
        end_staff_session(row, now, "password_set")
    db.session.flush()
    record(target_of(member), "staff.password_set", target_of(member), link_id=link.id, purpose=link.purpose)
    return True


# --- Sessions --------------------------------------------------------------------------------------


def start_staff_session(member: StaffMember, now: datetime) -> str:
    """Create the server-side session for a member who has just signed in; return the cookie key."""
    key = secrets.token_urlsafe(32)
    db.session.add(StaffSession(key_hash=sha256(key), staff_id=member.id, created_at=now, last_seen_at=now))
    db.session.flush()
    return key


def live_sessions(member: StaffMember) -> list[StaffSession]:
    return list(db.session.scalars(select(StaffSession).where(StaffSession.staff_id == member.id,
                                                              StaffSession.ended_at.is_(None))))


def active_staff_session(key: str, now: datetime) -> StaffSession | None:
    """The live session for a cookie key, ending it first if the member was deactivated or it timed out."""
    if not key or len(key) > MAX_TOKEN_LENGTH:
        return None
    row = db.session.scalars(select(StaffSession).where(StaffSession.key_hash == sha256(key))).first()
    if row is None or row.ended_at is not None:
        return None
    reason = "deactivated" if not row.staff.is_active else timeout_reason(row, now)
    if reason:
        end_staff_session(row, now, reason)
        return None
    return row


def end_staff_session(row: StaffSession, now: datetime, reason: str) -> None:
    row.ended_at = now
    row.end_reason = reason
    record(f"staff:{row.staff_id}", "staff.session_ended", f"staff:{row.staff_id}", reason=reason,
           session_id=row.id)
