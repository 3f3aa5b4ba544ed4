"""A real Chromium through the customer's rights: a customer downloads a copy of their data, asks
for its deletion; a care member approves it on the ticket page; the customer reads, on the request's
page and in the e-mail, what is kept, why and until when."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from portal.db import db
from portal.rights.models import RetainedCategory
from tests.browsing import EMAIL, NAME, customer_signs_in, expect, staff_signs_in
from tests.factories import make_customer, make_staff

pytestmark = pytest.mark.browser

STAFF_EMAIL = "lan.pham@khoingo.net"
STAFF_NAME = "Phạm Thị Lan"






def open_mail(page, subject: str):
    page.goto("/dev/mailbox/")
    page.get_by_role("listitem").filter(has_text=EMAIL).get_by_role("link", name=subject, exact=True).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(subject)
    return page.locator("pre")


def test_copy_deletion_approval_and_what_is_kept(live_server, new_page):
    live = live_server
    t = live.text
    locale = "vi"
    assert t(locale, "Approve and erase") != "Approve and erase"  # the catalogue translates
    with live.app.app_context():
        customer = make_customer(EMAIL, NAME)
        warranty = customer.orders[0].warranty_ends_on
        make_staff("care", email=STAFF_EMAIL, name=STAFF_NAME)
        db.session.remove()

    # The customer, just signed in, downloads a copy of their data.
    page = new_page()
    customer_signs_in(page, live, locale)
    page.get_by_role("link", name=t(locale, "Download a copy of your data")).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t(locale, "A copy of your data"))
    page.get_by_label(t(locale, "A file (JSON), for a computer")).check()
    with page.expect_download() as download_info:
        page.get_by_role("button", name=t(locale, "Download the copy")).click()
    data = json.loads(Path(download_info.value.path()).read_text(encoding="utf-8"))
    assert data["customer"]["full_name"] == NAME and data["schema_version"]
    page.goto("/my-data")
    downloaded = page.get_by_role("listitem").filter(has_text=t(locale, "file (JSON)"))
    expect(downloaded).to_have_count(1)

    # ... then asks for its deletion, reading first what is deleted and what is kept until when.
    page.get_by_role("link", name=t(locale, "Ask us to delete your data")).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t(locale, "Delete my data"))
    expect(page.get_by_role("main")).to_contain_text(live.date(locale, warranty))
    page.get_by_role("button", name=t(locale, "Ask for deletion")).click()
    expect(page.get_by_role("main")).to_contain_text(t(locale, "Tick the box to confirm you have read this."))
    page.get_by_label(t(locale, "I have read what is deleted, what is kept and until when, and that my open "
                              "requests will be closed.")).check()
    page.get_by_role("button", name=t(locale, "Ask for deletion")).click()
    expect(page).to_have_url(live.url + "/requests/" + page.url.rsplit("/", 1)[1])
    reference = page.get_by_role("heading", level=1).locator(".reference").inner_text().strip()
    expect(page.get_by_role("main")).to_contain_text(
        t(locale, "Our customer care is checking your request. You will be told exactly what is kept, why and "
                  "until when."))

    # Care approve it from the ticket page.
    staff = new_page()
    staff_signs_in(staff, live, locale, STAFF_EMAIL)
    staff.goto(f"/board/tickets/{reference}")
    staff.get_by_role("button", name=t(locale, "Approve and erase")).click()
    expect(staff.get_by_role("status")).to_have_text(
        t(locale, "The erasure was carried out and the customer was told what is kept."))
    expect(staff.locator("p.restricted")).to_contain_text(t(locale, "What is left is kept only because the law or a "
                                                                "warranty requires it: use it for nothing else."))

    # The customer reads what is kept, why and until when: on the request's page and by e-mail.
    page.reload()
    main = page.get_by_role("main")
    expect(main).to_contain_text(t(locale, "What we keep, why and until when"))
    expect(main).to_contain_text(t(locale, "kept until %(date)s", date=live.date(locale, warranty)))
    expect(main).to_contain_text(str(live.title(locale, RetainedCategory.WARRANTY)))
    expect(main).to_contain_text(str(live.title(locale, RetainedCategory.ACCOUNTING)))
    assert live.deliver_mail() >= 1
    body = open_mail(page, t(locale, "Your data is deleted (request %(reference)s)",
                                           reference=reference))
    expect(body).to_contain_text(t(locale, "kept until %(date)s", date=live.date(locale, warranty)))
