"""The customer's way through the portal, over HTTP and the real database: what the home page
promises, the link in a notification e-mail (sign-in filled in, the request as the destination), the
per-client limits on sign-in (only real attempts count, and the limit says how long to wait), and
form errors (a summary at the top, "Error:" in the page title).

Pages are mostly read in English (the visitor picks it with the language switch); the Vietnamese
texts are read from the catalogue, so rewording a translation does not break a test.
"""

from __future__ import annotations

import html
import logging
import re
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from babel.messages.pofile import read_po
from flask_babel import force_locale
from sqlalchemy import select

from portal.auth import services as auth_services
from portal.db import db
from portal.email_links import EmailLink
from portal.offers import current_offers
from portal.security import RedactSecretPaths
from portal.tickets.forms import RequestMessageForm
from portal.tickets.kinds import KINDS, RequestKind, all_kinds, get_kind, register
from tests.factories import make_customer, new_ticket
from tests.helpers import (
    CSRF_FIELD,
    csrf_token,
    english,
    link_and_code,
    outbox,
    page_text,
    request_link,
    sign_in,
)

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


# The words of what later features bring, by the kind that brings them: absent until it works.
# (Withdrawing consent works on My data, with its switches, whether or not the kind is filed by hand.)
LATER_PROMISES = {"erasure": "delete", "correction": "correct", "leak_complaint": "leak"}


def offered_items(page: str) -> list[str]:
    listed = re.search(r'<ul class="offers">(.*?)</ul>', page, re.S)
    assert listed, "the home page lists no offers"
    return [item.strip() for item in re.findall(r"<li>(.*?)</li>", listed.group(1), re.S)]


def test_the_home_page_promises_only_what_customers_can_do_today(app, client):
    page = home_text(english(client))
    items = offered_items(page)
    assert items == [source_text(app, offer.text) for offer in current_offers()]
    assert "See the personal data we hold about you" in items
    for kind in all_kinds():
        if kind.offer is not None and kind.is_filed_by_customers:
            assert source_text(app, kind.offer) in items, kind
        elif kind.offer is not None:
            assert source_text(app, kind.offer) not in page, f"promises {kind} though customers cannot file it"
    for code, word in LATER_PROMISES.items():
        if not get_kind(code).is_filed_by_customers:
            assert word not in page.lower(), f"promises to {word} before customers can file {code}"


def test_the_promises_are_vietnamese_by_default(app, client, vi):
    page = home_text(client)
    offered = [source_text(app, offer.text) for offer in current_offers()]
    assert offered, "the home page promises nothing"
    assert offered_items(page) == [vi[english_text] for english_text in offered]
    assert vi["Here you can:"] in page


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
    position = 95
    customer_form = None
    offer = "Complain about a lost parcel"


@pytest.fixture
def parcel_kinds(app):
    """Two kinds of the tests' own: one customers can file, one they cannot (yet)."""
    register(ParcelTrace)
    register(ParcelComplaint)
    yield
    KINDS.pop("parcel_trace")
    KINDS.pop("parcel_complaint")


def test_a_new_kind_brings_its_own_promise_in_its_place(client, parcel_kinds):
    items = offered_items(home_text(english(client)))
    assert "Ask where your parcel is" in items
    assert "Complain about a lost parcel" not in items
    # Position 5: before the question (10).
    assert items.index("Ask where your parcel is") < items.index("Ask a question about your data or how we use it")


def test_a_kind_is_promised_from_the_moment_customers_can_file_it(client, parcel_kinds, monkeypatch):
    english(client)
    assert "Complain about a lost parcel" not in offered_items(home_text(client))
    monkeypatch.setattr(ParcelComplaint, "customer_form", RequestMessageForm)  # its feature lands
    items = offered_items(home_text(client))
    # Position 95: after "something else" (90).
    assert items.index("Complain about a lost parcel") > items.index("Ask us anything else about your personal data")


# --- 14. the link in a notification e-mail --------------------------------------------------------


def notification_link(recipient: str = ADDRESS) -> str:
    """The path of the sign-in link in the newest e-mail to ``recipient``."""
    message = outbox(recipient)[-1]
    found = HINT_LINK.search(message.body_text)
    assert found, message.body_text
    assert f'href="http://localhost{found.group(1)}"' in message.body_html  # the HTML part links it too
    return found.group(1)


def follow_to_sign_in(client, path: str, reference: str | None):
    """Open the e-mail's link: it must leave for the sign-in page at once, with the request as its
    destination and nothing of the hint in the new URL."""
    response = client.get(path)
    assert response.status_code == 303
    location = urlsplit(response.headers["Location"])
    assert location.path == "/sign-in"
    assert parse_qs(location.query) == ({"next": [f"/requests/{reference}"]} if reference else {})
    assert response.headers["Referrer-Policy"] == "no-referrer"
    return client.get(response.headers["Location"])


