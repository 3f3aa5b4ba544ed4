"""Recording consent and reading its current state."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from portal.account.models import DataChange
from portal.audit.services import record
from portal.consent.models import CONSENT_PURPOSES, ConsentEntry
from portal.db import db
from portal.enums import ActorKind, ConsentMethod, Purpose


class ConsentProblem(ValueError):
    """A consent entry that cannot be recorded (the message says why, for people)."""


def _state_word(granted: bool | None) -> str | None:
    return None if granted is None else ("given" if granted else "withdrawn")


def current_consents(entries) -> dict[Purpose, object | None]:
    """Each purpose that rests on consent with its latest entry (None: never asked), from the
    ledger's ``entries`` in any order."""
    latest: dict[Purpose, object] = {}
    for entry in sorted(entries, key=lambda item: (item.recorded_at, item.id)):
        latest[entry.purpose] = entry
    return {purpose: latest.get(purpose) for purpose in CONSENT_PURPOSES}


def is_granted(entries, purpose: Purpose) -> bool:
    entry = current_consents(entries).get(purpose)
    return bool(entry and entry.granted)


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
    db.session.add(DataChange(customer_id=customer.id, changed_at=now, actor_kind=actor_kind,
                              actor_name=actor_name, field=f"consent:{purpose.value}",
                              old_value=_state_word(previous.granted if previous else None),
                              new_value=_state_word(granted)))
    db.session.flush()
    record(actor, "consent.granted" if granted else "consent.withdrawn", customer, purpose=purpose.value,
           method=method.value, entry=entry.id)
    return entry
