"""Customer sign-in by e-mailed link and code, driven through HTTP and the real database.

Pages are read in English (the visitor picks it with the language switch) so the assertions do not
depend on the state of the Vietnamese catalogue.
"""

from __future__ import annotations

import re
import threading
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import render_template_string
from flask_babel import force_locale, gettext
from sqlalchemy import func, select

from portal.account.models import DataChange
from portal.audit.models import AuditRecord
from portal.auth import services
from portal.auth.models import CustomerSession
from portal.db import db
from portal.email_links import EmailLink
from portal.outbox.models import OutboxMessage
from tests.factories import make_customer
from tests.helpers import (
    CODE_PATTERN,
    csrf_token,
    english,
    link_and_code,
    outbox,
    request_link,
)
from tests.helpers import page_text as text

CSRF_FIELD = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
SIGNIN_COOKIES = (("kn_session", "/"), ("kn_signin_nonce", "/sign-in"), ("kn_signin_link", "/sign-in"))

LINK_GONE = "This link no longer works"
CODE_PAGE = "Enter your code"
CONTINUE_PAGE = "Continue signing in"
INVALID_ADDRESS = "This is not a valid e-mail address. Check it and try again."
EMPTY_ADDRESS = "Enter your e-mail address."
FORM_EXPIRED = "This form has expired"
ADDRESS_LIMIT = "Too many sign-in links were asked for this address. Please wait an hour and try again."
CLIENT_LIMIT = "Too many attempts from your connection."


# --- helpers ---------------------------------------------------------------------------------------


def new_browser(app, remote_addr: str | None = None):
    client = app.test_client()
    if remote_addr:
        client.environ_base["REMOTE_ADDR"] = remote_addr
    return english(client)


@pytest.fixture
def browser(client):
    return english(client)


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def all_links() -> list[EmailLink]:
    db.session.expire_all()
    return list(db.session.scalars(select(EmailLink).order_by(EmailLink.id)))


def fresh(link: EmailLink) -> EmailLink:
    db.session.expire_all()
    return db.session.get(EmailLink, link.id)


def sessions() -> list[CustomerSession]:
    db.session.expire_all()
    return list(db.session.scalars(select(CustomerSession).order_by(CustomerSession.id)))


def form_token(client, path: str = "/sign-in", **kwargs) -> str:
    """The CSRF token of this browser's session, read from a form on ``path``."""
    return CSRF_FIELD.search(text(client.get(path, **kwargs))).group(1)


def ask(client, email: str, next_path: str = "", **kwargs):
    """POST the sign-in form with a valid CSRF token; extra kwargs go to both requests."""
    token = form_token(client, "/sign-in", **kwargs)
    return client.post("/sign-in", data={"email": email, "csrf_token": token, "next": next_path}, **kwargs)


def ask_and_read(client, email: str, next_path: str = "") -> tuple[str, str, EmailLink]:
    response = request_link(client, email, next_path)
    assert response.status_code == 303, text(response)
    path, code = link_and_code(outbox()[-1])
    return path, code, all_links()[-1]


def open_link(client, path: str):
    """Follow the e-mailed link: it must move the token into a cookie and redirect to a clean URL."""
    response = client.get(path)
    assert response.status_code == 303
    assert response.headers["Location"] == "/sign-in/continue"
    return client.get("/sign-in/continue")


def press_continue(client):
    token = CSRF_FIELD.search(text(client.get("/sign-in/continue"))).group(1)
    return client.post("/sign-in/continue", data={"csrf_token": token})


def type_code(client, code: str):
    token = CSRF_FIELD.search(text(client.get("/sign-in/continue"))).group(1)
    return client.post("/sign-in/code", data={"csrf_token": token, "code": code})


def assert_signed_in(client, name: str = "Nguyễn Văn An") -> None:
    response = client.get("/my-data")
    assert response.status_code == 200
    assert name in text(response)


def assert_anonymous(client) -> None:
    response = client.get("/my-data")
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/sign-in"


def assert_link_gone(response) -> None:
    assert response.status_code == 410
    assert LINK_GONE in text(response)
    assert "Ask for a new link" in text(response)


def copy_cookies(source, target) -> None:
    """Make ``target`` the same browser as ``source``: same session, nonce and link cookies."""
    for name, path in SIGNIN_COOKIES:
        cookie = source.get_cookie(name, path=path)
        if cookie is not None:
            target.set_cookie(name, cookie.value, path=path)


def run_together(count_: int, work) -> list:
    """Run ``work(index, barrier)`` in ``count_`` threads that start their critical step together."""
    barrier = threading.Barrier(count_, timeout=30)
    results: list = [None] * count_
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            results[index] = work(index, barrier)
        except BaseException as error:  # re-raised in the test thread below
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count_)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a racing thread hung"
    if errors:
        raise errors[0]
    return results


def other_code(code: str) -> str:
    """A well-formed code that is certainly not ``code``."""
    return "2222-2222" if code != "2222-2222" else "3333-3333"


@pytest.fixture
def custom_app(make_app):
    """Build an app with overridden settings (its own context, database and rate-limit storage)."""
    return make_app


# --- 1. happy path ---------------------------------------------------------------------------------


