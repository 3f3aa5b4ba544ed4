"""Customers correct their own data (privacy policy §6; Law 91/2025 Art. 13; Decree 356/2025 Art. 5).

Addresses, phone numbers, the kinds of contact points and the notes change at once. A new e-mail
address changes only once the link sent to it is followed (the old address is told). A new full name
is a request staff approve or reject. Every change is a line of the record's history (old → new,
who, when, where), an audit record, and news for customer care through :mod:`.signals` — care
follow it up so that visits and deliveries use the new data.

Two tabs saving the same thing: each form carries the version of what it was drawn from (a contact
point's version number; for the notes and the name, a fingerprint of the stored text) and the
second save is refused with nothing changed.

Services flush; the view commits once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from portal.account.models import ContactPoint, Customer, DataChange, bump_data_versions, note_change
from portal.account.signals import data_corrected, name_change_proposed
from portal.audit.services import record
from portal.auth.services import move_sessions_to_new_address
from portal.contact_values import format_phone, normalize_email
from portal.db import db
from portal.email_links import EmailLink, issue, use
from portal.enums import ActorKind, Channel, ContactKind, DataSource
from portal.hashing import keyed_hash, sha256
from portal.outbox.services import queue_email

EMAIL_CHANGE = "email_change"  # the purpose of the e-mailed link that confirms a new address
EMAIL_CHANGE_HOURS = 24

STALE = _l("This was changed in another tab or window after you opened this form. Nothing was saved: "
           "here is what is stored now.")
DUPLICATE = _l("This is already among your contact details.")
SIGNED_IN_WITH = _l("You are signed in with this address, so it cannot be removed. Give us another address "
                    "first and sign in with it, or ask us in a request.")
SAME_NAME = _l("This is the name we already hold.")
LINK_UNUSABLE = _l("This link has expired or was already used. Ask for the change again on My data.")
LINK_STALE = _l("This address was changed or removed after the link was sent, so the link no longer applies. "
                "Ask for the change again on My data.")


class CorrectionRefused(Exception):
    """A correction that cannot be made; ``message`` is shown to the customer, nothing has changed."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


@dataclass
class Corrector:
    """The signed-in customer making a change: their record, verified address and language."""

    customer: Customer
    email: str
    locale: str


def fingerprint(text: str | None) -> str:
    """The version a form carries of a record field kept as text (the notes, the name)."""
    return sha256(text or "")[:16]


def name_version(customer) -> str:
    return fingerprint(f"{customer.full_name}\n{customer.proposed_full_name or ''}")


def shown_value(channel: Channel, value: str) -> str:
    """A contact point's value as people read it: a phone number in the local format."""
    return format_phone(value) if channel is Channel.PHONE else value


def own_contact_point(customer_id: int, point_id: int) -> ContactPoint | None:
    """The customer's contact point ``point_id``; None for anyone else's or none at all."""
    return db.session.scalars(select(ContactPoint).where(ContactPoint.id == point_id,
                                                         ContactPoint.customer_id == customer_id)).first()


def _history(customer: Customer, field: str, old: str | None, new: str | None, now: datetime,
             actor_kind: ActorKind = ActorKind.CUSTOMER, actor_name: str = "",
             via: DataSource = DataSource.PORTAL) -> DataChange:
    return note_change(customer.id, field, old, new, now=now, actor_kind=actor_kind, actor_name=actor_name,
                       via=via)


def _corrected(who: Corrector, changes: list[DataChange], now: datetime, action: str, **data) -> None:
    """Record the changes (flushed: a contact point's version is checked here) and tell care."""
    db.session.flush()
    record(who.customer, action, who.customer, fields=[change.field for change in changes], **data)
    data_corrected.send(who.customer, changes=changes, email=who.email, locale=who.locale, now=now)


def _check_version(point: ContactPoint, version: str) -> None:
    if str(point.version) != version:
        raise CorrectionRefused(STALE)


