"""The customer's way through the portal, over HTTP and the real database: what the home page
promises, the link in a notification e-mail (sign-in filled in, the request as the destination), the
per-client limits on sign-in (only real attempts count, and the limit says how long to wait), and
form errors (a summary at the top, "Error:" in the page title).

Pages are mostly read in English (the visitor picks it with the language switch); the Vietnamese
texts are read from the catalogue, so rewording a translation does not break a test.
"""

from __future__ import annotations

import html
import re

import pytest
from babel.messages.pofile import read_po
from flask_babel import force_locale

from portal.offers import current_offers
from portal.tickets.forms import RequestMessageForm
from portal.tickets.kinds import KINDS, RequestKind, all_kinds, get_kind, register
from tests.helpers import english, page_text

STORED = "An.Nguyen@Example.vn"  # as the company stored it
ADDRESS = "an.nguyen@example.vn"  # as the customer types it (and files requests under)
VI_CATALOGUE = "portal/translations/vi/LC_MESSAGES/messages.po"
HINT_LINK = re.compile(r"http://localhost(/sign-in/for/[^\s<>\"]+)")
EMAIL_VALUE = re.compile(r'<input [^>]*id="email"[^>]*>')
ADDRESS_LIMIT = "Too many sign-in links were asked for this address. Please wait an hour and try again."
CLIENT_LIMIT = "Too many attempts from your connection. Nothing was changed. You can try again in %(wait)s."


@pytest.fixture(scope="module")
def vi() -> dict[str, str]:
    with open(VI_CATALOGUE, "rb") as fileobj:
        return {message.id: message.string for message in read_po(fileobj, locale="vi") if message.id}


def source_text(app, lazy) -> str:
    """The English (source) text of a lazily translated string."""
    with app.test_request_context(), force_locale("en"):
        return str(lazy)


def home_text(client) -> str:
    return html.unescape(page_text(client.get("/")))


def prefilled_address(page: str) -> str | None:
    """The value the sign-in page's address field shows, or None when it is empty."""
    value = re.search(r'value="([^"]*)"', EMAIL_VALUE.search(page).group(0))
    return html.unescape(value.group(1)) if value and value.group(1) else None


def title_of(page: str) -> str:
    return html.unescape(re.search(r"<title>(.*?)</title>", page, re.S).group(1)).strip()


def error_summary(page: str) -> str | None:
    found = re.search(r"<div class=\"error-summary\".*?</div>", page, re.S)
    return html.unescape(found.group(0)) if found else None


# --- 13. the home page promises what works -------------------------------------------------------


def test_the_home_page_promises_only_what_customers_can_do_today(app, client):
    page = home_text(english(client))
    assert "See the personal data we hold about you" in page
    for kind in all_kinds():
        if kind.offer is None:
            continue
        if kind.is_filed_by_customers:
            assert source_text(app, kind.offer) in page, kind
        else:
            assert source_text(app, kind.offer) not in page, f"promises {kind} though customers cannot file it"
    # Deleting, correcting, withdrawing consent and complaining of a leak come with later features.
    for not_yet in ("delete", "correct", "withdraw", "leak"):
        assert not_yet not in page.lower(), not_yet


def test_the_promises_are_vietnamese_by_default(app, client, vi):
    page = home_text(client)
    offered = [source_text(app, offer.text) for offer in current_offers()]
    assert offered, "the home page promises nothing"
    for english_text in ("Here you can:", *offered):
        assert vi[english_text] in page, english_text
    assert vi["Ask us to delete your data"] not in page


def test_a_kind_is_promised_from_the_moment_customers_can_file_it(app, client, monkeypatch):
    english(client)
    erasure = get_kind("erasure")
    assert "Ask us to delete your data" not in home_text(client)
    monkeypatch.setattr(type(erasure), "customer_form", RequestMessageForm)  # the deletion feature lands
    page = home_text(client)
    assert "Ask us to delete your data" in page
    # In the kinds' order: the copy of my data (20) before deletion (50) before "something else" (90).
    positions = [page.index(source_text(app, get_kind(code).offer)) for code in ("access", "erasure", "other")]
    assert positions == sorted(positions)


class ParcelTrace(RequestKind):
    code = "parcel_trace"
    position = 5
    title = "Trace my parcel"
    department = get_kind("question").department
    legal_days = 5
    customer_form = RequestMessageForm
    offer = "Ask where your parcel is"


class ParcelComplaint(ParcelTrace):
    code = "parcel_complaint"
    position = 6
    customer_form = None
    offer = "Complain about a lost parcel"


@pytest.fixture
def parcel_kinds(app):
    register(ParcelTrace)
    register(ParcelComplaint)
    yield
    KINDS.pop("parcel_trace")
    KINDS.pop("parcel_complaint")


def test_a_new_kind_brings_its_own_promise_and_nothing_else_changes(client, parcel_kinds):
    page = home_text(english(client))
    assert "Ask where your parcel is" in page
    assert "Complain about a lost parcel" not in page
    assert page.index("Ask where your parcel is") < page.index("Get a full copy of your data")
