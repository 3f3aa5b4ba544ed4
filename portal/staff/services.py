"""Staff accounts, password links and staff sessions. Services flush; the caller commits.

An administrator creates members and sends them links; nobody but the member ever chooses or sees
their password. Members are deactivated, never deleted, and every change is audited.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from functools import lru_cache
from typing import NamedTuple

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from portal import email_links
from portal.access import timeout_reason
from portal.audit.services import record
from portal.board_version import board_counter, note_board_version
from portal.db import db, read_plain
from portal.email_links import EmailLink
from portal.enums import Role
from portal.hashing import hash_password, keyed_hash, sha256
from portal.i18n import DEFAULT_LOCALE
from portal.outbox.services import queue_email
from portal.staff.models import StaffMember, StaffRecoveryCode, StaffSession
from portal.staff.signals import role_changed

LINK_HOURS = {"invite": 72, "reset": 24}
LINK_PURPOSES = ("staff_invite", "staff_reset")


class LastAdministrator(ValueError):
    """The change would leave no active administrator to manage staff accounts."""


def actor_of(member: StaffMember | None):
    """Who made a change to staff accounts: a member, or the command line."""
    return member if member is not None else "cli"


def find_member(email: str) -> StaffMember | None:
    """The member with this (already normalised) address, active or not."""
    return db.session.scalars(select(StaffMember).where(StaffMember.email == email)).first()


def list_members() -> list[StaffMember]:
    return list(db.session.scalars(select(StaffMember).order_by(StaffMember.is_active.desc(),
                                                               StaffMember.full_name, StaffMember.id)))


def create_member(email: str, full_name: str, role: Role, actor: StaffMember | None, now: datetime,
                  password: str | None = None) -> StaffMember:
    """Add a member; without a password they set one through an invitation link."""
    member = StaffMember(email=email, full_name=full_name.strip(), role=role, is_active=True,
                         password_hash=hash_password(password) if password else None,
                         failed_sign_in_count=0, created_at=now)
    db.session.add(member)
    db.session.flush()
    record(actor_of(actor), "staff.created", member, email=email, role=role,
           via="cli" if actor is None else "admin")
    return member


def invite_member(email: str, full_name: str, role: Role, actor: StaffMember, now: datetime) -> StaffMember:
    member = create_member(email, full_name, role, actor, now)
    issue_password_link(member, "invite", actor, now)
    return member


def _active_admin_count() -> int:
    return db.session.scalar(select(func.count()).select_from(StaffMember).where(
        StaffMember.role == Role.ADMIN, StaffMember.is_active.is_(True)))


def _check_admin_remains(member: StaffMember) -> None:
    if member.role is Role.ADMIN and member.is_active and _active_admin_count() <= 1:
        raise LastAdministrator(member.email)


def change_role(member: StaffMember, role: Role, actor: StaffMember, now: datetime) -> bool:
    """Give ``member`` another role; it applies from their next request. False if unchanged.

    Whatever depends on the role (the tickets assigned to the member) hears of it through
    :data:`portal.staff.signals.role_changed`, in the same transaction."""
    if member.role is role:
        return False
    if role is not Role.ADMIN:
        _check_admin_remains(member)
    old = member.role
    member.role = role
    db.session.flush()
    record(actor_of(actor), "staff.role_changed", member, old=old, new=role)
    role_changed.send(member, actor=actor, old=old, now=now)
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
    record(actor_of(actor), "staff.deactivated", member)


def reactivate(member: StaffMember, actor: StaffMember, now: datetime) -> None:
    if member.is_active:
        return
    member.is_active = True
    member.deactivated_at = None
    db.session.flush()
    record(actor_of(actor), "staff.reactivated", member)


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
    record(actor_of(actor), "staff.authenticator_reset", member)


def start_password_reset(member: StaffMember, actor: StaffMember, now: datetime) -> str:
    """E-mail ``member`` a link to choose a new password (a new invitation if they never set one).

    Nothing else changes: the old password, the authenticator and open sessions stay until the member
    uses the link."""
    purpose = "reset" if member.password_hash else "invite"
    issue_password_link(member, purpose, actor, now)
    return purpose


# --- Password links --------------------------------------------------------------------------------


def _void_links(member: StaffMember, now: datetime) -> None:
    email_links.void(EmailLink.staff_id == member.id, EmailLink.purpose.in_(LINK_PURPOSES), now=now)


def issue_password_link(member: StaffMember, purpose: str, actor: StaffMember | None, now: datetime) -> str:
    """Void ``member``'s older links, create a new one and queue its e-mail; return the token.

    ``purpose`` is "invite" (a new member's first password) or "reset"."""
    _void_links(member, now)
    hours = LINK_HOURS[purpose]
    link, token = email_links.issue(f"staff_{purpose}", email=member.email, address_key=keyed_hash(member.email),
                                    lifetime=timedelta(hours=hours), now=now, staff_id=member.id,
                                    created_by_id=actor.id if actor else None)
    # In the member's saved language; a new member has none yet: Vietnamese, the portal's default.
    queue_email(member.email, f"staff_{purpose}", member.preferred_locale or DEFAULT_LOCALE, f"staff_{purpose}",
                member=member, token=token, hours=hours, useless_after=link.expires_at)
    action = "staff.invitation_sent" if purpose == "invite" else "staff.password_reset_started"
    record(actor_of(actor), action, member, link_id=link.id)
    return token


def find_password_link(token: str | None) -> EmailLink | None:
    return email_links.find(token, *LINK_PURPOSES)


def link_member(link: EmailLink) -> StaffMember:
    return db.session.get(StaffMember, link.staff_id)


def link_purpose(link: EmailLink) -> str:
    """ "invite" or "reset". """
    return link.purpose.removeprefix("staff_")


def link_is_usable(link: EmailLink | None, now: datetime) -> bool:
    return link is not None and link.is_usable(now) and link_member(link).is_active


def set_password_with_link(link: EmailLink, password: str, now: datetime) -> bool:
    """Use the link once to set the member's password; False if it was used, voided or expired meanwhile.

    The member's other sessions end: whoever had the old password is signed out too."""
    if not email_links.use(link, now):
        return False
    member = link_member(link)
    member.password_hash = hash_password(password)
    for row in live_sessions(member):
        end_staff_session(row, now, "password_set")
    db.session.flush()
    record(member, "staff.password_set", member, link_id=link.id, purpose=link_purpose(link))
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


@lru_cache(maxsize=1)
def _session_statement():
    """A session, every column of its member and the board's counter, as plain values in one
    statement built once (the counter is what the queue and dashboard are kept under: read here, it
    costs those pages no statement of its own)."""
    return (select(StaffSession.id.label("session_id"), StaffSession.created_at.label("session_created_at"),
                   StaffSession.last_seen_at, StaffSession.ended_at, *StaffMember.__table__.columns,
                   board_counter().label("board_version"))
            .join(StaffMember, StaffMember.id == StaffSession.staff_id)
            .where(StaffSession.key_hash == bindparam("key_hash")))


class LiveStaffSession(NamedTuple):
    """A live session's clocks (what the timeout rule reads) and its member."""

    id: int
    created_at: datetime
    last_seen_at: datetime
    staff: StaffMember


def active_staff_session(key: str, now: datetime) -> LiveStaffSession | None:
    """The live session for a cookie key, ending it first if the member was deactivated or it timed out.

    Every staff page starts here, so the row is read as plain values on the session's connection and
    the member is put into the ORM session from them, without the ORM loading two objects: that
    costs a third as much, and the member is the same persistent object the services expect."""
    row = read_plain(_session_statement(), {"key_hash": sha256(key)}).first()
    if row is None or row.ended_at is not None:
        return None
    live = LiveStaffSession(row.session_id, row.session_created_at, row.last_seen_at, _member_from(row))
    note_board_version(row.board_version)
    reason = "deactivated" if not row.is_active else timeout_reason(live, now)
    if reason:
        end_staff_session(db.session.get(StaffSession, live.id), now, reason)
        return None
    return live


def _member_from(row) -> StaffMember:
    """The member of a session row, as the session's persistent object: the one already in the
    session (a long-lived session's, as the CLI's) brought up to the row just read, or a new one."""
    values = {column.key: row._mapping[column] for column in StaffMember.__table__.columns}
    present = db.session.identity_map.get(identity_key(StaffMember, row.id))
    if present is not None:
        if present not in db.session.dirty:  # never over a change of this transaction
            for key, value in values.items():
                set_committed_value(present, key, value)
        return present
    member = StaffMember(**values)
    make_transient_to_detached(member)
    db.session.add(member)
    return member


def remember_language(member: StaffMember, locale: str) -> None:
    """Keep the member's language choice (their pages and e-mails use it)."""
    if member.preferred_locale != locale:
        record(member, "locale_changed", member, old=member.preferred_locale, new=locale)
        member.preferred_locale = locale


def end_staff_session(row: StaffSession, now: datetime, reason: str) -> None:
    row.ended_at = now
    row.end_reason = reason
    record(f"staff:{row.staff_id}", "staff.session_ended", f"staff:{row.staff_id}", reason=reason,
           session_id=row.id)
