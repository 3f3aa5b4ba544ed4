"""A real Chromium: a customer removes a phone number from My data with the keyboard alone, through
the page that asks first; the address they signed in with offers no removal."""

from __future__ import annotations

import pytest

from portal.db import db
from tests.browsing import EMAIL, NAME, expect
from tests.factories import make_customer
from tests.test_browser_corrections import customer_signs_in

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("locale", ["vi", "en"])
def test_a_customer_removes_a_phone_after_confirming_and_cannot_remove_the_sign_in_address(live_server, new_page,
                                                                                          locale):
    live, t = live_server, live_server.text
    with live.app.app_context():
        make_customer(EMAIL, NAME, phone="0903 123 456")
        db.session.remove()
    page = new_page()
    customer_signs_in(page, live, locale)
    contacts = page.locator("section[aria-labelledby=h-contacts]")
    page.get_by_role("link", name=t(locale, "Remove %(what)s", what="0903 123 456")).focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text(t(locale, "Remove: %(what)s", what=t(locale, "Phone")
                                                                 .lower()))
    # "No, keep it" goes back with nothing removed.
    page.get_by_role("link", name=t(locale, "No, keep it")).click()
    expect(contacts).to_contain_text("0903 123 456")
    page.get_by_role("link", name=t(locale, "Remove %(what)s", what="0903 123 456")).click()
    confirm = page.get_by_role("button", name=t(locale, "Yes, remove it"))
    confirm.focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(live.url + "/my-data#h-contacts")
    expect(page.get_by_role("status").or_(page.locator(".notice-success")).first).to_contain_text(
        t(locale, "Removed. Our customer care team is told."))
    expect(contacts).not_to_contain_text("0903 123 456")
    # The address signed in with: the page explains, and offers no button.
    page.get_by_role("link", name=t(locale, "Remove %(what)s", what=EMAIL)).click()
    expect(page.locator("main")).to_contain_text(t(locale, "You are signed in with this address, so it cannot be "
                                                           "removed. Give us another address first and sign in with "
                                                           "it, or ask us in a request."))
    expect(page.get_by_role("button", name=t(locale, "Yes, remove it"))).to_have_count(0)
