"""A real Chromium: a customer files a leak complaint; a board member answers it with a finding, a
reason and a remedy; the customer reads the answer on their request page."""

from __future__ import annotations

from datetime import date

import pytest

from portal.db import db
from tests.browsing import EMAIL, NAME, customer_signs_in, expect, staff_signs_in
from tests.factories import make_customer, make_staff, pickup_everywhere

pytestmark = pytest.mark.browser

BOARD_EMAIL, BOARD_NAME = "giam.doc@khoingo.net", "Phạm Văn Đức"
REASON = "Một nhân viên cũ đã chép danh sách khách hàng."
REMEDY = "Chúng tôi đã khoá tài khoản của người đó và yêu cầu bên kia xoá dữ liệu."


@pytest.mark.parametrize("locale", ["vi", "en"])
def test_a_customer_files_a_leak_complaint_the_board_answers_and_the_customer_reads_it(
        live_server, new_page, locale):
    live, t = live_server, live_server.text
    with live.app.app_context():
        pickup_everywhere()
        make_customer(EMAIL, NAME)
        make_staff("board", email=BOARD_EMAIL, name=BOARD_NAME)
        db.session.remove()
    page = new_page()
    customer_signs_in(page, live, locale)
    page.goto("/requests/new")
    page.get_by_role("link", name=t(locale, "Complaint: my data leaked")).click()
    page.get_by_label(t(locale, "My phone number")).check()
    page.get_by_label(t(locale, "The phone number that called or texted you, if any")).fill("abc")
    page.get_by_label(t(locale, "When did you see it or were you contacted?")).fill(date.today().isoformat())
    page.get_by_label(t(locale, "What happened?")).fill("Một công ty lạ gọi cho tôi và biết tên tôi.")
    page.get_by_role("button", name=t(locale, "Send the request")).click()
    expect(page.locator("#third_party_phone-error")).to_have_text(
        t(locale, "This is not a phone number. Write it as you saw it, e.g. 0903 123 456."))
    page.get_by_label(t(locale, "My phone number")).check()
    page.get_by_label(t(locale, "The phone number that called or texted you, if any")).fill("0903 123 456")
    page.get_by_role("button", name=t(locale, "Send the request")).click()
    reference = page.locator("h1 .reference").inner_text()
    assert reference.startswith("KN-")
    expect(page.locator("section[aria-labelledby=h-leak]")).to_contain_text("0903 123 456")

    staff = new_page()
    staff_signs_in(staff, live, locale, BOARD_EMAIL)
    staff.goto(f"/board/tickets/{reference}")
    answer = staff.locator("section[aria-labelledby=h-complaint-answer]")
    answer.get_by_label(t(locale, "Confirmed"), exact=True).check()
    answer.get_by_label(t(locale, "The reason (e-mailed to the customer)")).fill(REASON)
    answer.get_by_label(t(locale, "What is being done to correct and remedy it (e-mailed to the customer)")).fill(
        REMEDY)
    answer.get_by_role("button", name=t(locale, "Record the answer and resolve")).click()
    expect(staff.locator("section[aria-labelledby=h-complaint-answer] dl")).to_contain_text(REMEDY)

    page.goto(f"/requests/{reference}")
    ours = page.locator("section[aria-labelledby=h-complaint-answer]")
    expect(ours).to_contain_text(t(locale, "Confirmed: your data did reach someone it should not have"))
    expect(ours).to_contain_text(REASON)
    expect(ours).to_contain_text(REMEDY)
