"""Customer sessions: sign-out, replayed cookies, idle and absolute timeouts."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from portal.auth.models import CustomerSession
from portal.db import db
from portal.email_links import EmailLink
from tests.factories import make_customer
from tests.helpers import english, link_and_code, outbox, sign_in
from tests.helpers import page_text as text

CSRF_FIELD = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')




@pytest.fixture
def browser(client):
    return english(client)


def sessions() -> list[CustomerSession]:
    db.session.expire_all()
    return list(db.session.scalars(select(CustomerSession).order_by(CustomerSession.id)))


def assert_sent_to_sign_in(response, next_path: str = "/my-data") -> None:
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/sign-in"
    assert parse_qs(location.query) == {"next": [next_path]}


def sign_out(client):
    token = CSRF_FIELD.search(text(client.get("/my-data"))).group(1)
    return client.post("/sign-out", data={"csrf_token": token})


def test_my_data_anonymously_redirects_to_sign_in(browser):
    assert_sent_to_sign_in(browser.get("/my-data"))
    page = text(browser.get("/sign-in?next=/my-data"))
    assert 'name="next" type="hidden" value="/my-data"' in page
    assert sessions() == []


def test_sign_out_ends_the_server_side_session_and_old_cookie_is_anonymous(app, browser, customer, clock):
    sign_in(browser, "an.nguyen@example.vn")
    assert browser.get("/my-data").status_code == 200
    saved_cookie = browser.get_cookie("kn_session").value
    [row] = sessions()
    assert row.ended_at is None

    clock.advance(minutes=2)
    response = sign_out(browser)
    assert response.status_code == 303 and response.headers["Location"] == "/sign-in"
    assert "You are signed out." in text(browser.get("/sign-in"))
    [row] = sessions()
    assert row.ended_at == clock.now() and row.end_reason == "signed_out"
    assert_sent_to_sign_in(browser.get("/my-data"))
    assert browser.get_cookie("kn_session").value != saved_cookie

    # The cookie saved before sign-out, replayed in the same browser and in another one: anonymous.
    browser.set_cookie("kn_session", saved_cookie)
    assert_sent_to_sign_in(browser.get("/my-data"))
    thief = app.test_client()
    thief.set_cookie("kn_session", saved_cookie)
    assert_sent_to_sign_in(thief.get("/my-data"))
    assert "Nguyễn Văn An" not in text(thief.get("/", follow_redirects=True))
    [row] = sessions()
    assert row.end_reason == "signed_out" and row.ended_at == clock.now()  # replay changed nothing


def test_used_link_no_longer_works_after_sign_out(app, browser, customer):
    sign_in(browser, "an.nguyen@example.vn")
    path, code = link_and_code(outbox()[-1])
    assert sign_out(browser).status_code == 303

    response = browser.get(path, follow_redirects=True)
    assert response.status_code == 410 and "This link no longer works" in text(response)
    phone = english(app.test_client())
    phone.get(path)
    token = CSRF_FIELD.search(text(phone.get("/sign-in"))).group(1)
    response = phone.post("/sign-in/code", data={"csrf_token": token, "code": code})
    assert response.status_code == 410
    assert_sent_to_sign_in(browser.get("/my-data"))
    assert_sent_to_sign_in(phone.get("/my-data"))
    assert len(sessions()) == 1
    db.session.expire_all()
    assert db.session.scalars(select(EmailLink)).one().wrong_code_count == 0


def test_sign_out_without_csrf_token_changes_nothing(browser, customer):
    sign_in(browser, "an.nguyen@example.vn")
    response = browser.post("/sign-out")
    assert response.status_code == 400 and "This form has expired" in text(response)
    assert browser.get("/my-data").status_code == 200
    [row] = sessions()
    assert row.ended_at is None


def test_signing_out_one_browser_leaves_the_other_signed_in(app, customer):
    laptop, phone = english(app.test_client()), english(app.test_client())
    sign_in(laptop, "an.nguyen@example.vn")
    sign_in(phone, "an.nguyen@example.vn")
    assert sign_out(laptop).status_code == 303
    assert_sent_to_sign_in(laptop.get("/my-data"))
    assert phone.get("/my-data").status_code == 200
    first, second = sessions()
    assert first.end_reason == "signed_out" and second.ended_at is None
    assert first.customer_id == second.customer_id == customer.id


def test_sign_out_when_already_anonymous_is_harmless(browser):
    token = CSRF_FIELD.search(text(browser.get("/sign-in"))).group(1)
    response = browser.post("/sign-out", data={"csrf_token": token})
    assert response.status_code == 303 and response.headers["Location"] == "/sign-in"
    assert sessions() == []


def test_idle_timeout_ends_the_session(browser, customer, clock):
    sign_in(browser, "an.nguyen@example.vn")
    for _ in range(3):  # activity within the idle limit keeps the session alive
        clock.advance(minutes=29)
        assert browser.get("/my-data").status_code == 200
    [row] = sessions()
    assert row.ended_at is None and row.last_seen_at == clock.now()

    clock.advance(minutes=31)
    assert_sent_to_sign_in(browser.get("/my-data"))
    [row] = sessions()
    assert row.end_reason == "idle" and row.ended_at == clock.now()

    # Coming back later does not revive it.
    clock.advance(minutes=1)
    assert_sent_to_sign_in(browser.get("/my-data"))
    [row] = sessions()
    assert row.end_reason == "idle" and row.ended_at == clock.now() - timedelta(minutes=1)


def test_idle_timeout_at_exactly_thirty_minutes(browser, customer, clock):
    sign_in(browser, "an.nguyen@example.vn")
    clock.advance(minutes=30)
    assert_sent_to_sign_in(browser.get("/my-data"))
    assert sessions()[0].end_reason == "idle"


def test_absolute_timeout_ends_an_active_session_after_twelve_hours(browser, customer, clock):
    sign_in(browser, "an.nguyen@example.vn")
    started = clock.now()
    for _ in range(35):  # every 20 minutes up to 11 h 40 min
        clock.advance(minutes=20)
        assert browser.get("/my-data").status_code == 200
    assert clock.now() - started == timedelta(hours=11, minutes=40)
    [row] = sessions()
    assert row.ended_at is None

    clock.advance(minutes=20)  # 12 h after sign-in, though active 20 minutes ago
    assert_sent_to_sign_in(browser.get("/my-data"))
    [row] = sessions()
    assert row.end_reason == "expired" and row.ended_at == started + timedelta(hours=12)


def test_signing_in_again_after_a_timeout_starts_a_new_session(browser, customer, clock):
    sign_in(browser, "an.nguyen@example.vn")
    clock.advance(minutes=45)
    assert_sent_to_sign_in(browser.get("/my-data"))
    sign_in(browser, "an.nguyen@example.vn")
    assert browser.get("/my-data").status_code == 200
    old, new = sessions()
    assert old.end_reason == "idle" and new.ended_at is None and new.created_at == clock.now()


def test_a_session_shows_only_its_own_customer(app, customer):
    make_customer(email="binh.tran@example.vn", name="Trần Thị Bình", phone="0912 765 432",
                  address="5 Nguyễn Huệ, Quận 1")
    an, binh = english(app.test_client()), english(app.test_client())
    sign_in(an, "an.nguyen@example.vn")
    sign_in(binh, "binh.tran@example.vn")
    an_page, binh_page = text(an.get("/my-data")), text(binh.get("/my-data"))
    assert "Nguyễn Văn An" in an_page and "Trần Thị Bình" not in an_page and "0912 765 432" not in an_page
    assert "Trần Thị Bình" in binh_page and "Nguyễn Văn An" not in binh_page and "12 Lê Lợi" not in binh_page


def test_csrf_token_from_before_sign_in_is_refused_after_it(browser, customer):
    """Sign-in starts a new session: a form token issued to the anonymous session no longer counts."""
    old_token = CSRF_FIELD.search(text(browser.get("/sign-in"))).group(1)
    sign_in(browser, "an.nguyen@example.vn")
    response = browser.post("/sign-out", data={"csrf_token": old_token})
    assert response.status_code == 400 and "This form has expired" in text(response)
    assert browser.get("/my-data").status_code == 200
    assert sessions()[0].ended_at is None


def test_signed_in_customer_asking_for_sign_in_goes_to_the_page_asked_for(client, customer):
    sign_in(client, "an.nguyen@example.vn")
    response = client.get("/sign-in?next=/requests/")
    assert response.status_code == 302 and response.headers["Location"] == "/requests/"
    offsite = client.get("/sign-in?next=https://evil.example/")
    assert offsite.headers["Location"] == "/my-data"


def test_the_session_cookie_is_checked_against_the_secret_keys_configured_now(app, client):
    """The cookie's serializer is kept between requests, but never past a change of keys: a cookie
    signed with a key that is gone signs nobody in; named as a fallback, the old key still works."""
    make_customer()
    sign_in(client, "an.nguyen@example.vn")
    assert client.get("/my-data").status_code == 200
    old_key = app.config["SECRET_KEY"]
    app.config["SECRET_KEY"] = "another-secret-key-0123456789abcdef-0123456789"
    assert client.get("/my-data").status_code == 302
    app.config["SECRET_KEY_FALLBACKS"] = [old_key]
    assert client.get("/my-data").status_code == 200