def test_link_and_continue_sign_in_shows_my_data(app, browser, clock):
    customer = make_customer(email="An.Nguyen@Example.vn")
    db.session.add(DataChange(customer=customer, actor_kind="staff", actor_name="Trần Thị Bình", field="phone",
                              old_value="0903 000 000", new_value="0903 123 456",
                              changed_at=clock.now() - timedelta(days=3)))
    db.session.commit()

    response = request_link(browser, "  an.nguyen@EXAMPLE.VN ")
    assert response.status_code == 303
    assert response.headers["Location"] == "/sign-in/sent"
    nonce = browser.get_cookie("kn_signin_nonce", path="/sign-in")
    assert nonce is not None and nonce.http_only and nonce.same_site == "Lax"

    # One e-mail, to the address as stored (not as typed), with a link and an 8-character code.
    messages = outbox()
    assert len(messages) == 1
    mail = messages[0]
    assert mail.recipient == "An.Nguyen@Example.vn"
    assert mail.purpose == "sign_in_link"
    assert "Nguyễn Văn An" in mail.body_text
    path, code = link_and_code(mail)
    assert re.fullmatch(r"[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}", code)
    assert f"http://localhost{path}" in mail.body_text
    assert f"http://localhost{path}" in mail.body_html and code in mail.body_html
    token = path.rsplit("/", 1)[1]
    assert len(token) >= 43  # 32 random bytes, URL-safe base64
    assert token not in mail.subject

    # The database holds hashes only: neither the token, the code nor the nonce appear in the row.
    link = all_links()[0]
    stored = " ".join(str(getattr(link, column.key)) for column in EmailLink.__table__.columns)
    for secret in (token, code, code.replace("-", ""), nonce.value):
        assert secret not in stored
    assert link.customer_id == customer.id and link.email == "An.Nguyen@Example.vn"
    assert link.used_at is None and link.voided_at is None and link.wrong_code_count == 0
    assert link.expires_at == clock.now() + timedelta(minutes=10)

    sent_page = browser.get("/sign-in/sent")
    assert "Check your e-mail" in text(sent_page)

    # Opening the link moves the token into an HttpOnly cookie and leaves a clean URL.
    response = browser.get(path)
    assert response.status_code == 303
    assert response.headers["Location"] == "/sign-in/continue"
    assert token not in response.headers["Location"]
    assert response.headers["Referrer-Policy"] == "no-referrer"
    link_cookie = browser.get_cookie("kn_signin_link", path="/sign-in")
    assert link_cookie.value == token and link_cookie.http_only and link_cookie.same_site == "Lax"
    set_cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("kn_signin_link="))
    assert "HttpOnly" in set_cookie and "Path=/sign-in" in set_cookie

    page = browser.get("/sign-in/continue")
    assert page.status_code == 200
    assert CONTINUE_PAGE in text(page) and token not in text(page)
    assert fresh(link).used_at is None  # showing the page used up nothing

    session_before = browser.get_cookie("kn_session").value
    response = press_continue(browser)
    assert response.status_code == 303
    assert response.headers["Location"] == "/my-data"
    session_after = browser.get_cookie("kn_session").value
    assert session_after != session_before
    assert browser.get_cookie("kn_signin_link", path="/sign-in") is None
    assert browser.get_cookie("kn_signin_nonce", path="/sign-in") is None
    assert fresh(link).used_at == clock.now()
    [row] = sessions()
    assert row.customer_id == customer.id and row.ended_at is None and row.email == "An.Nguyen@Example.vn"

    # The session cookie from before sign-in is not signed in: the session was rotated.
    replay = new_browser(app)
    replay.set_cookie("kn_session", session_before)
    assert_anonymous(replay)

    page = text(browser.get("/my-data"))
    order = customer.orders[0]
    with app.test_request_context(), force_locale("en"):  # the date as the page's own filter writes it
        warranty_until = render_template_string("{{ day|local_date }}", day=order.warranty_ends_on)
    assert str(order.warranty_ends_on.year) in warranty_until
    for expected in (
        "Nguyễn Văn An", "Signed in as An.Nguyen@Example.vn",
        "An.Nguyen@Example.vn", "0903 123 456", "12 Lê Lợi, Quận 1, TP. Hồ Chí Minh",
        "Source: Service-request web form", "Source: By phone",
        order.reference, "Camera IP 4MP", warranty_until,
        "Repair, maintenance and warranty contact", "How: Web form", "form-1001",
        "Promotion of our products and services", "Not given", "How: Recorded phone call", "call-7.mp3",
        "History of changes", "Our staff (Trần Thị Bình)", "0903 000 000",
    ):
        assert expected in page, expected
    actions = set(db.session.scalars(select(AuditRecord.action)))
    assert {"sign_in.link_requested", "sign_in.succeeded"} <= actions


def test_signed_in_visitor_is_sent_from_sign_in_to_my_data(browser, customer):
    path, _code, _link = ask_and_read(browser, customer.contact_points[0].value)
    open_link(browser, path)
    press_continue(browser)
    response = browser.get("/sign-in")
    assert response.status_code == 302 and response.headers["Location"] == "/my-data"


# --- 2. code path (another device) -----------------------------------------------------------------


@pytest.mark.parametrize("typed", [
    pytest.param(lambda code: code, id="as-printed"),
    pytest.param(lambda code: code.lower(), id="lower-case"),
    pytest.param(lambda code: code.replace("-", ""), id="no-dash"),
    pytest.param(lambda code: " " + code.lower().replace("-", " ") + " ", id="spaces-lower"),
])
def test_code_signs_in_on_another_device(app, browser, customer, typed):
    path, code, link = ask_and_read(browser, "an.nguyen@example.vn")

    phone = new_browser(app)  # no nonce cookie: another device
    page = open_link(phone, path)
    assert page.status_code == 200
    assert CODE_PAGE in text(page) and CONTINUE_PAGE not in text(page)
    assert 'name="code"' in text(page)
    assert fresh(link).used_at is None

    response = type_code(phone, typed(code))
    assert response.status_code == 303 and response.headers["Location"] == "/my-data"
    assert_signed_in(phone)
    assert fresh(link).used_at is not None and fresh(link).wrong_code_count == 0
    assert_anonymous(browser)  # the browser that asked is not signed in by the other device


