"""A real Chromium through customer intake: a member of sales enters a customer from a phone call,
records their consent with the call's recording as evidence, and the record shows both; a company's
shared mailbox signs in and picks its second record, then switches.

The browser, the live server and the customer's sign-in steps come from tests/browsing.py.
"""

from __future__ import annotations

import pytest

from portal.db import db
from tests.browsing import expect, staff_signs_in
from tests.factories import make_customer, make_staff

pytestmark = pytest.mark.browser

SALES_EMAIL, SALES_NAME = "lan.pham@khoingo.net", "Phạm Thị Lan"
SHARED = "ketoan@hoabinh.vn"




@pytest.mark.parametrize("locale", ["vi", "en"])
def test_sales_enter_a_phone_intake_customer_with_consent_evidence(live_server, new_page, locale):
    live, t = live_server, live_server.text
    with live.app.app_context():
        make_staff("sales", email=SALES_EMAIL, name=SALES_NAME)
        db.session.remove()
    page = new_page()
    staff_signs_in(page, live, locale, SALES_EMAIL)
    page.get_by_role("navigation", name=t(locale, "Board")).get_by_role(
        "link", name=t(locale, "Customers"), exact=True).click()
    page.get_by_role("link", name=t(locale, "Enter a new customer")).click()
    page.get_by_label(t(locale, "Full name")).fill("Võ Thị Hạnh")
    expect(page.get_by_label(t(locale, "Where the data came from"))).to_have_value("phone")
    values = page.get_by_label(t(locale, "Value"))
    values.nth(0).fill("0912 345 678")
    values.nth(1).fill("abc")  # the e-mail row: not an address
    page.get_by_role("button", name=t(locale, "Save the record")).click()
    expect(page.get_by_role("alert").first).to_contain_text(t(locale, "There is a problem"))
    expect(page.get_by_text(t(locale, "This is not an e-mail address (name@example.vn)."))).to_have_count(2)
    page.get_by_label(t(locale, "Value")).nth(1).fill("hanh.vo@example.vn")
    page.get_by_role("button", name=t(locale, "Save the record")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Võ Thị Hạnh")
    expect(page.get_by_text(t(locale, "The customer's record is saved."))).to_be_visible()
    expect(page.get_by_role("region", name=t(locale, "Contact details")).get_by_text("0912 345 678")).to_be_visible()

    page.get_by_label(t(locale, "Purpose")).select_option("promotions")
    page.get_by_label(t(locale, "The customer's answer")).select_option("given")
    page.get_by_label(t(locale, "How the customer told us")).select_option("recorded_call")
    page.get_by_label(t(locale, "Reference of our proof (form number, recording, copy)")).fill("call-0912.mp3")
    page.get_by_role("button", name=t(locale, "Record consent")).click()
    expect(page.get_by_text(t(locale, "The customer's consent is recorded."))).to_be_visible()
    expect(page.get_by_text(t(locale, "Recording of the call: %(evidence)s", evidence="call-0912.mp3"))).to_be_visible()
    history = page.get_by_role("region", name=t(locale, "History of changes"))
    expect(history).to_contain_text(SALES_NAME)
    expect(history).to_contain_text(t(locale, "By phone"))


def test_a_shared_mailbox_signs_in_and_picks_its_second_record(live_server, new_page):
    live, t, locale = live_server, live_server.text, "en"
    with live.app.app_context():
        make_customer(SHARED, "Công ty Hòa Bình", order="DH-2026-00101", phone="0903 111 111",
                      phone_normalized="+84903111111")
        make_customer(SHARED, "Hòa Bình Hà Nội", order="DH-2026-00102", phone="0904 222 222",
                      phone_normalized="+84904222222")
        db.session.remove()
    page = new_page()
    page.goto("/")
    page.get_by_role("button", name="English", exact=True).click()
    page.goto("/sign-in")
    page.get_by_label(t(locale, "Your e-mail address")).fill(SHARED)
    page.get_by_role("button", name=t(locale, "Send me a sign-in link")).click()
    assert live.deliver_mail() >= 1
    mailbox = new_page()
    mailbox.goto("/dev/mailbox/")
    mailbox.get_by_role("listitem").filter(has_text=SHARED).first.get_by_role("link").click()
    link = mailbox.locator("pre").inner_text().split(live.url)[1].split()[0]
    page.goto(link)
    page.get_by_role("button", name=t(locale, "Continue"), exact=True).click()

    expect(page).to_have_url(live.url + "/sign-in/records?next=/my-data")
    expect(page.get_by_role("heading", level=1)).to_have_text(t(locale, "Which record do you want to see?"))
    expect(page.get_by_text("DH-2026-00102")).to_be_visible()
    expect(page.get_by_text("0903 111 111")).to_have_count(0)
    page.get_by_role("button", name="Hòa Bình Hà Nội").click()
    expect(page).to_have_url(live.url + "/my-data")
    expect(page.get_by_text("0904 222 222")).to_be_visible()
    expect(page.get_by_text("0903 111 111")).to_have_count(0)

    page.get_by_role("link", name=t(locale, "Switch record")).click()
    page.get_by_role("button", name="Công ty Hòa Bình").click()
    page.goto("/my-data")
    expect(page.get_by_text("0903 111 111")).to_be_visible()
    expect(page.get_by_text("0904 222 222")).to_have_count(0)
