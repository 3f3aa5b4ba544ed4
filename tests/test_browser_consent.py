"""A real Chromium: a customer withdraws their consent to promotions on My data and sees it at once,
in the switch and in the history; sales find the consent-withdrawal request in their queue, with the
purpose it carries and "do not contact for" beside the customer's contact details.

The browser, the live server and the customer's steps come from tests/browsing.py.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from portal.consent.models import ConsentEntry
from portal.db import db
from portal.enums import Purpose
from portal.tickets.models import Ticket
from tests.browsing import EMAIL, NAME, ask_for_link, expect, read_newest_email, staff_signs_in
from tests.factories import make_customer, make_staff

pytestmark = pytest.mark.browser

SALES_EMAIL = "kinhdoanh@khoingo.net"
SALES_NAME = "Lê Minh Khoa"


def customer_who_agreed_to_promotions(live) -> None:
    with live.app.app_context():
        customer = make_customer(EMAIL, NAME)
        db.session.add(ConsentEntry(customer_id=customer.id, purpose="promotions", granted=True, method="web_form",
                                    evidence="form-2040", actor_kind="staff", actor_name="Lan",
                                    recorded_at=datetime.now(timezone.utc) + timedelta(seconds=1)))
        make_staff("sales", email=SALES_EMAIL, name=SALES_NAME)
        db.session.commit()
        db.session.remove()




@pytest.mark.parametrize("locale", ["vi", "en"])
def test_a_customer_withdraws_promotions_and_sales_see_the_request(live_server, new_page, locale):
    live, t = live_server, live_server.text
    customer_who_agreed_to_promotions(live)
    promotions = live.title(locale, Purpose.PROMOTIONS)

    page = new_page()
    ask_for_link(page, live, locale)
    link, _code = read_newest_email(page, live, locale)
    page.goto(link)
    page.get_by_role("button", name=t(locale, "Continue"), exact=True).click()
    expect(page).to_have_url(live.url + "/my-data")

    consents = page.get_by_role("region", name=t(locale, "Your consents"))
    card = consents.get_by_role("listitem").filter(has_text=promotions)
    button = card.get_by_role("button", name=t(locale, "Withdraw consent"))
    expect(button).to_have_accessible_name(f"{t(locale, 'Withdraw consent')}: {promotions}")  # which purpose
    button.click()

    expect(page.get_by_role("status")).to_contain_text(promotions)
    card = page.get_by_role("region", name=t(locale, "Your consents")).get_by_role("listitem").filter(
        has_text=promotions)
    today = live.date(locale, datetime.now(timezone.utc).date())
    expect(card).to_contain_text(t(locale, "Withdrawn on %(date)s", date=today))
    expect(card.get_by_role("button", name=t(locale, "Give consent"))).to_be_visible()
    page.get_by_text(t(locale, "Every consent you gave or withdrew (%(count)s)", count=4)).click()
    newest = page.locator("section[aria-labelledby=h-consents] table tbody tr").first
    expect(newest).to_contain_text(promotions)
    expect(newest).to_contain_text(t(locale, "Withdrawn"))
    expect(newest).to_contain_text(t(locale, "This portal"))
    expect(newest.get_by_role("link", name=t(locale, "Version %(version)s", version="1"))).to_be_visible()

    with live.app.app_context():
        reference = db.session.scalars(select(Ticket).where(Ticket.kind == "consent_withdrawal")).one().reference
        db.session.remove()
    staff = new_page()
    staff_signs_in(staff, live, locale, SALES_EMAIL)
    staff.goto("/board/?view=department")
    staff.get_by_role("link", name=reference, exact=True).click()
    expect(staff.get_by_role("region", name=t(locale, "Consents withdrawn"))).to_contain_text(promotions)
    barred = staff.locator(".do-not-contact")
    expect(barred).to_contain_text(t(locale, "Do not contact for:"))
    expect(barred).to_contain_text(promotions)
