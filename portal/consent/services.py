"""Recording consent and reading its current state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select

from portal.account.models import Customer, note_change
from portal.audit.services import record
from portal.consent.models import CONSENT_PURPOSES, ConsentEntry
from portal.consent.notice import version_in_effect
from portal.consent.signals import consent_withdrawn
from portal.db import db
from portal.enums import ActorKind, ConsentMethod, Purpose
from portal.local_time import local_date


class ConsentProblem(ValueError):
    """A consent entry that cannot be recorded (the message says why, for people)."""


class StaleChoice(ConsentProblem):
    """The choice was made on a page drawn before the purpose's latest entry (another tab)."""


def _state_word(granted: bool | None) -> str | None:
    return None if granted is None else ("given" if granted else "withdrawn")


def current_consents(entries) -> dict[Purpose, object | None]:
    """Each purpose that rests on consent with its latest entry (None: never asked), from the
    ledger's ``entries`` in any order."""
    latest: dict[Purpose, object] = {}
    for entry in sorted(entries, key=lambda item: (item.recorded_at, item.id)):
        latest[entry.purpose] = entry
    return {purpose: latest.get(purpose) for purpose in CONSENT_PURPOSES}


def ledger_of(customer_id: int) -> list[ConsentEntry]:
    """Every entry of a customer's ledger, newest first."""
    statement = (select(ConsentEntry).where(ConsentEntry.customer_id == customer_id)
                 .order_by(ConsentEntry.recorded_at.desc(), ConsentEntry.id.desc()))
    return list(db.session.scalars(statement))


def record_consent(customer, purpose: Purpose, granted: bool, *, method: ConsentMethod, actor,
                   actor_kind: ActorKind, actor_name: str, now: datetime, evidence: str = "",
                   notice_version: str | None = None) -> ConsentEntry:
    """Add a grant or a withdrawal to ``customer``'s ledger, with its line in the history and the
    audit log. Only purposes that rest on consent are recorded; consent given anywhere but on this
    portal needs the company's evidence of it."""
    purpose, method = Purpose(purpose), ConsentMethod(method)
    if purpose not in CONSENT_PURPOSES:
        raise ConsentProblem("rests on the contract")
    evidence = (evidence or "").strip()
    if method is not ConsentMethod.PORTAL and not evidence:
        raise ConsentProblem("evidence required")
    previous = current_consents(ledger_of(customer.id))[purpose]
    entry = ConsentEntry(customer_id=customer.id, purpose=purpose, granted=granted, method=method,
                         evidence=evidence, recorded_at=now, actor_kind=actor_kind, actor_name=actor_name,
                         notice_version=notice_version)
    db.session.add(entry)
    note_change(customer.id, f"consent:{purpose.value}", _state_word(previous.granted if previous else None),
                _state_word(granted), now=now, actor_kind=actor_kind, actor_name=actor_name)
    db.session.flush()
    record(actor, "consent.granted" if granted else "consent.withdrawn", customer, purpose=purpose.value,
           method=method.value, entry=entry.id)
    return entry


def switch_consent(customer, purpose, granted: bool, seen: int, *, email: str, locale: str,
                   now: datetime) -> ConsentEntry:
    """The customer's own choice on My data, effective at once: a ledger entry under the notice in
    effect today. ``seen`` is the id of the purpose's latest entry on the page the choice was made on
    (0: none): if the ledger has moved on since, nothing is recorded (:class:`StaleChoice`). A
    withdrawal is also sent as :data:`consent_withdrawn`, in the same transaction."""
    purpose = Purpose(purpose)
    if purpose not in CONSENT_PURPOSES:
        raise ConsentProblem("rests on the contract")
    # Two choices at once for one customer take turns (PostgreSQL locks the row; SQLite writes in turn).
    db.session.execute(select(Customer.id).where(Customer.id == customer.id).with_for_update())
    latest = current_consents(ledger_of(customer.id))[purpose]
    if (latest.id if latest else 0) != seen:
        raise StaleChoice("stale")
    entry = record_consent(customer, purpose, granted, method=ConsentMethod.PORTAL, actor=customer,
                           actor_kind=ActorKind.CUSTOMER, actor_name=customer.full_name, now=now,
                           notice_version=version_in_effect(local_date(now)).version)
    if not granted:
        consent_withdrawn.send(customer, entry=entry, email=email, locale=locale, now=now)
    return entry


@dataclass(frozen=True)
class ContractBasis:
    """What rests on the contract for one order: needed until its warranty ends."""

    reference: str
    description: str
    until: date


def contract_basis(orders, today: date) -> tuple[list[ContractBasis], date | None]:
    """The orders whose warranty still runs on ``today`` (the purposes that rest on the contract
    rest on them until then), soonest end first; and, when none runs any more, the day the last one ended
    (None: no order ever had a warranty)."""
    running = sorted((ContractBasis(order.reference, order.description, order.warranty_ends_on)
                      for order in orders if order.warranty_ends_on and order.warranty_ends_on >= today),
                     key=lambda basis: basis.until)
    ended = [order.warranty_ends_on for order in orders if order.warranty_ends_on]
    return running, (None if running or not ended else max(ended))
