"""A real Chromium through the pages a customer uses: ask for a sign-in link, read the e-mail in the
development mailbox, open the link, see My data, sign out; and the code form on a second device.

The portal runs in a thread of the test process (werkzeug, threaded) on its own port and database,
in development mode so that /dev/mailbox/ shows the e-mail once the outbox has been delivered.

Chromium comes from the system (/usr/bin/chromium, or PORTAL_TEST_CHROMIUM): `playwright install`
cannot download browsers here. Without it the tests are skipped locally, and fail when CI is set:
CI must run them, never skip them.
"""

from __future__ import annotations

import os
import re
import socket
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest
from flask import Flask
from flask_babel import force_locale
from flask_babel import gettext as babel_gettext
from flask_babel import ngettext as babel_ngettext
from werkzeug.serving import make_server

from portal import clock
from portal.account.models import DataChange
from portal.db import db
from portal.enums import ActorKind, ConsentMethod, ContactKind, DataSource, Purpose
from portal.extensions import limiter
from portal.outbox.delivery import deliver_due
from tests.conftest import CODE_PATTERN, _prepare_database, make_customer, make_test_app

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:  # reported by the `browser` fixture: a skip locally, a failure in CI
    expect = sync_playwright = None

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("PORTAL_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
TIMEOUT_MS = 15_000

EMAIL = "an.nguyen@example.vn"
NAME = "Nguyễn Văn An"
PHONE = "0903 123 456"
ADDRESS = "12 Lê Lợi, Quận 1, TP. Hồ Chí Minh"
ORDER = "DH-2026-00042"
OLD_PHONE = "0903 000 111"
STAFF_NAME = "Trần Thị Bình"
# Playwright mangles "/" in a regular expression for a role's name: match the separators loosely.
LINK_NAME = re.compile(r"sign-in.link.[A-Za-z0-9_\-]+$")


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _unavailable(reason: str):
    """Skip on a developer's machine; in CI a browser test that cannot run is a failure."""
    if _in_ci():
        pytest.fail(f"CI is set but the browser tests cannot run: {reason}", pytrace=False)
    pytest.skip(f"browser tests need Chromium and Playwright: {reason}")


@pytest.fixture(scope="module")
def browser():
    """One Chromium for this module (module scope: Playwright's loop must not outlive these tests)."""
    if not os.access(CHROMIUM, os.X_OK):
        _unavailable(f"{CHROMIUM} not found (apt-get install -y chromium)")
    if sync_playwright is None:
        _unavailable("the playwright package is not installed (make install)")
    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class LiveServer:
    app: Flask
    url: str

    def deliver_mail(self) -> int:
        """Run the outbox worker once, as the worker process would; return how many were tried."""
        with self.app.app_context():
            try:
                return deliver_due(clock.now())
            finally:
                db.session.remove()

    def text(self, locale: str, msgid: str, **variables) -> str:
        """The portal's translation of ``msgid`` in ``locale``."""
        with self.app.test_request_context(), force_locale(locale):
            return babel_gettext(msgid, **variables)

    def plural(self, locale: str, singular: str, plural: str, num: int) -> str:
        with self.app.test_request_context(), force_locale(locale):
            return babel_ngettext(singular, plural, num)

    def title(self, locale: str, member) -> str:
        with self.app.test_request_context(), force_locale(locale):
            return str(member.title)

    def date(self, locale: str, value) -> str:
        """A date as the portal shows it to people (its ``local_date`` template filter)."""
        with self.app.test_request_context(), force_locale(locale):
            return self.app.jinja_env.filters["local_date"](value)


@pytest.fixture
def live_server(tmp_path):
    """The portal served over HTTP from a thread, on a port the kernel picked and we hold."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    port = listener.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    app = make_test_app(tmp_path, ENV="development", BASE_URL=url, TRUSTED_HOSTS=["127.0.0.1"],
                        MAIL_TRANSPORT="mailbox", INPROCESS_WORKER=False)
    with app.app_context():
        _prepare_database(app)
        limiter.reset()
        db.session.remove()
    server = make_server("127.0.0.1", port, app, threaded=True, fd=listener.fileno())
    listener.close()  # the server holds its own duplicate of the socket
    thread = threading.Thread(target=server.serve_forever, name="live-portal", daemon=True)
    thread.start()
    try:
        yield LiveServer(app, url)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def customer_data(live_server):
    """A customer with every part of My data filled in, history included."""
    with live_server.app.app_context():
        customer = make_customer(EMAIL, NAME, phone=PHONE, address=ADDRESS, order=ORDER)
        db.session.add(DataChange(customer=customer, actor_kind="staff", actor_name=STAFF_NAME, field="phone",
                                  old_value=OLD_PHONE, new_value=PHONE,
                                  changed_at=datetime.now(timezone.utc) - timedelta(days=3)))
        db.session.commit()
        data = {"warranty_ends_on": customer.orders[0].warranty_ends_on}
        db.session.remove()
    return data


def _new_page(browser, live_server):
    """A fresh browser context (no cookies) and a page in it."""
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(TIMEOUT_MS)
    return context, context.new_page()


@pytest.fixture
def new_page(browser, live_server):
    contexts = []

    def open_page():
        context, page = _new_page(browser, live_server)
        contexts.append(context)
        return page

    yield open_page
    for context in contexts:
        context.close()


def ask_for_link(page, live, locale: str, email: str = EMAIL) -> None:
    """From the home page, ask for a sign-in link in ``locale`` (switching language if needed)."""
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "vi")  # Vietnamese unless chosen otherwise
    if locale != "vi":
        page.get_by_role("button", name="English", exact=True).click()
        expect(page.locator("html")).to_have_attribute("lang", locale)
    page.get_by_role("link", name=live.text(locale, "Sign in with your e-mail address")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(live.text(locale, "Sign in"))
    page.get_by_label(live.text(locale, "Your e-mail address")).fill(email)
    page.get_by_role("button", name=live.text(locale, "Send me a sign-in link")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(live.text(locale, "Check your e-mail"))


def read_newest_email(page, live, locale: str, email: str = EMAIL) -> tuple[str, str]:
    """Deliver the outbox, open the development mailbox in ``page`` and the newest message to
    ``email``; return the sign-in link (absolute URL) and the code, read off the page."""
    assert live.deliver_mail() >= 1
    page.goto("/dev/mailbox/")
    newest = page.get_by_role("listitem").filter(has_text=email).first
    subject = live.text(locale, "Your sign-in link for Khôi Ngô Security")
    expect(newest.get_by_role("link")).to_have_text(subject)
    newest.get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(subject)
    expect(page.locator("dd").filter(has_text="sent")).to_have_count(1)  # delivered by the worker
    link = page.get_by_role("link", name=LINK_NAME)
    href = link.get_attribute("href")
    assert href.startswith(live.url + "/sign-in/link/"), href
    body = page.locator("pre").inner_text()
    assert live.text(locale, "Hello %(name)s,", name=NAME) in body
    code = CODE_PATTERN.search(body)
    assert code, body
    return href, code.group(1)


def check_my_data(page, live, locale: str, warranty_ends_on) -> None:
    """My data shows every part of the record, in ``locale``."""
    t = live.text
    expect(page).to_have_url(live.url + "/my-data")
    expect(page.locator("html")).to_have_attribute("lang", locale)
    expect(page.get_by_role("heading", level=1)).to_have_text(t(locale, "My data"))
    expect(page.get_by_role("main")).to_contain_text(t(locale, "Signed in as %(email)s", email=EMAIL))

    about = page.get_by_role("region", name=t(locale, "About you"))
    expect(about).to_contain_text(NAME)
    expect(about).to_contain_text(live.title(locale, DataSource.WEB_FORM))  # where the data came from

    contacts = page.get_by_role("region", name=t(locale, "Contact details"))
    for value, kind, source in ((EMAIL, ContactKind.PERSONAL, DataSource.WEB_FORM),
                                (PHONE, ContactKind.MOBILE, DataSource.PHONE),
                                (ADDRESS, ContactKind.HOME, DataSource.WEB_FORM)):
        card = contacts.get_by_role("listitem").filter(has_text=value)
        expect(card).to_have_count(1)
        expect(card).to_contain_text(live.title(locale, kind))
        expect(card).to_contain_text(t(locale, "Source: %(source)s", source=live.title(locale, source)))

    orders = page.get_by_role("region", name=t(locale, "Orders and warranty"))
    expect(orders.get_by_role("columnheader").nth(3)).to_have_text(t(locale, "Warranty until"))
    order_row = orders.get_by_role("row").filter(has_text=ORDER)
    expect(order_row.get_by_role("cell").nth(3)).to_have_text(live.date(locale, warranty_ends_on))

    consents = page.get_by_role("region", name=t(locale, "Your consents"))
    warranty = consents.get_by_role("listitem").filter(has_text=live.title(locale, Purpose.WARRANTY))
    expect(warranty).to_contain_text(t(locale, "Given"))
    expect(warranty).to_contain_text(live.title(locale, ConsentMethod.WEB_FORM))
    expect(warranty).to_contain_text("form-1001")
    promotions = consents.get_by_role("listitem").filter(has_text=live.title(locale, Purpose.PROMOTIONS))
    expect(promotions).to_contain_text(t(locale, "Not given"))
    expect(promotions).to_contain_text(live.title(locale, ConsentMethod.RECORDED_CALL))
    expect(promotions).to_contain_text("call-7.mp3")

    history = page.get_by_role("region", name=t(locale, "History of changes"))
    change = history.get_by_role("row").filter(has_text=OLD_PHONE)
    expect(change).to_contain_text(PHONE)
    expect(change).to_contain_text(f"{live.title(locale, ActorKind.STAFF)} ({STAFF_NAME})")


@pytest.mark.parametrize("locale", ["vi", "en"])
def test_sign_in_by_link_see_my_data_sign_out(live_server, customer_data, new_page, locale):
    t = live_server.text
    page = new_page()
    ask_for_link(page, live_server, locale)
    link, _code = read_newest_email(page, live_server, locale)

    page.goto(link)  # the same browser that asked: it holds the nonce cookie
    expect(page).to_have_url(live_server.url + "/sign-in/continue")  # the token is out of the URL
    expect(page.get_by_role("heading", level=1)).to_have_text(t(locale, "Continue signing in"))
    expect(page.get_by_label(t(locale, "Code from the e-mail"))).to_have_count(0)
    continue_button = page.get_by_role("button", name=t(locale, "Continue"), exact=True)
    if locale == "vi":
        assert continue_button.inner_text().strip() != "Continue", "the Vietnamese page is not translated"
    continue_button.click()

    check_my_data(page, live_server, locale, customer_data["warranty_ends_on"])

    page.get_by_role("button", name=t(locale, "Sign out")).click()
    expect(page).to_have_url(re.compile(r"/sign-in$"))
    expect(page.locator("html")).to_have_attribute("lang", locale)  # signing out keeps the language
    expect(page.get_by_role("status")).to_have_text(t(locale, "You are signed out."))
    expect(page.get_by_role("heading", level=1)).to_have_text(t(locale, "Sign in"))
    page.goto("/my-data")
    expect(page.get_by_role("heading", level=1)).to_have_text(t(locale, "Sign in"))
    expect(page.get_by_role("main")).not_to_contain_text(NAME)

    response = page.goto(link)  # used once already: it must not sign anybody in again
    assert response.status == 410
    expect(page.get_by_role("heading", level=1)).to_have_text(t(locale, "This link no longer works"))
    expect(page.get_by_role("button", name=t(locale, "Continue"), exact=True)).to_have_count(0)
    page.goto("/my-data")
    expect(page.get_by_role("main")).not_to_contain_text(NAME)


def test_link_opened_on_another_device_asks_for_the_code(live_server, customer_data, new_page):
    t = live_server.text
    locale = "vi"
    asking = new_page()  # context A: the browser that asks for the link
    ask_for_link(asking, live_server, locale)
    link, code = read_newest_email(asking, live_server, locale)

    other = new_page()  # context B: another device, or a mail scanner, without A's cookies
    other.goto(link)
    expect(other).to_have_url(live_server.url + "/sign-in/continue")
    expect(other.get_by_role("heading", level=1)).to_have_text(t(locale, "Enter your code"))
    expect(other.get_by_role("button", name=t(locale, "Continue"), exact=True)).to_have_count(0)

    code_box = other.get_by_label(t(locale, "Code from the e-mail"))
    wrong = code[:-1] + ("2" if code[-1] != "2" else "3")
    code_box.fill(wrong)
    other.get_by_role("button", name=t(locale, "Sign in"), exact=True).click()
    expect(code_box).to_have_attribute("aria-invalid", "true")
    error = other.locator("#" + code_box.get_attribute("aria-describedby"))
    expect(error).to_have_text(live_server.plural(locale, "That code is not right. %(num)d attempt left.",
                                                  "That code is not right. %(num)d attempts left.", 4))

    code_box.fill(code)
    other.get_by_role("button", name=t(locale, "Sign in"), exact=True).click()
    check_my_data(other, live_server, locale, customer_data["warranty_ends_on"])

    asking.goto(link)  # the code used the link up: the browser that asked gets nothing more
    expect(asking.get_by_role("heading", level=1)).to_have_text(t(locale, "This link no longer works"))
    asking.goto("/my-data")
    expect(asking.get_by_role("main")).not_to_contain_text(NAME)