def test_code_from_another_link_is_wrong(app, browser, customer):
    make_customer(email="binh.tran@example.vn", name="Trần Thị Bình")
    path_a, _code_a, link_a = ask_and_read(browser, "an.nguyen@example.vn")
    _path_b, code_b, link_b = ask_and_read(new_browser(app), "binh.tran@example.vn")

    phone = new_browser(app)
    open_link(phone, path_a)
    response = type_code(phone, code_b)
    assert response.status_code == 400
    assert "That code is not right. 4 attempts left." in text(response)
    assert fresh(link_a).wrong_code_count == 1 and fresh(link_a).used_at is None
    assert fresh(link_b).used_at is None
    assert count(CustomerSession) == 0


@pytest.mark.parametrize(("typed", "message"), [
    ("", "Enter the code from the e-mail."),
    ("ABC", "The code has 8 letters and digits, like ABCD-2345."),
    ("ABCD-EFGH-JKLM", "The code has 8 letters and digits, like ABCD-2345."),
    ("A" * 5000, "The code has 8 letters and digits, like ABCD-2345."),
])
def test_malformed_code_is_explained_and_not_counted(app, browser, customer, typed, message):
    path, _code, link = ask_and_read(browser, "an.nguyen@example.vn")
    phone = new_browser(app)
    open_link(phone, path)
    response = type_code(phone, typed)
    assert response.status_code == 400
    assert message in text(response)
    assert fresh(link).wrong_code_count == 0 and fresh(link).used_at is None and fresh(link).voided_at is None
    assert count(CustomerSession) == 0


# --- 3. hostile tokens -----------------------------------------------------------------------------


def _alter(path: str) -> str:
    token = path.rsplit("/", 1)[1]
    changed = ("B" if token[5] == "A" else "A").join((token[:5], token[6:]))
    return "/sign-in/link/" + changed


@pytest.mark.parametrize("make_path", [
    pytest.param(_alter, id="one-char-changed"),
    pytest.param(lambda path: path[:-1], id="last-char-missing"),
    pytest.param(lambda path: path[:30], id="truncated"),
    pytest.param(lambda path: path + "A", id="char-appended"),
    pytest.param(lambda path: path + "A" * 200, id="very-long"),
    pytest.param(lambda path: "/sign-in/link/" + path.rsplit("/", 1)[1].swapcase(), id="case-changed"),
    pytest.param(lambda path: "/sign-in/link/%00%0d%0aSet-Cookie:%20x=1", id="control-chars"),
    pytest.param(lambda path: "/sign-in/link/" + "%E1%BA%A1" * 10, id="non-ascii"),
])
def test_altered_token_never_signs_in(browser, customer, make_path):
    path, _code, link = ask_and_read(browser, "an.nguyen@example.vn")
    bad = make_path(path)
    response = browser.get(bad)
    assert response.status_code == 303 and response.headers["Location"] == "/sign-in/continue"
    assert_link_gone(browser.get("/sign-in/continue"))
    token = form_token(browser)
    assert_link_gone(browser.post("/sign-in/continue", data={"csrf_token": token}))
    assert_link_gone(browser.post("/sign-in/code", data={"csrf_token": token, "code": "ABCD-EFGH"}))
    assert_anonymous(browser)
    assert fresh(link).used_at is None and count(CustomerSession) == 0
    # The real link still works afterwards.
    open_link(browser, path)
    assert press_continue(browser).headers["Location"] == "/my-data"


def test_no_link_cookie_at_all_is_a_clear_410(browser):
    assert_link_gone(browser.get("/sign-in/continue"))


def test_expired_link_is_refused(app, browser, customer, clock):
    path, code, link = ask_and_read(browser, "an.nguyen@example.vn")
    clock.advance(minutes=11)
    assert_link_gone(open_link(browser, path))
    browser.get(path)
    token = form_token(browser)
    assert_link_gone(browser.post("/sign-in/continue", data={"csrf_token": token}))
    phone = new_browser(app)
    assert_link_gone(open_link(phone, path))
    phone.get(path)
    assert_link_gone(phone.post("/sign-in/code", data={"csrf_token": form_token(phone), "code": code}))
    assert_anonymous(browser)
    assert_anonymous(phone)
    assert fresh(link).used_at is None and count(CustomerSession) == 0


def test_link_expires_while_continue_page_is_open(browser, customer, clock):
    path, _code, link = ask_and_read(browser, "an.nguyen@example.vn")
    token = CSRF_FIELD.search(text(open_link(browser, path))).group(1)
    clock.advance(minutes=10)  # exactly the lifetime: no longer valid
    assert_link_gone(browser.post("/sign-in/continue", data={"csrf_token": token}))
    assert fresh(link).used_at is None and count(CustomerSession) == 0


