"""A real Chromium through the pages a customer uses: ask for a sign-in link, read the e-mail in the
development mailbox, open the link, see My data, sign out; and the code form on a second device.

The portal runs in a thread of the test process (werkzeug, threaded) on its own port and database,
in development mode so that /dev/mailbox/ shows the e-mail once the outbox has been delivered.

Chromium comes from the system (/usr/bin/chromium, or PORTAL_TEST_CHROMIUM): `playwright install`
cannot download browsers here. Without it the tests are skipped locally, and fail when CI is set:
CI must run them, never skip them.
"""

from __future__ import annotations

import re

import pytest

from portal.enums import ActorKind, ConsentMethod, ContactKind, DataSource, Purpose
from tests.browsing import (
    ADDRESS,
    EMAIL,
    NAME,
    OLD_PHONE,
    ORDER,
    PHONE,
    STAFF_NAME,
    ask_for_link,
    expect,
    read_newest_email,
)

pytestmark = pytest.mark.browser


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
    notices = consents.get_by_role("listitem").filter(has_text=live.title(locale, Purpose.NOTICES))
    expect(notices).to_contain_text(t(locale, "Given on %(date)s", date=""))
    expect(notices).to_contain_text(live.title(locale, ConsentMethod.WEB_FORM))
    expect(notices).to_contain_text("form-1001")
    promotions = consents.get_by_role("listitem").filter(has_text=live.title(locale, Purpose.PROMOTIONS))
    expect(promotions).to_contain_text(t(locale, "Withdrawn on %(date)s", date=""))
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
