"""The rules for entering and changing a customer's record by staff. Services flush; the caller
commits. Problems come back as :class:`IntakeProblem` with what is wrong with each field, for people,
and nothing is changed."""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select, update

from portal.account.models import KINDS_BY_CHANNEL, ContactPoint, Customer, changes_come_from, note_change
from portal.audit.services import record
from portal.consent.services import ConsentProblem, record_consent
from portal.contact_values import (
    InvalidAddress,
    InvalidPhone,
    format_phone,
    lookup_forms,
    normalize_email,
    normalize_phone,
)
from portal.db import db
from portal.enums import ActorKind, Channel, ConsentMethod, ContactKind, DataSource, Purpose
from portal.rights.services import objects_to, processing_restricted

MAX_NAME = 200
MAX_NOTES = 4000
MAX_CONTACT = 400
MAX_RESULTS = 50
MIN_SEARCH = 2
MAX_SEARCH = 200
# The kinds of contact point, as "channel:kind" (what a form's select sends).
CONTACT_KINDS = tuple(f"{channel.value}:{kind.value}" for channel, kinds in KINDS_BY_CHANNEL.items()
                      for kind in kinds)


class IntakeProblem(ValueError):
    """Input that cannot be saved. ``problems`` maps a field ("full_name", ("contacts", 2)) to what
    is wrong with it, for people."""

    def __init__(self, problems: dict):
        super().__init__(problems)
        self.problems = problems


class StaleRecord(ValueError):
    """The record changed since the form was drawn: saving it would undo someone's change."""


class RecordRestricted(ValueError):
    """The record's processing is restricted, or it was erased: staff may keep it, not change it.
    ``args[0]`` says so, for people."""


RESTRICTED = _l("Processing of this customer's data is restricted at their request: the record may only be kept, "
                "not edited or used. Nothing was saved.")
ERASED = _l("This customer's data was erased at their request: what is left is kept only because the law or a "
            "warranty requires it, and may not be edited. Nothing was saved.")
OBJECTED = _l("The customer objected to this use of their data: a consent to it cannot be recorded by staff. "
              "Nothing was saved.")


def refuse_if_restricted(customer: Customer) -> None:
    """Raise RecordRestricted when staff may not change ``customer``'s record (the customer's own
    corrections on My data are not asked: correcting their data stays their right)."""
    if processing_restricted(customer):
        raise RecordRestricted(ERASED if customer.erased_at is not None else RESTRICTED)


@dataclass(frozen=True)
class ContactInput:
    """One contact point as a form or a file gives it: ``contact_id`` names an existing one."""

    contact_id: str | None
    kind: str  # "phone:mobile"
    value: str


@dataclass(frozen=True)
class CleanContact:
    contact_id: int | None
    channel: Channel
    kind: ContactKind
    value: str
    normalized: str
    row: int = 0  # the form's row it was read from (where a problem with it is shown)

    @property
    def field(self) -> str:
        return f"{self.channel.value}:{self.kind.value}"


CONTROLS = re.compile(r"[\x00-\x1f\x7f]")
CONTROLS_BUT_LINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def has_controls(text: str, allow_lines: bool = False) -> bool:
    """Whether ``text`` holds control characters (line breaks and tabs allowed in ``allow_lines``)."""
    return bool((CONTROLS_BUT_LINES if allow_lines else CONTROLS).search(text))


def clean_name(raw: str | None) -> str:
    name = " ".join((raw or "").split())
    if not name:
        raise ValueError(_l("Please enter the customer's full name."))
    if len(name) > MAX_NAME or has_controls(raw or ""):
        raise ValueError(_l("A full name is at most %(max)d characters of text.", max=MAX_NAME))
    return name


def clean_notes(raw: str | None) -> str:
    notes = (raw or "").strip()
    if len(notes) > MAX_NOTES or has_controls(notes, allow_lines=True):
        raise ValueError(_l("Notes are at most %(max)d characters of text.", max=MAX_NOTES))
    return notes


def clean_contact(kind: str, raw: str) -> tuple[Channel, ContactKind, str, str]:
    """The channel, kind, value as stored and comparable form of one contact point, or ValueError
    saying what is wrong. Phones go through the portal's one reader of phone numbers."""
    if kind not in CONTACT_KINDS:
        raise ValueError(_l("Choose what kind of contact detail this is."))
    channel_name, _, kind_name = kind.partition(":")
    channel, contact_kind = Channel(channel_name), ContactKind(kind_name)
    value = " ".join((raw or "").split())
    if len(value) > MAX_CONTACT or has_controls(raw or ""):
        raise ValueError(_l("A contact detail is at most %(max)d characters of text.", max=MAX_CONTACT))
    if channel is Channel.PHONE:
        try:
            normalized = normalize_phone(value)
        except InvalidPhone:
            raise ValueError(_l("This is not a phone number we can call. Write it as 0903 123 456 "
                                "or +84 903 123 456.")) from None
        return channel, contact_kind, format_phone(normalized), normalized
    if channel is Channel.EMAIL:
        try:
            normalized = normalize_email(value)
        except InvalidAddress:
            raise ValueError(_l("This is not an e-mail address (name@example.vn).")) from None
        return channel, contact_kind, value, normalized
    if len(value) < 5:
        raise ValueError(_l("Please write the whole address: street, ward, district, city."))
    return channel, contact_kind, value, ""