def test_used_link_is_refused_everywhere(app, browser, customer):
    path, code, link = ask_and_read(browser, "an.nguyen@example.vn")
    open_link(browser, path)
    assert press_continue(browser).status_code == 303
    used_at = fresh(link).used_at

    # Same browser again, another browser, and the code on another device: all 410.
    assert_link_gone(open_link(browser, path))
    other = new_browser(app)
    assert_link_gone(open_link(other, path))
    other.get(path)
    token = form_token(other)
    assert_link_gone(other.post("/sign-in/code", data={"csrf_token": token, "code": code}))
    assert_anonymous(other)
    assert fresh(link).used_at == used_at and fresh(link).wrong_code_count == 0
    assert len(sessions()) == 1


def test_another_customers_link_in_my_browser_never_signs_me_in_as_them(app, browser, customer):
    make_customer(email="binh.tran@example.vn", name="Trần Thị Bình")
    path_a, _code_a, link_a = ask_and_read(browser, "an.nguyen@example.vn")
    browser_b = new_browser(app)
    path_b, _code_b, link_b = ask_and_read(browser_b, "binh.tran@example.vn")

    # B's link in A's browser (A holds A's nonce): no Continue; pressing it anyway does nothing.
    page = open_link(browser, path_b)
    assert page.status_code == 200 and CODE_PAGE in text(page) and CONTINUE_PAGE not in text(page)
    token = CSRF_FIELD.search(text(page)).group(1)
    response = browser.post("/sign-in/continue", data={"csrf_token": token})
    assert response.status_code == 200 and CODE_PAGE in text(response)
    assert_anonymous(browser)
    assert fresh(link_b).used_at is None and count(CustomerSession) == 0

    # Once B has used the link, it is gone for A's browser too.
    open_link(browser_b, path_b)
    assert press_continue(browser_b).status_code == 303
    assert_link_gone(open_link(browser, path_b))
    assert_anonymous(browser)

    # A's own link still signs A in as A, not as B.
    open_link(browser, path_a)
    assert press_continue(browser).status_code == 303
    assert_signed_in(browser, "Nguyễn Văn An")
    assert "Trần Thị Bình" not in text(browser.get("/my-data"))
    by_customer = {row.customer_id for row in sessions()}
    assert by_customer == {link_a.customer_id, link_b.customer_id}


# --- 4. mail scanners ------------------------------------------------------------------------------


def test_mail_scanner_uses_up_nothing(app, browser, customer):
    path, _code, link = ask_and_read(browser, "an.nguyen@example.vn")

    scanner = new_browser(app)
    head = scanner.head(path)
    assert head.status_code == 303 and head.get_data() == b""
    assert scanner.head("/sign-in/continue").status_code == 200
    page = scanner.get(path, follow_redirects=True)
    assert page.status_code == 200 and CODE_PAGE in text(page)
    # The scanner "presses the button" with a valid CSRF token from its own session.
    token = CSRF_FIELD.search(text(page)).group(1)
    for _ in range(3):
        pressed = scanner.post("/sign-in/continue", data={"csrf_token": token})
        assert pressed.status_code == 200 and CODE_PAGE in text(pressed)
    assert_anonymous(scanner)
    assert fresh(link).used_at is None and fresh(link).voided_at is None and fresh(link).wrong_code_count == 0
    assert count(CustomerSession) == 0

    # The person then opens the link in the browser that asked, and signs in.
    open_link(browser, path)
    assert press_continue(browser).headers["Location"] == "/my-data"
    assert_signed_in(browser)


def test_get_and_head_never_use_the_link_even_in_the_right_browser(browser, customer):
    path, _code, link = ask_and_read(browser, "an.nguyen@example.vn")
    for _ in range(3):
        browser.head(path)
        browser.head("/sign-in/continue")
        assert CONTINUE_PAGE in text(open_link(browser, path))
    assert fresh(link).used_at is None and count(CustomerSession) == 0
    assert_anonymous(browser)


# --- 5. wrong codes --------------------------------------------------------------------------------


def test_five_wrong_codes_void_the_link(app, browser, customer):
    path, code, link = ask_and_read(browser, "an.nguyen@example.vn")
    wrong = other_code(code)
    phone = new_browser(app)
    open_link(phone, path)

    for attempt in range(1, 5):
        response = type_code(phone, wrong)
        assert response.status_code == 400
        left = 5 - attempt
        assert f"That code is not right. {left} attempt{'s' if left > 1 else ''} left." in text(response)
        assert fresh(link).wrong_code_count == attempt and fresh(link).voided_at is None

    fifth = type_code(phone, wrong)
    assert_link_gone(fifth)
    assert "A wrong code was typed too many times" in text(fifth)
    assert fresh(link).wrong_code_count == 5 and fresh(link).voided_at is not None

    # A sixth try, even with the right code and the link cookie put back, is refused.
    assert_link_gone(open_link(phone, path))
    phone.get(path)
    token = form_token(phone)
    assert_link_gone(phone.post("/sign-in/code", data={"csrf_token": token, "code": code}))
    # ... and the browser that asked cannot Continue with it either.
    assert_link_gone(open_link(browser, path))
    assert_anonymous(phone)
    assert_anonymous(browser)
    assert fresh(link).used_at is None and fresh(link).wrong_code_count == 5 and count(CustomerSession) == 0


def test_right_code_after_four_wrong_ones_signs_in(app, browser, customer):
    path, code, link = ask_and_read(browser, "an.nguyen@example.vn")
    phone = new_browser(app)
    open_link(phone, path)
    for _ in range(4):
        assert type_code(phone, other_code(code)).status_code == 400
    assert type_code(phone, code).headers["Location"] == "/my-data"
    assert fresh(link).wrong_code_count == 4 and fresh(link).used_at is not None
    assert_signed_in(phone)


