"""A real Chromium through a restricted record: care open it on the board, see the restriction and
no way to edit it, lift it with a reason; the record can be corrected again, and the customer's
e-mail gives the reason."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from portal.db import db
from portal.staff.models import StaffMember
from tests.browsing import EMAIL, NAME, expect
from tests.factories import make_customer, make_staff
from tests.helpers import STAFF_PASSWORD, staff_totp_code

pytestmark = pytest.mark.browser

STAFF_EMAIL = "hoa.le@khoingo.net"
STAFF_NAME = "Lê Thị Hoa"
REASON = "Quý khách gọi điện xác nhận muốn dùng lại dịch vụ bảo trì."


def staff_signs_in(page, live, locale: str, member_id: int) -> None:
    t = live.text
    page.goto("/staff/sign-in")
    page.get_by_label(t(locale, "Work e-mail address")).fill(STAFF_EMAIL)
    page.get_by_label(t(locale, "Password")).fill(STAFF_PASSWORD)
    page.get_by_role("button", name=t(locale, "Continue"), exact=True).click()
    with live.app.app_context():
        code = staff_totp_code(db.session.get(StaffMember, member_id))
        db.session.remove()
    page.get_by_label(t(locale, "Code from your authenticator app, or a recovery code")).fill(code)
    page.get_by_role("button", name=t(locale, "Sign in"), exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t(locale, "Hello %(name)s", name=STAFF_NAME))


def test_care_see_a_restricted_record_and_lift_the_restriction_with_a_reason(live_server, new_page):
    live = live_server
    t = live.text
    locale = "vi"
    with live.app.app_context():
        customer = make_customer(EMAIL, NAME)
        customer.restricted_at = datetime.now(timezone.utc)
        db.session.commit()
        customer_id = customer.id
        member_id = make_staff("care", email=STAFF_EMAIL, name=STAFF_NAME).id
        db.session.remove()

    page = new_page()
    staff_signs_in(page, live, locale, member_id)
    page.goto(f"/board/customers/{customer_id}")
    expect(page.locator(".restricted")).to_contain_text(t(locale, "Do not edit this record or use it for marketing "
                                                                  "or anything else: only keep it."))
    expect(page.get_by_role("link", name=t(locale, "Correct this record"))).to_have_count(0)

    page.get_by_text(t(locale, "Lift the restriction"), exact=True).first.click()  # opens the panel
    page.get_by_role("button", name=t(locale, "Lift the restriction")).click()  # no reason yet
    expect(page.locator(".field-error")).to_have_text(
        t(locale, "Give the reason for lifting the restriction: the customer reads it."))
    page.get_by_label(t(locale, "Why the restriction is lifted (the customer reads it)")).fill(REASON)
    page.get_by_role("button", name=t(locale, "Lift the restriction")).click()
    expect(page.get_by_text(t(locale, "The restriction is lifted, and the customer was e-mailed the reason.")))\
        .to_be_visible()
    expect(page.locator(".restricted")).to_have_count(0)
    expect(page.get_by_role("link", name=t(locale, "Correct this record"))).to_be_visible()
    expect(page.get_by_role("cell", name=REASON)).to_be_visible()

    subject = t(locale, "We lifted the restriction of your data")
    page.goto("/dev/mailbox/")
    page.get_by_role("listitem").filter(has_text=EMAIL).get_by_role("link", name=subject, exact=True).first.click()
    expect(page.locator("pre")).to_contain_text(REASON)