def send_prefilled_form(client, page: str):
    """Press the button of the sign-in page as it was drawn, changing nothing."""
    form = {"csrf_token": CSRF_FIELD.search(page).group(1), "email": prefilled_address(page) or "",
            "next": html.unescape(re.search(r'name="next" type="hidden" value="([^"]*)"', page).group(1))}
    return client.post("/sign-in", data=form)


def test_a_notification_opens_sign_in_filled_in_and_continue_lands_on_the_request(client, clock):
    customer = make_customer(STORED)
    ticket = new_ticket(customer=customer, email=ADDRESS, now=clock.now())
    path = notification_link()
    assert "@" not in path and "%40" not in path.lower() and "example" not in path.lower()
    assert parse_qs(urlsplit(path).query) == {"next": [f"/requests/{ticket.reference}"]}

    page = follow_to_sign_in(english(client), path, ticket.reference)
    assert page.status_code == 200
    assert prefilled_address(page_text(page)) == ADDRESS
    assert "We filled in the address our e-mail went to." in page_text(page)

    sent = send_prefilled_form(client, page_text(page))  # one press
    assert sent.status_code == 303 and sent.headers["Location"] == "/sign-in/sent"
    mail = outbox()[-1]
    assert mail.recipient == STORED and mail.purpose == "sign_in_link"  # to the address as stored
    link_path, _code = link_and_code(mail)
    continue_page = client.get(link_path, follow_redirects=True)
    token = CSRF_FIELD.search(page_text(continue_page)).group(1)
    landed = client.post("/sign-in/continue", data={"csrf_token": token})
    assert landed.status_code == 303 and landed.headers["Location"] == f"/requests/{ticket.reference}"
    request_page = client.get(landed.headers["Location"])
    assert request_page.status_code == 200 and ticket.reference in page_text(request_page)


def test_an_address_the_company_does_not_hold_gets_the_same_answer(client, clock):
    make_customer(STORED)
    known = new_ticket(customer=None, email=ADDRESS, now=clock.now())
    unknown = new_ticket(customer=None, email="nobody@example.vn", now=clock.now())
    answers = []
    for recipient, ticket in ((ADDRESS, known), ("nobody@example.vn", unknown)):
        browser = english(client.application.test_client())
        page = follow_to_sign_in(browser, notification_link(recipient), ticket.reference)
        assert prefilled_address(page_text(page)) == recipient
        response = send_prefilled_form(browser, page_text(page))
        answers.append((response.status_code, response.headers["Location"]))
    assert answers[0] == answers[1] == (303, "/sign-in/sent")
    assert outbox(STORED)[-1].purpose == "sign_in_link"
    assert outbox("nobody@example.vn")[-1].purpose == "sign_in_link"
    assert "hold no personal data" in outbox("nobody@example.vn")[-1].body_text


def test_the_prefilled_form_keeps_the_per_address_limit(client, clock):
    customer = make_customer(STORED)
    ticket = new_ticket(customer=customer, email=ADDRESS, now=clock.now())
    path = notification_link()
    english(client)
    for _ in range(3):
        page = follow_to_sign_in(client, path, ticket.reference)
        assert send_prefilled_form(client, page_text(page)).status_code == 303
    page = follow_to_sign_in(client, path, ticket.reference)
    refused = send_prefilled_form(client, page_text(page))
    assert refused.status_code == 429 and ADDRESS_LIMIT in page_text(refused)
    assert len(outbox(STORED)) == 3


@pytest.mark.parametrize("damage", ["forged", "expired", "cut"])
def test_a_forged_expired_or_damaged_hint_fills_in_nothing_but_keeps_the_destination(client, clock, damage):
    customer = make_customer(STORED)
    ticket = new_ticket(customer=customer, email=ADDRESS, now=clock.now())
    path = notification_link()
    hint = path.removeprefix("/sign-in/for/").partition("?")[0]
    if damage == "forged":
        forged = auth_services._hint_serializer().dump_payload(["someone@example.vn", 2**40])
        path = path.replace(hint, forged.decode() + "." + hint.rpartition(".")[2])
    elif damage == "expired":
        clock.advance(days=client.application.config["SIGN_IN_HINT_DAYS"], seconds=1)
    else:
        path = path.replace(hint, hint[:-3])
    page = follow_to_sign_in(english(client), path, ticket.reference)
    assert page.status_code == 200 and prefilled_address(page_text(page)) is None
    assert "We filled in the address" not in page_text(page)