# --- 6. newer link voids older ---------------------------------------------------------------------


def test_newer_link_voids_older_ones(app, browser, customer, clock):
    make_customer(email="binh.tran@example.vn", name="Trần Thị Bình")
    old_path, old_code, old_link = ask_and_read(browser, "an.nguyen@example.vn")
    other_path, _other_code, other_link = ask_and_read(new_browser(app), "binh.tran@example.vn")
    clock.advance(minutes=1)
    new_path, _new_code, new_link = ask_and_read(browser, "AN.NGUYEN@example.vn")

    assert fresh(old_link).voided_at == clock.now()
    assert fresh(new_link).voided_at is None
    assert fresh(other_link).voided_at is None  # another address is not affected
    assert_link_gone(open_link(browser, old_path))
    phone = new_browser(app)
    phone.get(old_path)
    token = form_token(phone)
    assert_link_gone(phone.post("/sign-in/code", data={"csrf_token": token, "code": old_code}))
    assert count(CustomerSession) == 0

    open_link(browser, new_path)
    assert press_continue(browser).headers["Location"] == "/my-data"
    assert fresh(old_link).used_at is None and fresh(new_link).used_at is not None
    assert fresh(other_link).voided_at is None and fresh(other_link).used_at is None
    assert other_path not in (old_path, new_path)


# --- 7. parallel use of one link -------------------------------------------------------------------


def _race_same_browser(app, browser, post_data, path="/sign-in/continue", clients: int = 2):
    """Several copies of one browser POST at the same moment."""
    copies = []
    for _ in range(clients):
        copy = app.test_client()
        copy_cookies(browser, copy)
        copies.append(copy)

    def work(index, barrier):
        barrier.wait()
        response = copies[index].post(path, data=post_data)
        return response.status_code, response.headers.get("Location")

    return run_together(clients, work), copies


@pytest.mark.parametrize("round_", range(3))
def test_parallel_continue_signs_in_once(app, browser, customer, round_):
    path, _code, link = ask_and_read(browser, "an.nguyen@example.vn")
    token = CSRF_FIELD.search(text(open_link(browser, path))).group(1)
    results, copies = _race_same_browser(app, browser, {"csrf_token": token}, clients=3)
    statuses = sorted(status for status, _location in results)
    assert statuses == [303, 410, 410], results
    assert [location for status, location in results if status == 303] == ["/my-data"]
    assert len(sessions()) == 1 and fresh(link).used_at is not None
    signed_in = [copy for copy, (status, _) in zip(copies, results, strict=True) if status == 303]
    assert_signed_in(signed_in[0])


@pytest.mark.parametrize("round_", range(3))
def test_parallel_code_signs_in_once(app, browser, customer, round_):
    path, code, link = ask_and_read(browser, "an.nguyen@example.vn")
    phone = new_browser(app)
    token = CSRF_FIELD.search(text(open_link(phone, path))).group(1)
    results, _copies = _race_same_browser(app, phone, {"csrf_token": token, "code": code},
                                          path="/sign-in/code", clients=3)
    assert sorted(status for status, _location in results) == [303, 410, 410], results
    assert len(sessions()) == 1
    assert fresh(link).used_at is not None and fresh(link).wrong_code_count == 0


def test_consume_from_many_threads_succeeds_once(app, customer, clock):
    issued = services.issue_link("an.nguyen@example.vn", None, "en", clock.now())
    db.session.commit()
    link_id = issued.link.id

    def work(_index, barrier):
        with app.app_context():
            link = db.session.get(EmailLink, link_id)
            barrier.wait()
            won = services.consume(link, clock.now())
            db.session.commit()
            return won

    results = run_together(8, work)
    assert results.count(True) == 1 and results.count(False) == 7
    assert fresh(issued.link).used_at == clock.now()


def test_parallel_wrong_codes_are_counted_before_they_are_compared(app, customer, clock, monkeypatch):
    """At most five wrong codes are ever compared, however many guesses arrive at once."""
    issued = services.issue_link("an.nguyen@example.vn", None, "en", clock.now())
    db.session.commit()
    right = CODE_PATTERN.search(outbox()[-1].body_text).group(1)
    compared = []
    lock = threading.Lock()
    real_normalize = services.normalize_code

    def counting_normalize(raw):
        with lock:
            compared.append(raw)
        return real_normalize(raw)

    monkeypatch.setattr(services, "normalize_code", counting_normalize)

    def work(_index, barrier):
        with app.app_context():
            link = db.session.get(EmailLink, issued.link.id)
            barrier.wait()
            result = services.try_code(link, other_code(right), clock.now())
            db.session.commit()
            return result

    results = run_together(12, work)
    assert len(compared) == 5
    assert results.count(services.CodeResult.WRONG) == 4
    assert results.count(services.CodeResult.LOCKED) == 1
    assert results.count(services.CodeResult.UNUSABLE) == 7
    link = fresh(issued.link)
    assert link.wrong_code_count == 5 and link.voided_at is not None and link.used_at is None
    assert services.try_code(link, right, clock.now()) is services.CodeResult.UNUSABLE
    assert fresh(link).used_at is None


# --- 8. CSRF, Host header, next= -------------------------------------------------------------------


