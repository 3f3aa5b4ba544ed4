"""A real Chromium: a customer files a leak complaint (with a picture and a PDF); a board member answers
it with a finding, a reason and a remedy; the customer reads the answer and disputes it; the board
raises it into a breach incident and notifies the affected customers, whose mailbox gets the notice."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest

from portal.db import db
from portal.local_time import LOCAL_ZONE
from tests import factories
from tests.browsing import EMAIL, NAME, customer_signs_in, expect, staff_signs_in
from tests.factories import make_customer, make_staff, pickup_everywhere

pytestmark = pytest.mark.browser

BOARD_EMAIL, BOARD_NAME = "giam.doc@khoingo.net", "Phạm Văn Đức"
REASON = "Một nhân viên cũ đã chép danh sách khách hàng."
REMEDY = "Chúng tôi đã khoá tài khoản của người đó và yêu cầu bên kia xoá dữ liệu."


@pytest.mark.parametrize("locale", ["vi", "en"])
def test_a_complaint_with_evidence_is_answered_disputed_and_raised_into_an_incident_its_customer_is_told_of(
        live_server, new_page, locale, tmp_path):
    """The whole path of a leak: a customer files it with a picture and a PDF, the board answers, the
    customer reads the answer and disputes it, the board raises the complaint into a breach incident
    and notifies its affected customers, and the notice reaches the customer's mailbox."""
    live, t = live_server, live_server.text
    with live.app.app_context():
        pickup_everywhere()
        make_customer(EMAIL, NAME)
        make_staff("board", email=BOARD_EMAIL, name=BOARD_NAME)
        db.session.remove()
    picture, document = tmp_path / "cuoc-goi.png", tmp_path / "tin-nhan.pdf"
    picture.write_bytes(factories.picture("PNG"))
    document.write_bytes(b"%PDF-1.7\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n")

    page = new_page()
    customer_signs_in(page, live, locale)
    page.goto("/requests/new/leak_complaint")
    page.get_by_label(t(locale, "My phone number")).check()
    page.get_by_label(t(locale, "The phone number that called or texted you, if any")).fill("abc")
    page.get_by_label(t(locale, "When did you see it or were you contacted?")).fill(date.today().isoformat())
    page.get_by_label(t(locale, "What happened?")).fill("Một công ty lạ gọi cho tôi và biết tên tôi.")
    page.get_by_role("button", name=t(locale, "Send the request")).click()
    expect(page.locator("#third_party_phone-error")).to_have_text(
        t(locale, "This is not a phone number. Write it as you saw it, e.g. 0903 123 456."))
    page.get_by_label(t(locale, "The phone number that called or texted you, if any")).fill("0903 123 456")
    page.get_by_label(t(locale, "Pictures or documents that show it (JPEG, PNG or PDF; optional)")).set_input_files(
        [str(picture), str(document)])
    page.get_by_role("button", name=t(locale, "Send the request")).click()
    reference = page.locator("h1 .reference").inner_text()
    assert reference.startswith("KN-")
    expect(page.locator("section[aria-labelledby=h-leak]")).to_contain_text("0903 123 456")
    evidence = page.locator("section[aria-labelledby=h-leak]")
    expect(evidence).to_contain_text("cuoc-goi.png")
    expect(evidence).to_contain_text("tin-nhan.pdf")

    staff = new_page()
    staff_signs_in(staff, live, locale, BOARD_EMAIL)
    staff.goto(f"/board/tickets/{reference}")
    expect(staff.locator("section[aria-labelledby=h-leak] .evidence")).to_contain_text("tin-nhan.pdf")
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
    page.get_by_label(t(locale, "Your reply")).fill("Tôi không đồng ý: họ vẫn gọi cho tôi hôm nay.")
    page.get_by_role("button", name=t(locale, "Send")).click()
    expect(page.locator(".status")).not_to_have_text(t(locale, "Resolved"))  # the dispute reopened it

    staff.goto(f"/board/tickets/{reference}")
    staff.get_by_role("link", name=t(locale, "Record a new incident with this complaint")).click()
    staff.get_by_label(t(locale, "Short title")).fill("Số điện thoại khách hàng bị lộ")
    discovered = datetime.now(LOCAL_ZONE) - timedelta(hours=1)
    staff.get_by_label(t(locale, "Discovered at (Vietnam time)")).fill(discovered.strftime("%Y-%m-%dT%H:%M"))
    staff.get_by_label(t(locale, "Phone number"), exact=True).check()
    staff.get_by_label(t(locale, "What was done (the acts of the violation)")).fill(
        "Một nhân viên cũ đã chép số điện thoại khách hàng.")
    staff.get_by_label(t(locale, "Measures taken and planned")).fill(REMEDY)
    staff.get_by_role("button", name=t(locale, "Record the incident")).click()
    incident = staff.locator("h1 .reference").inner_text()
    assert incident.startswith("SC-")
    notify = staff.locator("section[aria-labelledby=h-notify]")
    notify.get_by_label(t(locale, "Yes, e-mail the notice to %(num)d customer", num=1)).check()
    notify.get_by_role("button", name=t(locale, "Notify the affected customers")).click()
    expect(staff.locator("section[aria-labelledby=h-notify]")).to_contain_text(
        t(locale, "Every affected customer's notice is queued; the worker delivers the e-mails."))

    assert live.deliver_mail() >= 1
    mailbox = new_page()
    mailbox.goto("/dev/mailbox/")
    mailbox.get_by_role("listitem").filter(has_text=EMAIL).get_by_role("link", name=re.compile(incident)).click()
    expect(mailbox.locator("pre")).to_contain_text(incident)
    expect(mailbox.locator("pre")).to_contain_text(NAME)
