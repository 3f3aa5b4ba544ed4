"""Consent withdrawn on My data becomes work for sales: a consent-withdrawal request, so that the
partners who process the data for the company are told to stop.

The rule: a withdrawal opens a consent-withdrawal ticket for the customer or, when they already
have one open, adds a message and the purpose to it — one open ticket collects every withdrawal
still to pass on. Giving consent opens nothing. The ticket gets the customer's receipt (or "added
to your open request") e-mail like any request, with the dates the law gives it.
"""

from __future__ import annotations

from flask_babel import force_locale
from flask_babel import gettext as _

from portal.consent.signals import consent_withdrawn
from portal.db import db
from portal.tickets.kinds.consent_withdrawal import ConsentWithdrawal, ConsentWithdrawalDetails
from portal.tickets.services import create_ticket, details_of

KIND = ConsentWithdrawal()


def _message(purpose, locale: str) -> str:
    with force_locale(locale):
        return _("I withdrew my consent on My data for: %(purpose)s. Please have anyone who processes my data "
                 "for this purpose stop.", purpose=purpose.title)


@consent_withdrawn.connect
def open_withdrawal_ticket(customer, entry=None, email: str = "", locale: str = "vi", now=None, **_ignored):
    """Open the customer's consent-withdrawal ticket for ``entry``'s purpose, or add it to the open one."""
    ticket, created = create_ticket(kind=KIND, body=_message(entry.purpose, locale), requester_email=email,
                                    customer_id=customer.id, locale=locale, now=now,
                                    details=ConsentWithdrawalDetails(purposes=str(entry.purpose)))
    if created:
        return
    details = details_of(ticket)
    if details is None:  # an open withdrawal filed another way has no details yet
        details = ConsentWithdrawalDetails(ticket_id=ticket.id, purposes="")
        db.session.add(details)
    details.add(entry.purpose)