def clean_contacts(rows: list[ContactInput]) -> list[CleanContact]:
    """Every row with a value, read and checked; rows left empty without an id are ignored, and an
    existing one left empty is to be removed (value ""). IntakeProblem names each bad row."""
    clean, problems = [], {}
    for index, row in enumerate(rows):
        contact_id = _contact_id(row.contact_id)
        if contact_id is False:
            problems[("contacts", index)] = _l("That contact detail is not part of this record.")
            continue
        if not (row.value or "").strip():
            if contact_id is not None:
                clean.append(CleanContact(contact_id, Channel.ADDRESS, ContactKind.HOME, "", "", index))
            continue
        try:
            channel, kind, value, normalized = clean_contact(row.kind, row.value)
        except ValueError as problem:
            problems[("contacts", index)] = problem.args[0]
            continue
        clean.append(CleanContact(contact_id, channel, kind, value, normalized, index))
    if problems:
        raise IntakeProblem(problems)
    return clean


def _contact_id(raw: str | None) -> int | None | bool:
    """An existing contact point's id from a form, None for a new one, False for nonsense."""
    if raw in (None, ""):
        return None
    text = str(raw).strip()
    return int(text) if text.isdigit() and len(text) < 12 else False


# --- entering a record ------------------------------------------------------------------------------


def _history(customer_id: int, field: str, old: str | None, new: str | None, actor_name: str, now: datetime,
             source: DataSource, actor_kind: ActorKind = ActorKind.STAFF) -> None:
    note_change(customer_id, field, old, new, now=now, actor_kind=actor_kind, actor_name=actor_name, via=source)


def create_customer(*, full_name: str, notes: str, source: DataSource, contacts: list[CleanContact], actor,
                    actor_name: str, now: datetime, external_id: str | None = None,
                    actor_kind: ActorKind = ActorKind.STAFF) -> Customer:
    """A new record with its contact points, each in the history (from ``source``) and the audit log."""
    source = DataSource(source)
    changes_come_from(db.session, source)
    customer = Customer(full_name=full_name, notes=notes, source=source, created_at=now, external_id=external_id)
    db.session.add(customer)
    db.session.flush()
    _history(customer.id, "record", None, full_name, actor_name, now, source, actor_kind)
    if notes:
        _history(customer.id, "notes", None, notes, actor_name, now, source, actor_kind)
    for contact in contacts:
        db.session.add(ContactPoint(customer_id=customer.id, channel=contact.channel, kind=contact.kind,
                                    value=contact.value, value_normalized=contact.normalized, source=source,
                                    created_at=now))
        _history(customer.id, contact.field, None, contact.value, actor_name, now, source, actor_kind)
    db.session.flush()
    record(actor, "customer.created", customer, source=source.value, contacts=len(contacts),
           external_id=external_id)
    return customer


# --- changing a record --------------------------------------------------------------------------------


