"""A real Chromium on the customer's way through: from the link in a reply e-mail to the request in one
press and one Continue; My data on a 390-pixel phone; a form's errors summed up at the top, with the
focus on them and "Error:" in the page title.

The browser, the live server and the customer's steps come from tests/browsing.py.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest

from portal.db import db
from portal.tickets import services
from tests.browsing import (
    EMAIL,
    NAME,
    OLD_PHONE,
    ORDER,
    PHONE,
    STAFF_NAME,
    TIMEOUT_MS,
    ask_for_link,
    expect,
    read_newest_email,
)
from tests.factories import make_customer, make_staff, new_ticket

pytestmark = pytest.mark.browser

PHONE_SCREEN = {"width": 390, "height": 844}
REPLY = "Chúng tôi lưu bản ghi camera 30 ngày. We keep camera recordings for 30 days."


@pytest.fixture
def phone_page(browser, live_server):
    """A fresh browser context the size of a phone's screen, and a page in it."""
    contexts = []

    def open_page():
        context = browser.new_context(base_url=live_server.url, viewport=PHONE_SCREEN, device_scale_factor=3,
                                      is_mobile=True, has_touch=True)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


def answered_request(live, locale: str) -> str:
    """A customer's question, answered by a care member (which e-mails the customer in ``locale``, the
    language saved on their record); its reference."""
    with live.app.app_context():
        customer = make_customer(EMAIL, NAME, locale=locale)
        member = make_staff("care", name=STAFF_NAME)
        now = datetime.now(timezone.utc)
        ticket = new_ticket(customer=customer, email=EMAIL, body="Camera lưu bao lâu?", now=now)
        services.add_staff_entry(ticket, member, REPLY, True, now)
        db.session.commit()
        reference = ticket.reference
        db.session.remove()
    return reference


# --- 14. from the reply e-mail to the request -----------------------------------------------------


@pytest.mark.parametrize("locale", ["vi", "en"])
def test_reading_a_reply_takes_one_press_and_one_continue(live_server, new_page, locale):
    live, t = live_server, live_server.text
    reference = answered_request(live, locale)
    page = new_page()
    assert live.deliver_mail() >= 1
    page.goto("/dev/mailbox/")
    subject = t(locale, "New answer to your request %(reference)s", reference=reference)
    page.get_by_role("listitem").filter(has_text=EMAIL).get_by_role("link", name=subject, exact=True).click()
    expect(page.locator("pre")).to_contain_text(REPLY)

    page.locator("pre").get_by_role("link", name=re.compile(r"sign-in.for.")).click()
    expect(page).to_have_url(f"{live.url}/sign-in?next=/requests/{reference}")  # nothing else in the URL
    if locale != "vi":  # a visitor not yet signed in sees Vietnamese until they switch
        page.get_by_role("button", name="English", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t(locale, "Sign in"))
    address = page.get_by_label(t(locale, "Your e-mail address"))
    expect(address).to_have_value(EMAIL)
    page.get_by_role("button", name=t(locale, "Send me a sign-in link")).click()  # the one press
    expect(page.get_by_role("heading", level=1)).to_have_text(t(locale, "Check your e-mail"))

    link, _code = read_newest_email(page, live, locale)
    page.goto(link)
    page.get_by_role("button", name=t(locale, "Continue"), exact=True).click()
    expect(page).to_have_url(f"{live.url}/requests/{reference}")
    expect(page.get_by_role("heading", level=1)).to_contain_text(reference)
    expect(page.locator("ol.thread > li").filter(has_text=REPLY)).to_have_count(1)


# --- 18. My data on a phone -----------------------------------------------------------------------

LINES_OF = """cell => {
  const range = document.createRange();
  range.selectNodeContents(cell);
  const tops = [];
  for (const rect of range.getClientRects()) {
    if (rect.width > 0 && !tops.some(top => Math.abs(top - rect.top) < 4)) tops.push(rect.top);
  }
  return tops.length;
}"""
LABEL_OF = "cell => getComputedStyle(cell, '::before').content"


def sign_in_on(page, live, locale: str) -> None:
    t = live.text
    ask_for_link(page, live, locale)
    link, _code = read_newest_email(page, live, locale)
    page.goto(link)
    page.get_by_role("button", name=t(locale, "Continue"), exact=True).click()
    expect(page).to_have_url(live.url + "/my-data")