def test_a_hint_works_until_its_last_day(client, clock):
    customer = make_customer(STORED)
    ticket = new_ticket(customer=customer, email=ADDRESS, now=clock.now())
    clock.advance(days=client.application.config["SIGN_IN_HINT_DAYS"], seconds=-1)
    page = follow_to_sign_in(english(client), notification_link(), ticket.reference)
    assert prefilled_address(page_text(page)) == ADDRESS


@pytest.mark.parametrize("target", ["https://evil.example/requests/KN-1", "//evil.example", "/\\evil.example",
                                    "javascript:alert(1)"])
def test_the_destination_is_only_ever_a_page_of_the_portal(client, clock, target):
    make_customer(STORED)
    path = notification_link_for(clock, next_path=target)
    page = follow_to_sign_in(english(client), path, None)
    assert prefilled_address(page_text(page)) == ADDRESS
    assert send_prefilled_form(client, page_text(page)).status_code == 303
    assert db.session.scalars(select(EmailLink)).one().next_path is None


def notification_link_for(clock, next_path: str) -> str:
    hint = auth_services.address_hint(ADDRESS, clock.now())
    return f"/sign-in/for/{hint}?next={quote(next_path, safe='')}"


def test_a_signed_in_customer_goes_straight_to_the_request(client, clock):
    customer = make_customer(STORED)
    sign_in(client, ADDRESS)
    ticket = new_ticket(customer=customer, email=ADDRESS, now=clock.now())
    response = client.get(notification_link(), follow_redirects=True)
    assert response.request.path == f"/requests/{ticket.reference}"
    assert response.status_code == 200 and ticket.reference in page_text(response)


def test_signing_in_forgets_the_filled_in_address(client, clock):
    customer = make_customer(STORED)
    ticket = new_ticket(customer=customer, email=ADDRESS, now=clock.now())
    follow_to_sign_in(client, notification_link(), ticket.reference)
    sign_in(client, ADDRESS)
    client.post("/sign-out", data={"csrf_token": csrf_token(client, "/my-data")})
    assert prefilled_address(page_text(client.get("/sign-in"))) is None


def test_access_logs_do_not_show_the_hint():
    line = logging.LogRecord("werkzeug", logging.INFO, __file__, 1, '"%s" %s',
                             ("GET /sign-in/for/WyJhbi5uZ3V5ZW5AZXhhbXBsZS52biJd.abc?next=%2Frequests HTTP/1.1",
                              "303"), None)
    RedactSecretPaths().filter(line)
    assert line.getMessage() == '"GET /sign-in/for/[redacted]?next=%2Frequests HTTP/1.1" 303'


# --- 15. sign-in limits count real attempts only ---------------------------------------------------


def post_address(client, email: str, with_token: bool = True):
    data = {"email": email, "next": ""}
    if with_token:
        data["csrf_token"] = csrf_token(client, "/sign-in")
    return client.post("/sign-in", data=data)


def test_mistyped_empty_or_stale_sign_in_posts_use_up_nothing(client):
    english(client)
    mistakes = ["", "   ", "an.nguyen@", "an.nguyen example.vn", "@example.vn", "an.nguyen@@example.vn",
                "an.nguyen@example", "x" * 400]
    for typed in mistakes:
        assert post_address(client, typed).status_code == 400, typed
    assert post_address(client, ADDRESS, with_token=False).status_code == 400  # an expired form
    # The allowance (5 a minute) is whole: five real requests still go through.
    for index in range(5):
        assert post_address(client, f"person{index}@example.vn").status_code == 303
    assert post_address(client, "person9@example.vn").status_code == 429


def test_the_limit_keeps_what_was_typed_and_says_how_long_to_wait(client):
    english(client)
    for index in range(5):
        assert post_address(client, f"person{index}@example.vn").status_code == 303
    refused = post_address(client, "lan.tran@example.vn")
    page = page_text(refused)
    assert refused.status_code == 429
    assert CLIENT_LIMIT % {"wait": "1 minute"} in html.unescape(page)
    assert prefilled_address(page) == "lan.tran@example.vn"  # the form is there, as it was typed
    assert 'action="/sign-in"' in page
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    assert outbox("lan.tran@example.vn") == []


def test_the_limit_speaks_vietnamese_and_counts_in_hours(client, vi):
    client.application.config["SIGN_IN_REQUESTS_PER_CLIENT"] = "2 per hour"
    for index in range(2):
        assert post_address(client, f"person{index}@example.vn").status_code == 303
    refused = post_address(client, "lan.tran@example.vn")
    assert refused.status_code == 429
    assert vi[CLIENT_LIMIT] % {"wait": "1 giờ"} in html.unescape(page_text(refused))


def code_page(client, clock):
    """Ask for a link in one browser and open it in another (``client``), which must type the code."""
    make_customer(STORED)
    asking = client.application.test_client()
    assert request_link(asking, ADDRESS).status_code == 303
    path, code = link_and_code(outbox()[-1])
    english(client)
    assert "Enter your code" in page_text(client.get(path, follow_redirects=True))
    return code


