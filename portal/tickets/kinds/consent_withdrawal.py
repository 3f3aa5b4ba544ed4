"""Withdrawal of consent for a purpose (Decree 356/2025 Art. 5: 15 days), worked by sales, who run
the surveys and promotions that rest on consent."""

from flask_babel import lazy_gettext as _l

from portal.enums import Department
from portal.tickets.kinds.base import RequestKind, register


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