@pytest.mark.parametrize(("path", "data"), [
    ("/sign-in", {"email": "an.nguyen@example.vn"}),
    ("/sign-in", {"email": "an.nguyen@example.vn", "csrf_token": "forged"}),
    ("/sign-in/continue", {}),
    ("/sign-in/code", {"code": "ABCD-EFGH"}),
    ("/sign-out", {}),
    ("/language", {"locale": "vi"}),
])
def test_post_without_csrf_token_is_refused_and_changes_nothing(browser, customer, path, data):
    if path != "/sign-in":
        link_path, _code, _link = ask_and_read(browser, "an.nguyen@example.vn")
        open_link(browser, link_path)
    links_before, mails_before = count(EmailLink), count(OutboxMessage)
    response = browser.post(path, data=data)
    assert response.status_code == 400
    assert FORM_EXPIRED in text(response) and "Nothing was changed." in text(response)
    assert count(EmailLink) == links_before and count(OutboxMessage) == mails_before
    assert count(CustomerSession) == 0
    assert all(link.used_at is None and link.wrong_code_count == 0 for link in all_links())
    assert '<html lang="en">' in text(browser.get("/"))  # the language chosen before is kept


def test_csrf_token_of_another_browser_is_refused(app, browser, customer):
    other = new_browser(app)
    foreign = csrf_token(other, "/sign-in")
    response = browser.post("/sign-in", data={"email": "an.nguyen@example.vn", "csrf_token": foreign})
    assert response.status_code == 400 and FORM_EXPIRED in text(response)
    assert count(EmailLink) == 0 and count(OutboxMessage) == 0


@pytest.mark.parametrize("host", ["evil.example", "evil.example:443", "localhost.evil.example",
                                  "evil.example#localhost"])
@pytest.mark.parametrize(("method", "path"), [("GET", "/"), ("GET", "/sign-in"), ("POST", "/sign-in"),
                                              ("GET", "/sign-in/link/abc"), ("GET", "/my-data")])
def test_forged_host_header_is_refused(client, customer, host, method, path):
    response = client.open(path, method=method, headers={"Host": host},
                           data={"email": "an.nguyen@example.vn"} if method == "POST" else None)
    assert response.status_code == 400
    page = text(response)
    # A browser sends no cookies to a forged host, so the page is in the default language.
    with force_locale("vi"):
        message = str(gettext("The request could not be understood. Nothing was changed."))
    assert f'role="alert">{message}<' in page
    assert "evil.example" not in page and "Location" not in response.headers
    assert count(EmailLink) == 0 and count(OutboxMessage) == 0


@pytest.mark.parametrize("headers", [
    {"X-Forwarded-Host": "evil.example"},
    # Behind a trusted proxy this is an HTTPS request: the browser's same-origin Referer comes along.
    {"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9",
     "Referer": "https://127.0.0.1/sign-in"},
    {"Forwarded": "host=evil.example;proto=https"},
])
@pytest.mark.parametrize("trusted_proxies", [0, 1])
def test_email_links_always_use_the_base_url(custom_app, headers, trusted_proxies):
    app = custom_app(TRUSTED_PROXIES=trusted_proxies)
    make_customer()
    browser = new_browser(app)
    response = ask(browser, "an.nguyen@example.vn", headers=headers, base_url="http://127.0.0.1")
    assert response.status_code == 303
    unknown = ask(browser, "nobody@example.vn", headers=headers, base_url="http://127.0.0.1")
    assert unknown.status_code == 303
    for mail in outbox():
        links = re.findall(r"https?://[^\s\"<>]+/sign-in/link/", mail.body_text + mail.body_html)
        assert links and set(links) == {"http://localhost/sign-in/link/"}
        assert "evil.example" not in mail.body_text + mail.body_html
        assert "127.0.0.1" not in mail.body_text


@pytest.mark.parametrize("next_path", [
    "https://evil.example",
    "https://evil.example/my-data",
    "//evil.example",
    "//evil.example/my-data",
    "/\\evil.example",
    "\\/evil.example",
    "/\\/evil.example",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(document.cookie)",
    "/\r\nLocation: https://evil.example",
    "/\tevil",
    " //evil.example",
    "http:/evil.example",
    "/" + "a" * 600,
])
def test_off_site_next_lands_on_my_data(browser, customer, next_path):
    path, _code, link = ask_and_read(browser, "an.nguyen@example.vn", next_path=next_path)
    assert link.next_path is None or link.next_path.startswith("/")
    open_link(browser, path)
    response = press_continue(browser)
    assert response.status_code == 303 and response.headers["Location"] == "/my-data"
    assert_signed_in(browser)


@pytest.mark.parametrize("next_path", ["/%0d%0aSet-Cookie:x=1", "/%2F%2Fevil.example", "/.//evil.example",
                                       "/%5Cevil.example"])
def test_odd_next_paths_stay_on_this_site(browser, customer, next_path):
    """Encoded tricks are paths on this site: kept as they are, never decoded into a header or a host."""
    path, _code, _link = ask_and_read(browser, "an.nguyen@example.vn", next_path=next_path)
    open_link(browser, path)
    response = press_continue(browser)
    assert response.status_code == 303
    location = response.headers["Location"]
    assert location == next_path
    assert urlsplit(location).netloc == "" and not location.startswith(("//", "/\\"))
    assert not any(header.startswith("x=") for header in response.headers.getlist("Set-Cookie"))
    assert_signed_in(browser)


@pytest.mark.parametrize("next_path", ["/my-data?x=1", "/my-data", "/"])
def test_same_site_next_is_honoured(browser, customer, next_path):
    path, _code, _link = ask_and_read(browser, "an.nguyen@example.vn", next_path=next_path)
    open_link(browser, path)
    response = press_continue(browser)
    assert response.status_code == 303 and response.headers["Location"] == next_path


