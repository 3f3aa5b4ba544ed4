"""How long the portal keeps its own personal data: the sign-in links it mailed, customers' and
staff's sessions, the bodies of e-mails once delivered, and the IP addresses in the audit log.
``flask worker`` purges what is older (portal/retention.py); the rights page states the periods.

Stored as the setting ``retention`` (days per kind of data) over these defaults, so an operator may
shorten or lengthen them; a stored value that is not a whole number of days from 1 to 3650 is
ignored in favour of the default."""

from __future__ import annotations

from datetime import datetime, timedelta

from portal.settings.services import get_setting

KEY = "retention"
# Days after which each kind of data goes. Long enough to answer a question about a sign-in or an
# e-mail ("I never got it", "who signed in from where?"), short enough not to be a record of people.
DEFAULTS = {
    "sign_in_links": 30,  # from the link's expiry
    "customer_sessions": 90,  # from the session's end (or last use)
    "staff_sessions": 180,  # from the session's end (or last use): staff sign-ins are checked longer
    "email_bodies": 30,  # from delivery; the recipient, subject and times stay
    "audit_addresses": 180,  # from the event; the audit record itself stays
}
LONGEST_DAYS = 3650


def retention_days() -> dict[str, int]:
    """Days kept, per kind of data (see DEFAULTS)."""
    stored = get_setting(KEY, DEFAULTS)
    return {name: _days(stored.get(name), default) for name, default in DEFAULTS.items()}


def _days(value, default: int) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= LONGEST_DAYS:
        return value
    return default


def cutoffs(now: datetime, days: dict[str, int] | None = None) -> dict[str, datetime]:
    """For each kind of data, the moment before which it is purged."""
    days = days or retention_days()
    return {name: now - timedelta(days=count) for name, count in days.items()}
