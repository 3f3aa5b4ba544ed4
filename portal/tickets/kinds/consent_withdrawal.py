"""Withdrawal of consent for a purpose (Decree 356/2025 Art. 5: 15 days), worked by sales, who run
the surveys and promotions that rest on consent.

A withdrawal on My data takes effect at once (a ledger entry); its ticket is how sales make sure
the partners who process the data for the company stop too. Its details list the purposes
withdrawn; one open ticket per customer collects every withdrawal until it is resolved (see
``tickets/consent_withdrawals.py``)."""

from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import db
from portal.enums import Department, Purpose
from portal.tickets.kinds.base import RequestKind, register


class ConsentWithdrawalDetails(db.Model):
    """Which purposes a consent-withdrawal ticket asks partners to stop processing for."""

    __tablename__ = "consent_withdrawal_details"

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), primary_key=True)
    purposes: Mapped[str] = mapped_column(String(100), default="")  # codes, comma-separated, in order

    @property
    def purpose_list(self) -> list[Purpose]:
        return [Purpose(code) for code in self.purposes.split(",") if code]

    def add(self, purpose: Purpose) -> None:
        if purpose not in self.purpose_list:
            self.purposes = ",".join([*map(str, self.purpose_list), str(purpose)])


@register
class ConsentWithdrawal(RequestKind):
    code = "consent_withdrawal"
    position = 40
    title = _l("Consent withdrawal")
    department = Department.SALES
    legal_days = 15
    longer_days = 20  # when a processor or third party must act
    procedure = _l(
        "We stop the processing that rests on the consent you withdraw (surveys, promotions) and confirm "
        "it to you. If a partner processes the data for us, we have them stop too.")

    offer = _l("Withdraw your consent")
    detail_model = ConsentWithdrawalDetails
    customer_partial = "consent/_withdrawal_customer.html"
    staff_partial = "consent/_withdrawal_staff.html"