def test_next_from_the_sign_in_redirect_brings_the_customer_back(browser, customer):
    response = browser.get("/my-data?x=1")
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/sign-in" and parse_qs(location.query) == {"next": ["/my-data?x=1"]}
    form = text(browser.get(response.headers["Location"]))
    assert 'name="next" type="hidden" value="/my-data?x=1"' in form
    path, _code, _link = ask_and_read(browser, "an.nguyen@example.vn", next_path="/my-data?x=1")
    open_link(browser, path)
    assert press_continue(browser).headers["Location"] == "/my-data?x=1"


def test_next_is_escaped_in_the_sign_in_form(browser):
    page = text(browser.get("/sign-in", query_string={"next": '"><script>alert(1)</script>'}))
    assert "<script>alert(1)</script>" not in page
    assert "&#34;&gt;&lt;script&gt;" in page or "&quot;&gt;&lt;script&gt;" in page


# --- 9. bad addresses ------------------------------------------------------------------------------


@pytest.mark.parametrize(("address", "message"), [
    ("", EMPTY_ADDRESS),
    ("   ", EMPTY_ADDRESS),
    ("a" * 4990 + "@example.vn", INVALID_ADDRESS),
    ("x" * 5000, INVALID_ADDRESS),
    ("an.nguyen@example.vn\x00", INVALID_ADDRESS),
    ("an.nguyen\x00@example.vn", INVALID_ADDRESS),
    ("an.nguyen@example.vn\r\nBcc: x@y.vn", INVALID_ADDRESS),
    ("a@b.vn\r\nBcc: x@y.vn", INVALID_ADDRESS),
    ("an.nguyen@example.vn\nBcc: x@y.vn", INVALID_ADDRESS),
    ("an.nguyen@example.vn\t", INVALID_ADDRESS),
    ("an.nguyen@example.vn\x7f", INVALID_ADDRESS),
    ("not an address", INVALID_ADDRESS),
    ("an.nguyen", INVALID_ADDRESS),
    ("an.nguyen@", INVALID_ADDRESS),
    ("@example.vn", INVALID_ADDRESS),
    ("an nguyen@example.vn", INVALID_ADDRESS),
    ("an.nguyen@example.vn, x@y.vn", INVALID_ADDRESS),
    ("An <an.nguyen@example.vn>", INVALID_ADDRESS),
    ("an.nguyen@@example.vn", INVALID_ADDRESS),
    ("<script>alert(1)</script>@example.vn", INVALID_ADDRESS),
])
def test_bad_address_is_explained_and_creates_nothing(browser, customer, address, message):
    response = ask(browser, address)
    assert response.status_code == 400
    page = text(response)
    assert message in page
    assert 'aria-invalid="true"' in page
    assert "<script>alert(1)</script>" not in page
    assert count(EmailLink) == 0 and count(OutboxMessage) == 0
    assert browser.get_cookie("kn_signin_nonce", path="/sign-in") is None


def test_missing_email_field_is_explained(browser):
    response = browser.post("/sign-in", data={"csrf_token": csrf_token(browser, "/sign-in")})
    assert response.status_code == 400 and EMPTY_ADDRESS in text(response)
    assert count(EmailLink) == 0 and count(OutboxMessage) == 0


def test_oversized_body_is_refused(browser):
    response = browser.post("/sign-in", data={"csrf_token": csrf_token(browser, "/sign-in"),
                                              "email": "a" * (2 * 1024 * 1024)})
    assert response.status_code == 413
    assert "Nothing was changed." in text(response)
    assert count(EmailLink) == 0 and count(OutboxMessage) == 0


# --- 10. no enumeration ----------------------------------------------------------------------------


def test_known_and_unknown_addresses_get_the_same_answer(app, customer):
    known_browser, unknown_browser = new_browser(app), new_browser(app)
    known = ask(known_browser, "an.nguyen@example.vn")
    unknown = ask(unknown_browser, "nobody@example.vn")
    assert known.status_code == unknown.status_code == 303
    assert known.headers["Location"] == unknown.headers["Location"] == "/sign-in/sent"
    assert known.get_data() == unknown.get_data()
    for each in (known_browser, unknown_browser):
        assert each.get_cookie("kn_signin_nonce", path="/sign-in") is not None
    known_page, unknown_page = known_browser.get("/sign-in/sent"), unknown_browser.get("/sign-in/sent")
    assert known_page.status_code == unknown_page.status_code == 200

    def strip_csrf(page):
        return CSRF_FIELD.sub("", text(page))

    assert strip_csrf(known_page) == strip_csrf(unknown_page)

    links = all_links()
    assert len(links) == 2 and len(outbox()) == 2
    assert [link.customer_id for link in links] == [customer.id, None]
    unknown_mail = outbox("nobody@example.vn")[0]
    assert "We hold no personal data for it." in unknown_mail.body_text
    assert "Nguyễn Văn An" not in unknown_mail.body_text
    path, code = link_and_code(unknown_mail)
    assert path and code
    known_mail = outbox("an.nguyen@example.vn")[0]
    assert "We hold no personal data" not in known_mail.body_text


