"""What the rights page states, read from the code and settings that decide it."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, url_for
from flask_babel import lazy_gettext as _l

from portal.auth.views import COOKIE_PATH, LINK_COOKIE, NONCE_COOKIE
from portal.settings.retention import retention_days
from portal.tickets.forms import RequestMessageForm
from portal.tickets.kinds import get_kind
from portal.tickets.settings import ACKNOWLEDGE_WORKING_DAYS


@dataclass(frozen=True)
class Right:
    key: str
    title: object
    what: object
    how: object
    kind: str  # the code of the request kind whose legal period applies
    at_once: bool = False  # done by the customer on this portal, with no waiting


RIGHTS = (
    Right("access", _l("To know and to see your data"),
          _l("You may know what personal data we hold about you, where it came from and how we use it."),
          _l("Sign in and open My data: everything we hold about you is there, with who among our staff looked "
             "at it."), "access", at_once=True),
    Right("correction", _l("To have it corrected"),
          _l("You may have wrong or out-of-date data corrected."),
          _l("Ask us with a correction request, saying what is wrong."), "correction"),
    Right("copy", _l("To get a copy"),
          _l("You may receive a copy of your personal data."),
          _l("Ask us with an access or copy request."), "access"),
    Right("consent", _l("To withdraw your consent"),
          _l("Surveys, promotions and general notices rest only on your consent: you may withdraw it at any "
             "time, as easily as you gave it."),
          _l("On My data, press \u201cWithdraw consent\u201d: it applies at once. We then have any partner who "
             "processes your data for that purpose stop too, within the period below."), "consent_withdrawal"),
    Right("erasure", _l("To have your data deleted"),
          _l("You may ask us to delete your data. What the law or an open warranty still needs is kept, "
             "restricted, until its end, and we tell you exactly what and until when."),
          _l("Ask us with an erasure request."), "erasure"),
    Right("restriction", _l("To restrict or object to processing"),
          _l("You may ask us to limit how we use your data, or object to a use."),
          _l("Ask us with a restriction or objection request."), "restriction"),
    Right("complaint", _l("To complain"),
          _l("You may complain to us that your data was disclosed to a third party; we verify, then answer "
             "with the reason and how it is being corrected and remedied. You may also complain to the "
             "authority for personal data protection of the Ministry of Public Security."),
          _l("Tell us with a leak complaint."), "leak_complaint"),
)


def rights() -> list[dict]:
    """Each right with the legal period of its request kind, read from the kind, and where to use it."""
    return [{"right": right, "kind": get_kind(right.kind), **_where(right)} for right in RIGHTS]


def _where(right: Right) -> dict:
    """The page where the right is used: My data for what is done there at once, the kind's own form,
    or the general request form."""
    kind = get_kind(right.kind)
    if right.key in ("access", "consent"):
        return {"url": url_for("account.my_data"), "link": _l("My data")}
    if kind.is_filed_by_customers and kind.customer_form is not RequestMessageForm:
        return {"url": url_for("requests.new_of_kind", code=str(kind)), "link": kind.title}
    return {"url": url_for("requests.new"), "link": _l("New request")}


def cookies() -> list[dict]:
    """The portal's cookies, by the names and lifetimes the code gives them."""
    config = current_app.config
    return [
        {"name": config["SESSION_COOKIE_NAME"], "path": "/",
         "what": _l("Holds a random key naming your session on our server (which keeps you signed in), your "
                    "language choice and the token that protects forms against forgery; it is signed, so it "
                    "cannot be altered. Your session ends after %(idle)s minutes without use or %(hours)s hours "
                    "in all, or when you sign out.",
                    idle=config["SESSION_IDLE_MINUTES"], hours=config["SESSION_ABSOLUTE_HOURS"])},
        {"name": NONCE_COOKIE, "path": COOKIE_PATH,
         "what": _l("Set when you ask for a sign-in link, so that the link signs you in only in the browser that "
                    "asked. It lasts %(minutes)s minutes.", minutes=config["SIGN_IN_LINK_MINUTES"])},
        {"name": LINK_COOKIE, "path": COOKIE_PATH,
         "what": _l("Holds the sign-in link you opened, for the few seconds until you press Continue; at most "
                    "%(minutes)s minutes.", minutes=config["SIGN_IN_LINK_MINUTES"])},
    ]


RETENTION_TITLES = {
    "sign_in_links": _l("The links and codes we e-mail you (sign-in and confirmation links)"),
    "customer_sessions": _l("Your sign-in sessions on this portal"),
    "staff_sessions": _l("Our staff's sign-in sessions"),
    "email_bodies": _l("The text of the e-mails we send you (who, subject and when stay)"),
    "audit_addresses": _l("The IP addresses in our log of sign-ins and changes"),
}
RETENTION_FROM = {
    "sign_in_links": _l("after it expires"),
    "customer_sessions": _l("after the session ends"),
    "staff_sessions": _l("after the session ends"),
    "email_bodies": _l("after it is delivered"),
    "audit_addresses": _l("after the event"),
}


def retention() -> list[dict]:
    """How long the portal keeps each kind of its own data, from the retention settings."""
    return [{"title": RETENTION_TITLES[name], "days": days, "from": RETENTION_FROM[name]}
            for name, days in retention_days().items()]


def acknowledge_days() -> int:
    return ACKNOWLEDGE_WORKING_DAYS