def _check_not_held(customer_id: int, channel: Channel, normalized: str, but: int | None = None) -> None:
    """Refuse a value the customer already has on another contact point of the channel."""
    statement = select(ContactPoint.id).where(
        ContactPoint.customer_id == customer_id, ContactPoint.channel == channel,
        ContactPoint.value_normalized == normalized)
    if but is not None:
        statement = statement.where(ContactPoint.id != but)
    if normalized and db.session.scalars(statement).first() is not None:
        raise CorrectionRefused(DUPLICATE)


def change_contact_point(who: Corrector, point: ContactPoint, *, kind: str, value: str, normalized: str,
                         version: str, now: datetime) -> DataChange | None:
    """Change an address or phone number (or any point's kind) at once; None if nothing changed."""
    _check_version(point, version)
    kind = ContactKind(kind)
    if point.kind is kind and (point.value == value or point.value_normalized == normalized):
        return None
    _check_not_held(point.customer_id, point.channel, normalized, but=point.id)
    old = shown_value(point.channel, point.value)
    point.kind, point.value, point.value_normalized, point.source = kind, value, normalized, DataSource.PORTAL
    change = _history(who.customer, f"{point.channel}:{kind}", old, shown_value(point.channel, value), now)
    _corrected(who, [change], now, "customer.contact_changed", point=point.id)
    return change


def add_contact_point(who: Corrector, channel: Channel, *, kind: str, value: str, normalized: str,
                      now: datetime) -> DataChange:
    """Add an address or a phone number of a kind."""
    _check_not_held(who.customer.id, channel, normalized)
    point = ContactPoint(customer_id=who.customer.id, channel=channel, kind=ContactKind(kind), value=value,
                         value_normalized=normalized, source=DataSource.PORTAL, created_at=now)
    db.session.add(point)
    change = _history(who.customer, f"{channel}:{kind}", None, shown_value(channel, value), now)
    _corrected(who, [change], now, "customer.contact_added", channel=channel)
    return change


def is_signed_in_with(point: ContactPoint, email: str) -> bool:
    """``point`` is the e-mail address the customer signed in with (it cannot be removed)."""
    return point.channel is Channel.EMAIL and point.value_normalized == normalize_email(email)


def remove_contact_point(who: Corrector, point: ContactPoint, version: str, now: datetime) -> DataChange:
    """Remove a contact point; never the address the customer is signed in with."""
    _check_version(point, version)
    if is_signed_in_with(point, who.email):
        raise CorrectionRefused(SIGNED_IN_WITH)
    change = _history(who.customer, f"{point.channel}:{point.kind}", shown_value(point.channel, point.value),
                      None, now)
    db.session.delete(point)
    _corrected(who, [change], now, "customer.contact_removed", point=point.id)
    return change


def change_notes(who: Corrector, notes: str, version: str, now: datetime) -> DataChange | None:
    """Change the record's notes at once, if they are still what the form was drawn from."""
    customer = who.customer
    old, new = customer.notes or "", (notes or "").strip()
    if fingerprint(old) != version:
        raise CorrectionRefused(STALE)
    if old == new:
        return None
    # Written only if nobody changed them since they were read (two tabs posting at the same moment).
    held = db.session.execute(update(Customer).where(Customer.id == customer.id, Customer.notes == old)
                              .values(notes=new).execution_options(synchronize_session=False))
    if held.rowcount != 1:
        raise CorrectionRefused(STALE)
    db.session.refresh(customer)
    change = _history(customer, "notes", old or None, new or None, now)
    _corrected(who, [change], now, "customer.notes_changed")
    return change


def propose_name(who: Corrector, name: str, version: str, now: datetime) -> str | None:
    """Ask for the record's full name to be changed; staff decide. The reference of the request that
    carries it (None if no part of the portal took it up)."""
    customer, name = who.customer, " ".join(name.split())
    if name_version(customer) != version:
        raise CorrectionRefused(STALE)
    if name == customer.full_name:
        raise CorrectionRefused(SAME_NAME)
    customer.proposed_full_name = name
    db.session.flush()
    record(customer, "customer.name_proposed", customer)
    answers = name_change_proposed.send(customer, name=name, email=who.email, locale=who.locale, now=now)
    return next((reference for _receiver, reference in answers if reference), None)


