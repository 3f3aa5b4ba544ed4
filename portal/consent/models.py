"""The consent ledger, and which purposes rest on consent rather than on the contract."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import EnumText, UTCDateTime, db
from portal.enums import ActorKind, ConsentMethod, Purpose

# What rests on the customer's consent (switches they turn on and off), and what rests on the
# contract with them (Law Art. 19(1)(d)): needed for an order or a warranty until it ends.
CONSENT_PURPOSES = (Purpose.NOTICES, Purpose.SURVEYS, Purpose.PROMOTIONS)
CONTRACT_PURPOSES = (Purpose.SUPPORT, Purpose.DELIVERY, Purpose.WARRANTY)

# What a consent's evidence reference is, said to the customer: a bare "form-1001" means nothing.
EVIDENCE_LABELS = {
    ConsentMethod.WEB_FORM: lambda evidence: _l("Recorded on our web form no. %(evidence)s", evidence=evidence),
    ConsentMethod.RECORDED_CALL: lambda evidence: _l("Recording of the call: %(evidence)s", evidence=evidence),
    ConsentMethod.SMS: lambda evidence: _l("Our copy of the SMS: %(evidence)s", evidence=evidence),
    ConsentMethod.EMAIL: lambda evidence: _l("Our copy of the e-mail: %(evidence)s", evidence=evidence),
    ConsentMethod.PORTAL: lambda evidence: _l("Your choice on this portal (%(evidence)s)", evidence=evidence),
}


def evidence_label(method: ConsentMethod, evidence: str):
    """A consent's evidence reference with what it is ("Recording of the call: call-7.mp3"), lazily
    translated; "" when there is none."""
    return EVIDENCE_LABELS[method](evidence) if evidence else ""


class ConsentEntry(db.Model):
    """One grant or withdrawal of consent for one purpose. Entries are only ever added."""

    __tablename__ = "consent_entries"
    __table_args__ = (
        Purpose.check("purpose", "purpose_known"),
        ConsentMethod.check("method", "method_known"),
        ActorKind.check("actor_kind", "actor_kind_known"),
        Index("ix_consent_entries_customer_purpose", "customer_id", "purpose", "recorded_at"),
    )
    belongs_to_record = True  # a change here moves the customer's record on (account.models)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    purpose: Mapped[Purpose] = mapped_column(EnumText(Purpose, 20))
    granted: Mapped[bool]
    method: Mapped[ConsentMethod] = mapped_column(EnumText(ConsentMethod, 20))
    # The company's reference to its proof: a form number, a call recording, a copy of an SMS or e-mail.
    evidence: Mapped[str] = mapped_column(String(400), default="")
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Who recorded it: the customer themselves, a member of staff (by name), or an import.
    actor_kind: Mapped[ActorKind] = mapped_column(EnumText(ActorKind, 10))
    actor_name: Mapped[str] = mapped_column(String(200), default="")
    # The version of the privacy notice the customer was given it under (None: not known).
    notice_version: Mapped[str | None] = mapped_column(String(20))

    @property
    def evidence_label(self):
        return evidence_label(self.method, self.evidence)