def claim_version(customer: Customer, version: str | int | None) -> None:
    """Take the record's version the form was drawn from, or raise StaleRecord: one UPDATE that only
    succeeds on that version, so of two forms drawn from it only the first is saved."""
    text = str(version or "").strip()
    if not text.isdigit() or len(text) > 12:
        raise StaleRecord()
    claimed = db.session.execute(update(Customer).where(Customer.id == customer.id,
                                                        Customer.data_version == int(text))
                                 .values(data_version=Customer.data_version + 1)
                                 .execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        raise StaleRecord()


def update_customer(customer: Customer, *, version, full_name: str, notes: str, contacts: list[CleanContact],
                    source: DataSource, member, now: datetime) -> list[str]:
    """Apply a staff member's corrections to ``customer``; return the fields changed (history lines
    with old → new, one audit record). Contact ids must be this record's own; a restricted or
    erased record raises RecordRestricted."""
    refuse_if_restricted(customer)
    existing = {point.id: point for point in customer.contact_points}
    strangers = {("contacts", contact.row): _l("That contact detail is not part of this record.")
                 for contact in contacts if contact.contact_id is not None and contact.contact_id not in existing}
    if strangers:
        raise IntakeProblem(strangers)
    claim_version(customer, version)
    source = DataSource(source)
    changes_come_from(db.session, source)
    name = member.full_name
    changed = []
    for field, new in (("full_name", full_name), ("notes", notes)):
        old = getattr(customer, field)
        if old != new:
            _history(customer.id, field, old or None, new or None, name, now, source)
            setattr(customer, field, new)
            changed.append(field)
    for contact in contacts:
        changed.extend(_apply_contact(customer, existing, contact, source, name, now))
    db.session.flush()
    if changed:
        record(member, "customer.changed", customer, fields=changed, source=source.value)
    return changed


def _apply_contact(customer, existing, contact: CleanContact, source, actor_name: str, now) -> list[str]:
    point = existing.get(contact.contact_id) if contact.contact_id is not None else None
    if point is None:
        db.session.add(ContactPoint(customer_id=customer.id, channel=contact.channel, kind=contact.kind,
                                    value=contact.value, value_normalized=contact.normalized, source=source,
                                    created_at=now))
        _history(customer.id, contact.field, None, contact.value, actor_name, now, source)
        return [contact.field]
    old_field = f"{point.channel.value}:{point.kind.value}"
    if not contact.value:
        _history(customer.id, old_field, point.value, None, actor_name, now, source)
        db.session.delete(point)
        return [old_field]
    if (point.channel, point.kind, point.value) == (contact.channel, contact.kind, contact.value):
        return []
    if point.channel is not contact.channel or point.kind is not contact.kind:
        _history(customer.id, old_field, point.value, None, actor_name, now, source)
        _history(customer.id, contact.field, None, contact.value, actor_name, now, source)
    else:
        _history(customer.id, contact.field, point.value, contact.value, actor_name, now, source)
    point.channel, point.kind = contact.channel, contact.kind
    point.value, point.value_normalized = contact.value, contact.normalized
    return [contact.field]


# --- consent -------------------------------------------------------------------------------------------

STAFF_CONSENT_METHODS = tuple(method for method in ConsentMethod if method is not ConsentMethod.PORTAL)


def record_staff_consent(customer: Customer, *, purpose: str, granted: bool, method: str, evidence: str,
                         member, now: datetime, source: DataSource = DataSource.STAFF):
    """Record consent a customer gave or withdrew off the portal, with the company's evidence. A
    grant is refused on a restricted or erased record and for a purpose the customer objected to;
    a withdrawal is always recorded."""
    if granted:
        _refuse_grant(customer, purpose)
    problems = {}
    if method not in {item.value for item in STAFF_CONSENT_METHODS}:
        problems["method"] = _l("Choose how the customer told us.")
    evidence = (evidence or "").strip()
    if not evidence:
        problems["evidence"] = _l("Give the reference of our proof: the form number, the call recording, "
                                  "our copy of the SMS or e-mail.")
    elif len(evidence) > MAX_CONTACT or has_controls(evidence):
        problems["evidence"] = _l("A reference is at most %(max)d characters of text.", max=MAX_CONTACT)
    if problems:
        raise IntakeProblem(problems)
    changes_come_from(db.session, source)
    try:
        return record_consent(customer, Purpose(purpose), granted, method=ConsentMethod(method), actor=member,
                              actor_kind=ActorKind.STAFF, actor_name=member.full_name, now=now, evidence=evidence)
    except (ConsentProblem, ValueError):
        raise IntakeProblem({"purpose": _l("Choose a purpose that rests on consent.")}) from None


def _refuse_grant(customer: Customer, purpose: str) -> None:
    try:
        refuse_if_restricted(customer)
    except RecordRestricted as problem:
        raise IntakeProblem({"decision": problem.args[0]}) from None
    if purpose in {item.value for item in Purpose} and objects_to(customer, purpose):
        raise IntakeProblem({"purpose": OBJECTED})


# --- finding a record ----------------------------------------------------------------------------------


def find_customers(text: str) -> list:
    """Customers whose name contains ``text`` or who have it as a phone number or e-mail address
    (in any way people write it), by name; at most MAX_RESULTS. One statement."""
    text = " ".join((text or "").split())
    forms = lookup_forms(text)
    with contextlib.suppress(InvalidAddress):
        forms.add(normalize_email(text))
    by_contact = select(ContactPoint.customer_id).where(ContactPoint.channel.in_((Channel.PHONE, Channel.EMAIL)),
                                                        ContactPoint.value_normalized.in_(sorted(forms)))
    statement = (select(Customer.id, Customer.full_name, Customer.source, Customer.created_at,
                        Customer.external_id)
                 .where(or_(func.lower(Customer.full_name).contains(text.lower(), autoescape=True),
                            Customer.id.in_(by_contact)))
                 .order_by(Customer.full_name, Customer.id).limit(MAX_RESULTS + 1))
    return list(db.session.execute(statement))
