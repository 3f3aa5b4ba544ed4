"""A real Chromium: a customer corrects their phone on My data, sees it in the local format and in the
history of changes, and customer care find the correction request on the board."""

from __future__ import annotations

import pytest

from portal.db import db
from portal.staff.models import StaffMember
from tests.browsing import EMAIL, NAME, expect, read_newest_email
from tests.factories import make_customer, make_staff, pickup_everywhere
from tests.helpers import STAFF_PASSWORD, staff_totp_code

pytestmark = pytest.mark.browser

CARE_EMAIL, CARE_NAME = "cham.soc@khoingo.net", "Lê Thị Cẩm"


def customer_signs_in(page, live, locale: str) -> None:
    t = live.text
    page.goto("/sign-in")
    if locale != "vi":
        page.get_by_role("button", name="English", exact=True).click()
    page.get_by_label(t(locale, "Your e-mail address")).fill(EMAIL)
    page.get_by_role("button", name=t(locale, "Send me a sign-in link")).click()
    link, _code = read_newest_email(page, live, locale)
    page.goto(link)
    page.get_by_role("button", name=t(locale, "Continue"), exact=True).click()
    expect(page).to_have_url(live.url + "/my-data")


def care_signs_in(page, live, locale: str, member_id: int) -> None:
    t = live.text
    page.goto("/staff/sign-in")
    if locale != "vi":
        page.get_by_role("button", name="English", exact=True).click()
    page.get_by_label(t(locale, "Work e-mail address")).fill(CARE_EMAIL)
    page.get_by_label(t(locale, "Password")).fill(STAFF_PASSWORD)
    page.get_by_role("button", name=t(locale, "Continue"), exact=True).click()
    with live.app.app_context():
        code = staff_totp_code(db.session.get(StaffMember, member_id))
        db.session.remove()
    page.get_by_label(t(locale, "Code from your authenticator app, or a recovery code")).fill(code)
    page.get_by_role("button", name=t(locale, "Sign in"), exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t(locale, "Hello %(name)s", name=CARE_NAME))


@pytest.mark.parametrize("locale", ["vi", "en"])
def test_a_customer_corrects_their_phone_and_care_see_the_correction(live_server, new_page, locale):
    live, t = live_server, live_server.text
    with live.app.app_context():
        pickup_everywhere()
        make_customer(EMAIL, NAME, phone="0903 123 456")
        member_id = make_staff("care", email=CARE_EMAIL, name=CARE_NAME).id
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
    care_signs_in(staff, live, locale, member_id)
    staff.goto("/board/?view=department")
    row = staff.get_by_role("row").filter(has_text=t(locale, "Correction"))
    expect(row).to_have_count(1)
    row.get_by_role("link").first.click()
    correction = staff.locator("section[aria-labelledby=h-correction]")
    expect(correction).to_contain_text("0903 123 456 → 0904 555 666")