def check_reads_on_a_phone(page, table, header_count: int) -> None:
    """Every cell of ``table`` lies on the screen, says which column it is, and is not broken into a
    word per line; nothing scrolls sideways."""
    headers = [text.strip() for text in table.get_by_role("columnheader").all_inner_texts()]
    assert len(headers) == header_count
    for row in table.get_by_role("row").all()[1:]:
        cells = row.get_by_role("cell").all()
        assert len(cells) == header_count
        for header, cell in zip(headers, cells, strict=True):
            box = cell.bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE_SCREEN["width"], (header, box)
            assert cell.evaluate(LINES_OF) <= 2, (header, cell.inner_text())
            assert header in cell.evaluate(LABEL_OF), header  # the column's name beside the value
    scroller = table.locator("xpath=..")
    assert scroller.evaluate("box => box.scrollWidth <= box.clientWidth")


@pytest.mark.parametrize("locale", ["vi", "en"])
def test_my_data_reads_on_a_phone(live_server, customer_data, phone_page, locale):
    t = live_server.text
    page = phone_page()
    sign_in_on(page, live_server, locale)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_SCREEN["width"]

    orders = page.get_by_role("region", name=t(locale, "Orders and warranty")).get_by_role("table")
    check_reads_on_a_phone(page, orders, 4)
    expect(orders.get_by_role("row").filter(has_text=ORDER).get_by_role("cell").nth(3)).to_have_text(
        live_server.date(locale, customer_data["warranty_ends_on"]))

    history = page.get_by_role("region", name=t(locale, "History of changes")).get_by_role("table")
    check_reads_on_a_phone(page, history, 5)
    change = history.get_by_role("row").filter(has_text=OLD_PHONE)
    expect(change.get_by_role("cell").nth(4)).to_have_text(PHONE)
    expect(change.get_by_role("cell").nth(1)).to_contain_text(STAFF_NAME)


def test_on_a_desk_screen_my_data_keeps_its_tables(live_server, customer_data, new_page):
    t = live_server.text
    page = new_page()
    sign_in_on(page, live_server, "vi")
    history = page.get_by_role("region", name=t("vi", "History of changes")).get_by_role("table")
    header = history.get_by_role("columnheader").first
    expect(header).to_be_visible()
    row_cells = history.get_by_role("row").filter(has_text=OLD_PHONE).get_by_role("cell")
    tops = {round(cell.bounding_box()["y"]) for cell in row_cells.all()}
    assert len(tops) == 1  # the cells of a change side by side, in columns
    assert history.get_by_role("cell").first.evaluate(LABEL_OF) in ("none", "normal")


# --- 18. form errors ------------------------------------------------------------------------------


@pytest.mark.parametrize("locale", ["vi", "en"])
def test_form_errors_are_summed_up_focused_and_in_the_title(live_server, phone_page, locale):
    t = live_server.text
    page = phone_page()
    page.goto("/sign-in")
    if locale != "vi":
        page.get_by_role("button", name="English", exact=True).click()
    expect(page.locator("html")).to_have_attribute("lang", locale)
    plain_title = t(locale, "Sign in") + " · Khôi Ngô Security"
    expect(page).to_have_title(plain_title)
    address = page.get_by_label(t(locale, "Your e-mail address"))
    address.fill("an.nguyen@")
    page.get_by_role("button", name=t(locale, "Send me a sign-in link")).click()

    message = t(locale, "This is not a valid e-mail address. Check it and try again.")
    summary = page.get_by_role("alert").filter(has_text=t(locale, "There is a problem"))
    expect(summary).to_be_focused()  # on load, with nobody pressing anything
    expect(page).to_have_title(t(locale, "Error: %(title)s", title=t(locale, "Sign in")) + " · Khôi Ngô Security")
    expect(address).to_have_value("an.nguyen@")  # what was typed is kept
    link = summary.get_by_role("link", name=message)
    expect(link).to_have_count(1)
    link.click()
    expect(address).to_be_focused()
    assert address.bounding_box()["y"] >= 0

    address.fill("an.nguyen@example.vn")
    page.get_by_role("button", name=t(locale, "Send me a sign-in link")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t(locale, "Check your e-mail"))
    expect(page).not_to_have_title(re.compile(re.escape(t(locale, "Error: %(title)s", title=""))))