def test_unknown_address_can_still_sign_in_and_holds_nothing(app, browser, customer):
    path, _code, link = ask_and_read(browser, "Nobody@Example.vn")
    assert link.email == "nobody@example.vn" and link.customer_id is None
    open_link(browser, path)
    assert press_continue(browser).headers["Location"] == "/my-data"
    page = text(browser.get("/my-data"))
    assert "We hold no personal data for this e-mail address." in page
    assert "Nguyễn Văn An" not in page and "0903 123 456" not in page
    [row] = sessions()
    assert row.customer_id is None and row.email == "nobody@example.vn"


# --- 11. rate limits -------------------------------------------------------------------------------


def test_fourth_link_for_one_address_within_an_hour_is_refused(browser, customer):
    for typed in ("an.nguyen@example.vn", "AN.NGUYEN@example.vn", " an.nguyen@example.VN"):
        assert ask(browser, typed).status_code == 303
    assert count(EmailLink) == 3 and count(OutboxMessage) == 3

    response = ask(browser, "An.Nguyen@example.vn")
    assert response.status_code == 429
    assert ADDRESS_LIMIT in text(response)
    assert count(EmailLink) == 3 and count(OutboxMessage) == 3
    assert sum(link.voided_at is None for link in all_links()) == 1  # the third link still works

    other = ask(browser, "nobody@example.vn")
    assert other.status_code == 303
    assert count(EmailLink) == 4 and len(outbox("nobody@example.vn")) == 1


def test_address_limit_is_shared_between_browsers(app, customer):
    for index in range(3):
        assert ask(new_browser(app, f"198.51.100.{index + 1}"), "an.nguyen@example.vn").status_code == 303
    response = ask(new_browser(app, "198.51.100.99"), "an.nguyen@example.vn")
    assert response.status_code == 429 and ADDRESS_LIMIT in text(response)
    assert count(EmailLink) == 3 and count(OutboxMessage) == 3


def test_per_client_limit_shows_the_429_page(custom_app):
    app = custom_app(SIGN_IN_REQUESTS_PER_CLIENT="2 per minute")
    browser = new_browser(app)
    assert ask(browser, "one@example.vn").status_code == 303
    assert ask(browser, "two@example.vn").status_code == 303
    response = ask(browser, "three@example.vn")
    assert response.status_code == 429
    assert CLIENT_LIMIT in text(response) and "Nothing was changed." in text(response)
    assert count(EmailLink) == 2 and count(OutboxMessage) == 2
    assert outbox("three@example.vn") == []
    # Another connection is not affected.
    assert ask(new_browser(app, "198.51.100.7"), "three@example.vn").status_code == 303


def test_code_attempts_are_limited_per_client(custom_app):
    app = custom_app(SIGN_IN_ATTEMPTS_PER_CLIENT="3 per minute", SIGN_IN_MAX_WRONG_CODES=50)
    make_customer()
    browser = new_browser(app)
    path, code, link = ask_and_read(browser, "an.nguyen@example.vn")
    phone = new_browser(app, "198.51.100.20")
    open_link(phone, path)
    for _ in range(3):
        assert type_code(phone, other_code(code)).status_code == 400
    response = type_code(phone, code)
    assert response.status_code == 429 and CLIENT_LIMIT in text(response)
    assert fresh(link).used_at is None and fresh(link).wrong_code_count == 3
    assert count(CustomerSession) == 0


def test_behind_one_trusted_proxy_the_forwarded_client_address_is_used(custom_app):
    app = custom_app(TRUSTED_PROXIES=1, SIGN_IN_REQUESTS_PER_CLIENT="2 per minute")
    browser = new_browser(app, "10.0.0.1")  # the proxy

    def ask_from(forwarded_for: str, address: str):
        return ask(browser, address, headers={"X-Forwarded-For": forwarded_for})

    assert ask_from("203.0.113.5", "one@example.vn").status_code == 303
    assert ask_from("203.0.113.5", "two@example.vn").status_code == 303
    # The client adds its own X-Forwarded-For; the proxy appends the real address, which is what counts.
    refused = ask_from("198.51.100.1, 203.0.113.5", "three@example.vn")
    assert refused.status_code == 429 and CLIENT_LIMIT in text(refused)
    # Another client behind the same proxy is not limited.
    assert ask_from("203.0.113.6", "three@example.vn").status_code == 303
    assert count(EmailLink) == 3 and count(OutboxMessage) == 3
    addresses = list(db.session.scalars(select(AuditRecord.client_address)
                                        .where(AuditRecord.action == "sign_in.link_requested")
                                        .order_by(AuditRecord.id)))
    assert addresses == ["203.0.113.5", "203.0.113.5", "203.0.113.6"]


def test_without_trusted_proxies_a_spoofed_forwarded_for_does_not_escape_the_limit(custom_app):
    app = custom_app(TRUSTED_PROXIES=0, SIGN_IN_REQUESTS_PER_CLIENT="2 per minute")
    browser = new_browser(app, "192.0.2.50")
    for index, address in enumerate(("one@example.vn", "two@example.vn")):
        response = ask(browser, address, headers={"X-Forwarded-For": f"203.0.113.{index}"})
        assert response.status_code == 303
    for index, address in enumerate(("three@example.vn", "four@example.vn")):
        response = ask(browser, address, headers={"X-Forwarded-For": f"198.51.100.{index}",
                                                   "X-Real-IP": f"198.51.100.{index}"})
        assert response.status_code == 429 and CLIENT_LIMIT in text(response)
    assert count(EmailLink) == 2 and count(OutboxMessage) == 2
    addresses = set(db.session.scalars(select(AuditRecord.client_address)
                                       .where(AuditRecord.action == "sign_in.link_requested")))
    assert addresses == {"192.0.2.50"}
