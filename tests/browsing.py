"""Fixtures and steps for the browser tests: one Chromium per test module, the portal served from
a thread on its own port and database, fresh browser contexts, and the customer's sign-in steps.

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
from flask import Flask, render_template_string
from flask_babel import force_locale
from flask_babel import gettext as babel_gettext
from flask_babel import ngettext as babel_ngettext
from sqlalchemy import select
from werkzeug.serving import make_server

from portal import clock
from portal.account.models import DataChange
from portal.db import db
from portal.extensions import limiter
from portal.outbox.delivery import deliver_due
from portal.page_cache import PAGES
from portal.staff.models import StaffMember
from tests.factories import make_customer
from tests.helpers import CODE_PATTERN, STAFF_PASSWORD, make_test_app, prepare_database, staff_totp_code

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:  # reported by the `browser` fixture: a skip locally, a failure in CI
    expect = sync_playwright = None

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
            return render_template_string("{{ day|local_date }}", day=value)


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
        prepare_database(app)
        limiter.reset()
        db.session.remove()
    PAGES.clear()  # the database starts its ids and versions again: no page kept from an earlier test
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
    assert live.text(locale, "Dear %(name)s,", name=NAME) in body
    code = CODE_PATTERN.search(body)
    assert code, body
    return href, code.group(1)


def customer_signs_in(page, live, locale: str, email: str = EMAIL) -> None:
    """Ask for a link (in ``locale``), open it from the development mailbox, Continue: My data."""
    ask_for_link(page, live, locale, email)
    link, _code = read_newest_email(page, live, locale, email)
    page.goto(link)  # the browser that asked holds the nonce cookie: no code needed
    page.get_by_role("button", name=live.text(locale, "Continue"), exact=True).click()
    expect(page).to_have_url(live.url + "/my-data")
    expect(page.locator("html")).to_have_attribute("lang", locale)


def staff_signs_in(page, live, locale: str, email: str) -> None:
    """E-mail and password, then the code the member's authenticator app shows now: their start page."""
    t = live.text
    page.goto("/staff/sign-in")
    if locale != "vi":
        page.get_by_role("button", name="English", exact=True).click()
    expect(page.locator("html")).to_have_attribute("lang", locale)
    expect(page.get_by_role("heading", level=1)).to_have_text(t(locale, "Staff sign-in"))
    page.get_by_label(t(locale, "Work e-mail address")).fill(email)
    page.get_by_label(t(locale, "Password")).fill(STAFF_PASSWORD)
    page.get_by_role("button", name=t(locale, "Continue"), exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t(locale, "Enter your code"))
    with live.app.app_context():  # computed now, at the real time, as the phone would
        member = db.session.scalars(select(StaffMember).where(StaffMember.email == email)).one()
        code, name = staff_totp_code(member), member.full_name
        db.session.remove()
    page.get_by_label(t(locale, "Code from your authenticator app, or a recovery code")).fill(code)
    page.get_by_role("button", name=t(locale, "Sign in"), exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t(locale, "Hello %(name)s", name=name))
