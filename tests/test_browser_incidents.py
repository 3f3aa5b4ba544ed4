"""A real Chromium: a board member raises a leak complaint into a new breach incident from the
complaint's page, sees the 72-hour clock, records the notice to the authority, and adds an affected
customer by searching."""

from __future__ import annotations

import os
from datetime import datetime, timedelta

import pytest

from portal.db import db
from portal.local_time import LOCAL_ZONE
from tests.browsing import EMAIL, NAME, expect, staff_signs_in
from tests.factories import make_customer, make_staff, new_ticket

pytestmark = pytest.mark.browser

BOARD_EMAIL, BOARD_NAME = "giam.doc@khoingo.net", "Phạm Văn Đức"


def _local(moment: datetime) -> str:
    return moment.astimezone(LOCAL_ZONE).strftime("%Y-%m-%dT%H:%M")


@pytest.mark.parametrize("locale", ["vi", "en"])
def test_a_board_member_raises_a_complaint_into_an_incident_and_records_the_notice(live_server, new_page,
                                                                                 locale, tmp_path):
    live, t = live_server, live_server.text
    with live.app.app_context():
        customer = make_customer(EMAIL, NAME)
        make_customer("binh@example.vn", "Trần Thị Bình", phone="0912 000 111", phone_normalized="+84912000111",
                      order="DH-B")
        reference = new_ticket("leak_complaint", customer=customer, email=EMAIL).reference
        make_staff("board", email=BOARD_EMAIL, name=BOARD_NAME)
        db.session.remove()
    page = new_page()
    page.set_viewport_size({"width": 390, "height": 844})  # a phone: the pages are read on one too
    staff_signs_in(page, live, locale, BOARD_EMAIL)
    page.goto(f"/board/tickets/{reference}")
    page.get_by_role("link", name=t(locale, "Record a new incident with this complaint")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t(locale, "New breach incident"))
    expect(page.get_by_role("checkbox", name=reference, exact=False)).to_be_checked()
    now = datetime.now(LOCAL_ZONE)
    page.get_by_label(t(locale, "Short title")).fill("Danh sách khách hàng bị lộ")
    page.get_by_label(t(locale, "Discovered at (Vietnam time)")).fill(_local(now + timedelta(hours=3)))
    page.get_by_label(t(locale, "Phone number"), exact=True).check()
    page.get_by_role("button", name=t(locale, "Record the incident")).click()
    expect(page.locator("#discovered_at-error")).to_have_text(
        t(locale, "This moment is in the future. Give when it really happened."))
    page.get_by_label(t(locale, "Discovered at (Vietnam time)")).fill(_local(now - timedelta(hours=2)))
    page.get_by_role("button", name=t(locale, "Record the incident")).click()
    expect(page.locator("h1 .reference")).to_contain_text("SC-")
    clock = page.locator("section[aria-labelledby=h-clock]")
    expect(clock).to_contain_text(t(locale, "Due in %(hours)d h", hours=69))
    expect(page.locator("section[aria-labelledby=h-complaints]")).to_contain_text(reference)
    if os.environ.get("PORTAL_TEST_SCREENSHOTS"):
        page.screenshot(path=os.path.join(os.environ["PORTAL_TEST_SCREENSHOTS"], f"incident-{locale}.png"),
                        full_page=True)

    clock.get_by_label(t(locale, "Sent at (Vietnam time)")).fill(_local(now - timedelta(hours=1)))
    clock.get_by_label(t(locale, "The authority's reference or receipt number")).fill("A05-118")
    clock.get_by_role("button", name=t(locale, "Record the notice")).click()
    expect(page.get_by_role("status").first).to_have_text(t(locale, "The notice to the authority is recorded."))
    expect(clock).to_contain_text("A05-118")
    expect(clock).to_contain_text(BOARD_NAME)

    page.get_by_role("link", name=t(locale, "See and change the list")).click()
    expect(page.locator("section[aria-labelledby=h-list]")).to_contain_text(NAME)
    page.get_by_label(t(locale, "Name, e-mail or phone")).fill("binh@example.vn")
    page.get_by_role("button", name=t(locale, "Find")).click()
    page.get_by_role("button", name=t(locale, "Add %(name)s (no. %(number)s)", name="Trần Thị Bình", number=2)).click()
    expect(page.locator("section[aria-labelledby=h-list]")).to_contain_text("Trần Thị Bình")
    expect(page.locator("section[aria-labelledby=h-list] h2")).to_have_text(t(locale, "The list (%(count)d)", count=2))
    if os.environ.get("PORTAL_TEST_SCREENSHOTS"):
        page.screenshot(path=os.path.join(os.environ["PORTAL_TEST_SCREENSHOTS"], f"customers-{locale}.png"),
                        full_page=True)
