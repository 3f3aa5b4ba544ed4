"""Safe defaults: cross-site posts refused on the browser's own signals, SMTP errors stored without
the credentials (and nothing else) blanked, no development shortcuts unless development is asked
for, and the staff password link's token out of the URL at once."""

from __future__ import annotations

import re
from html import unescape

import pytest
from sqlalchemy import select

from portal.db import db
from portal.email_links import EmailLink
from portal.tickets.models import TicketEntry
from tests.factories import make_customer, make_staff, new_ticket, pickup_everywhere
from tests.helpers import csrf_token, outbox, sign_in_staff

# --- item 9: cross-site posts are refused by the browser's own signals ----------------------------

FROM_ANOTHER_SITE = [
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "Cross-Site", "Origin": "http://localhost"},  # the fetch metadata is not overruled
    {"Sec-Fetch-Site": "same-site"},  # a sibling subdomain is another origin too
    {"Origin": "https://attacker.example"},
    {"Origin": "http://localhost.attacker.example"},
    {"Origin": "https://localhost"},  # another scheme is another origin
    {"Origin": "http://localhost:8080"},
    {"Origin": "null"},  # sandboxed frames, some cross-origin redirects
]
FROM_THIS_SITE = [
    {},  # no header at all: an older browser, a script; the CSRF token still guards it
    {"Sec-Fetch-Site": "same-origin", "Origin": "http://localhost"},
    {"Sec-Fetch-Site": "none"},  # the person typed or bookmarked it
    {"Origin": "http://localhost:80"},
]
REFUSED_VI = "Biểu mẫu này được gửi từ một trang web khác"


def ask_for_link(client, headers: dict):
    token = csrf_token(client, "/sign-in")
    return client.post("/sign-in", data={"email": "an.nguyen@example.vn", "csrf_token": token}, headers=headers)


@pytest.mark.parametrize("headers", FROM_ANOTHER_SITE)
def test_a_post_from_another_site_is_refused_and_changes_nothing(app, client, headers):
    make_customer()
    response = ask_for_link(client, headers)
    assert response.status_code == 403
    assert REFUSED_VI in unescape(response.get_data(as_text=True))  # Vietnamese, the default language
    assert outbox() == [] and db.session.scalars(select(EmailLink)).all() == []


@pytest.mark.parametrize("headers", FROM_THIS_SITE)
def test_a_post_from_this_site_goes_through(client, headers):
    make_customer()
    assert ask_for_link(client, headers).status_code == 303
    assert len(outbox()) == 1


def test_a_post_addressed_to_another_trusted_host_of_this_portal_goes_through(client):
    """The configured base URL is http://localhost; a person who opened http://127.0.0.1 (also a
    trusted host) posts with that origin, which is this portal's too."""
    make_customer()
    base = {"base_url": "http://127.0.0.1"}
    page = client.get("/sign-in", **base).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post("/sign-in", data={"email": "an.nguyen@example.vn", "csrf_token": token},
                           headers={"Origin": "http://127.0.0.1", "Sec-Fetch-Site": "same-origin"}, **base)
    assert response.status_code == 303


def test_pages_opened_from_another_site_still_open(client):
    """Links in e-mails and on other sites are GETs: they are never refused."""
    for path in ("/", "/sign-in", "/staff/sign-in"):
        assert client.get(path, headers={"Sec-Fetch-Site": "cross-site", "Origin": "null"}).status_code == 200


def test_a_staff_reply_posted_from_another_site_is_refused_in_english_too(app, clock):
    pickup_everywhere()
    member = make_staff("care")
    ticket = new_ticket(email="khach@example.vn", assignee_id=member.id)
    client = app.test_client()
    sign_in_staff(client, member, clock=clock)
    client.post("/language", data={"csrf_token": csrf_token(client, "/staff/"), "locale": "en", "next": "/staff/"})
    page = client.get(f"/board/tickets/{ticket.reference}").get_data(as_text=True)
    data = dict(re.findall(r'name="(reply-[a-z_]+)" type="hidden" value="([^"]*)"', page))
    data.update({"reply-message": "Gửi từ trang khác", "reply-visibility": "public"})
    response = client.post(f"/board/tickets/{ticket.reference}/reply", data=data,
                           headers={"Origin": "https://attacker.example", "Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 403
    assert "This form came from another website" in response.get_data(as_text=True)
    assert db.session.scalars(select(TicketEntry).where(TicketEntry.body == "Gửi từ trang khác")).all() == []
    # The same post from the ticket page itself is saved.
    response = client.post(f"/board/tickets/{ticket.reference}/reply", data=data,
                           headers={"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"})
    assert response.status_code == 303
    assert len(db.session.scalars(select(TicketEntry).where(TicketEntry.body == "Gửi từ trang khác")).all()) == 1