def post_code(client, code: str, referrer: str | None = None):
    token = CSRF_FIELD.search(page_text(client.get("/sign-in/continue"))).group(1)
    headers = {"Referer": referrer} if referrer else {}
    return client.post("/sign-in/code", data={"csrf_token": token, "code": code}, headers=headers)


def test_malformed_codes_use_up_nothing(client, clock):
    client.application.config["SIGN_IN_ATTEMPTS_PER_CLIENT"] = "3 per minute"
    code = code_page(client, clock)
    for typed in ("", "ABC", "ABCD-234", "ABCD-23456", "!!!!-!!!!", "A" * 60):
        assert post_code(client, typed).status_code == 400, typed
    response = post_code(client, code)
    assert response.status_code == 303 and response.headers["Location"] == "/my-data"


def test_wrong_codes_count_and_the_limit_page_keeps_a_way_back(client, clock):
    client.application.config["SIGN_IN_ATTEMPTS_PER_CLIENT"] = "3 per minute"
    code = code_page(client, clock)
    wrong = "2222-2222" if code != "2222-2222" else "3333-3333"
    for _ in range(3):
        assert post_code(client, wrong).status_code == 400
    refused = post_code(client, code, referrer="http://localhost/sign-in/continue")
    page = html.unescape(page_text(refused))
    assert refused.status_code == 429
    assert CLIENT_LIMIT % {"wait": "1 minute"} in page
    assert '<a href="/sign-in/continue">Back to the page you were on</a>' in page
    assert '<a href="/">Go to the home page</a>' in page
    assert title_of(page).startswith("Too many attempts")


@pytest.mark.parametrize("referrer", [None, "https://evil.example/sign-in/continue", "http://localhost//evil.example"])
def test_the_way_back_never_leaves_the_portal(client, clock, referrer):
    client.application.config["SIGN_IN_ATTEMPTS_PER_CLIENT"] = "1 per minute"
    code = code_page(client, clock)
    assert post_code(client, "2222-2222" if code != "2222-2222" else "3333-3333").status_code == 400
    page = page_text(post_code(client, code, referrer=referrer))
    assert "Back to the page you were on" not in page and "evil" not in page
    assert '<a href="/">Go to the home page</a>' in page


# --- 18. form errors: a summary at the top, "Error:" in the title ---------------------------------


def test_a_form_with_errors_says_so_in_the_title_and_sums_them_up_at_the_top(client, vi):
    response = post_address(client, "an.nguyen@")
    page = page_text(response)
    assert response.status_code == 400
    assert title_of(page) == vi["Error: %(title)s"] % {"title": vi["Sign in"]} + " · Khôi Ngô Security"
    summary = error_summary(page)
    assert summary is not None and page.index('class="error-summary"') < page.index("<h1>")
    assert vi["There is a problem"] in summary
    assert f'<a href="#email">{vi["This is not a valid e-mail address. Check it and try again."]}</a>' in summary
    assert 'tabindex="-1"' in summary and 'role="alert"' in summary and "data-error-summary" in summary
    assert '<script src="/static/js/portal.js" defer></script>' in page


def test_a_page_without_errors_has_no_summary_and_a_plain_title(client):
    page = page_text(english(client).get("/sign-in"))
    assert title_of(page) == "Sign in · Khôi Ngô Security" and error_summary(page) is None


def test_the_summary_lists_every_error_of_the_customer_forms(client, clock):
    make_customer(STORED)
    english(client)
    empty = post_address(client, "")
    assert '<a href="#email">Enter your e-mail address.</a>' in error_summary(page_text(empty))
    assert title_of(page_text(empty)).startswith("Error: Sign in")

    sign_in(client, ADDRESS)
    token = csrf_token(client, "/requests/new")
    response = client.post("/requests/new", data={"csrf_token": token, "kind": "question", "message": " ",
                                                  "submission_key": "a" * 32})
    summary = error_summary(page_text(response))
    assert response.status_code == 400 and summary is not None
    assert re.search(r'<a href="#message">[^<]+</a>', summary)
    assert title_of(page_text(response)).startswith("Error: New request")


def test_the_code_form_sums_up_its_error_too(client, clock):
    code_page(client, clock)
    page = page_text(post_code(client, "ABC"))
    assert '<a href="#code">The code has 8 letters and digits, like ABCD-2345.</a>' in error_summary(page)
    assert title_of(page).startswith("Error: Enter your code")


def test_the_script_is_served_from_the_portal(client):
    response = client.get("/static/js/portal.js")
    assert response.status_code == 200 and "javascript" in response.headers["Content-Type"]
    assert "data-error-summary" in page_text(response)
