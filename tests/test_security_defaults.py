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
from portal.outbox.delivery import deliver_due
from portal.outbox.models import OutboxMessage
from portal.outbox.services import queue_email
from portal.outbox.transports import scrub
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


# --- item 10: stored SMTP errors lose the credentials and nothing else ------------------------------


def test_a_one_letter_user_name_is_scrubbed_where_it_stands_alone_and_nowhere_else(app, smtp_server, clock):
    app.config.update(smtp_server.app_config(), SMTP_USERNAME="u", SMTP_PASSWORD="Quiet-Sun-4821")
    smtp_server.auth_reply = ("535 5.7.8 User u unknown: authentication failed for u (password Quiet-Sun-4821), "
                              "contact your support bureau")
    message = queue_email("an.nguyen@example.vn", "sign_in_unknown", "vi", "sign_in_link",
                          token="test-token", code="ABCD-EFGH", minutes=10)
    db.session.commit()

    assert deliver_due(clock.now()) == 1

    db.session.expire_all()
    stored = db.session.get(OutboxMessage, message.id)
    expected = ("User *** unknown: authentication failed for *** (password ***), "
                "contact your support bureau")
    assert expected in stored.last_error
    assert [attempt.error for attempt in stored.attempts] == [stored.last_error]
    assert "Quiet-Sun-4821" not in stored.last_error


@pytest.mark.parametrize(("username", "password", "reply", "scrubbed"), [
    # The credentials standing alone, quoted, or inside "user=...": blanked.
    ("mailer", "tr0ub4dor&3", "535 no such user mailer", "535 no such user ***"),
    ("mailer", "tr0ub4dor&3", "535 bad password 'tr0ub4dor&3' for \"mailer\"", "535 bad password '***' for \"***\""),
    ("mailer", "tr0ub4dor&3", "535 user=mailer;pass=tr0ub4dor&3", "535 user=***;pass=***"),
    # As AUTH sends them, base64-encoded: blanked too.
    ("mailer", "tr0ub4dor&3", "535 rejected AG1haWxlcgB0cjB1YjRkb3ImMw==", "535 rejected ***"),
    ("mailer", "tr0ub4dor&3", "334 bWFpbGVy ok", "334 *** ok"),
    # Part of a longer word or number is not the credential: kept as the server wrote it.
    ("mailer", "4821", "421 mailers busy, queue 48213 full", "421 mailers busy, queue 48213 full"),
    ("u", "4821", "421 Service unavailable, try again", "421 Service unavailable, try again"),
    ("an", "4821", "535 Authentication unsuccessful for an account named an",
     "535 Authentication unsuccessful for *** account named ***"),
])
def test_scrubbing_blanks_exact_credentials_only(username, password, reply, scrubbed):
    config = {"SMTP_USERNAME": username, "SMTP_PASSWORD": password}
    assert scrub(reply, config) == scrubbed


def test_scrubbing_with_no_credentials_changes_nothing():
    assert scrub("535 5.7.8 Authentication required", {"SMTP_USERNAME": "", "SMTP_PASSWORD": ""}) == \
        "535 5.7.8 Authentication required"
