"""A real Chromium: a customer corrects their phone on My data, sees it in the local format and in the
history of changes, and customer care find the correction request on the board."""

from __future__ import annotations

import pytest

from portal.db import db
from tests.browsing import EMAIL, NAME, customer_signs_in, expect, staff_signs_in
from tests.factories import make_customer, make_staff, pickup_everywhere

pytestmark = pytest.mark.browser

CARE_EMAIL, CARE_NAME = "cham.soc@khoingo.net", "Lê Thị Cẩm"






@pytest.mark.parametrize("locale", ["vi", "en"])
def test_a_customer_corrects_their_phone_and_care_see_the_correction(live_server, new_page, locale):
    live, t = live_server, live_server.text
    with live.app.app_context():
        pickup_everywhere()
        make_customer(EMAIL, NAME, phone="0903 123 456")
        make_staff("care", email=CARE_EMAIL, name=CARE_NAME)
        db.session.remove()
    page = new_page()
    customer_signs_in(page, live, locale)
    page.get_by_role("link", name=t(locale, "Change %(what)s", what="0903 123 456")).click()
    phone = page.get_by_label(t(locale, "Phone number"))
    phone.fill("abc")
    page.get_by_role("button", name=t(locale, "Save"), exact=True).click()
    expect(page.locator(".field-error")).to_contain_text(
        t(locale, "Write a phone number in service, such as 0903 123 456 or +84 28 3822 1234."))
    page.get_by_label(t(locale, "Phone number")).fill("+84 904 555 666")
    page.get_by_role("button", name=t(locale, "Save"), exact=True).click()
    expect(page).to_have_url(live.url + "/my-data#h-contacts")
    contacts = page.locator("section[aria-labelledby=h-contacts]")
    expect(contacts).to_contain_text("0904 555 666")
    history = page.locator("section[aria-labelledby=h-history] tbody tr").first
    expect(history).to_contain_text("0903 123 456")
    expect(history).to_contain_text("0904 555 666")

    staff = new_page()
    staff_signs_in(staff, live, locale, CARE_EMAIL)
    staff.goto("/board/?view=department")
    row = staff.get_by_role("row").filter(has_text=t(locale, "Correction"))
    expect(row).to_have_count(1)
    row.get_by_role("link").first.click()
    correction = staff.locator("section[aria-labelledby=h-correction]")
    expect(correction).to_contain_text("0903 123 456 → 0904 555 666")