def decide_name(customer: Customer, *, approve: bool, staff, now: datetime) -> DataChange | None:
    """Staff's decision on the proposed name: approved, it becomes the record's name (in the history,
    made by staff); either way the proposal ends."""
    proposed, customer.proposed_full_name = customer.proposed_full_name, None
    change = None
    if approve and proposed:
        change = _history(customer, "full_name", customer.full_name, proposed, now, ActorKind.STAFF,
                          staff.full_name, DataSource.STAFF)
        customer.full_name = proposed
    db.session.flush()
    record(staff, "customer.name_approved" if approve else "customer.name_rejected", customer)
    return change


# --- a new e-mail address -------------------------------------------------------------------------


def _link_key(customer_id: int, point_id: int | None) -> str:
    """One usable link per e-mail contact point (and one for a new address): a newer voids the older."""
    return keyed_hash(f"{EMAIL_CHANGE}:{customer_id}:{point_id or 'new'}")


def ask_to_confirm_email(who: Corrector, point: ContactPoint | None, *, kind: str, address: str,
                         normalized: str, version: str, now: datetime) -> EmailLink | None:
    """A new address for ``point`` (or a new e-mail contact point): send a link to it, tell the old
    address, and change nothing until the link is followed. A change of kind alone applies at once
    (None is returned: no link)."""
    if point is not None:
        _check_version(point, version)
        if normalized == point.value_normalized:
            change_contact_point(who, point, kind=kind, value=point.value, normalized=normalized, version=version,
                                 now=now)
            return None
    _check_not_held(who.customer.id, Channel.EMAIL, normalized)
    customer = who.customer
    link, token = issue(EMAIL_CHANGE, email=normalized, address_key=_link_key(customer.id, point and point.id),
                        lifetime=timedelta(hours=EMAIL_CHANGE_HOURS), now=now, customer_id=customer.id,
                        data={"point": point and point.id, "version": point and point.version, "kind": kind})
    queue_email(normalized, "email_change_confirm", who.locale, "email_change_confirm", useless_after=link.expires_at,
                customer=customer, token=token, hours=EMAIL_CHANGE_HOURS)
    queue_email(point.value if point else who.email, "email_change_notice", who.locale, "email_change_notice",
                customer=customer, new_address=normalized)
    record(customer, "customer.email_change_asked", customer, point=point and point.id, link_id=link.id)
    bump_data_versions(db.session.connection(), [customer.id])  # My data shows it waiting
    return link


def confirm_email(link: EmailLink, now: datetime, session_id: int | None = None) -> DataChange:
    """Follow a confirmation link: the new address takes its place (once; the first of several
    simultaneous posts). An address replaced this way signs in no more: the record's sessions signed
    in with it end, but for ``session_id`` — the customer's own session in the browser that confirmed,
    if it is one — which goes on with the new address."""
    if not use(link, now):
        raise CorrectionRefused(LINK_UNUSABLE)
    customer = db.session.get(Customer, link.customer_id)
    who = Corrector(customer, link.email, customer.preferred_locale or "vi")
    data = link.data or {}
    if data.get("point"):
        point = own_contact_point(customer.id, data["point"])
        if point is None or point.version != data.get("version"):
            raise CorrectionRefused(LINK_STALE)
        old = point.value
        point.kind, point.value, point.value_normalized = ContactKind(data["kind"]), link.email, link.email
        point.source = DataSource.PORTAL
    else:
        _check_not_held(customer.id, Channel.EMAIL, link.email)
        old = None
        db.session.add(ContactPoint(customer_id=customer.id, channel=Channel.EMAIL, kind=ContactKind(data["kind"]),
                                    value=link.email, value_normalized=link.email, source=DataSource.PORTAL,
                                    created_at=now))
    change = _history(customer, f"email:{data['kind']}", old, link.email, now)
    ended = move_sessions_to_new_address(customer.id, old, link.email, now, session_id) if old else 0
    _corrected(who, [change], now, "customer.email_confirmed", link_id=link.id, sessions_ended=ended)
    return change
