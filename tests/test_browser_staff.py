"""A real Chromium through the staff's way: told by e-mail that a customer replied, the start page
with the member's work, the queue in order of priority then due date with "customer replied"
(item 16); a reply form whose buttons say what they do, no acknowledgement date once answered, and a
deactivation that asks first (item 17).

The browser, the live server and the customer's sign-in steps come from tests/browsing.py.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from portal import clock
from portal.db import db
from portal.enums import Priority
from portal.staff.models import StaffMember
from tests.browsing import EMAIL, NAME, customer_signs_in, expect, staff_signs_in
from tests.factories import make_customer, make_staff, new_ticket, pickup_everywhere

pytestmark = pytest.mark.browser

CARE_EMAIL, CARE_NAME = "binh.tran@khoingo.net", "Trần Thị Bình"
ADMIN_EMAIL, ADMIN_NAME = "viet.mai@khoingo.net", "Mai Quốc Việt"
ANSWER = "Camera ở cổng vẫn không ghi hình vào ban đêm. The gate camera still records nothing at night."
NOTE = "Ghi chú nội bộ: đã gọi kỹ thuật viên, chờ báo lại (internal only)"
REPLY = "Kỹ thuật viên sẽ đến vào thứ Năm. A technician will visit on Thursday."


# --- steps ---------------------------------------------------------------------------------------------






def open_queue_view(page, live, locale: str, view_title: str) -> None:
    t = live.text
    page.get_by_role("navigation", name=t(locale, "Board")).get_by_role(
        "link", name=t(locale, "Tickets"), exact=True).click()
    link = page.get_by_role("navigation", name=t(locale, "Queue views")).get_by_role(
        "link", name=t(locale, view_title), exact=True)
    link.click()
    expect(link).to_have_attribute("aria-current", "page")


def queue_references(page) -> list[str]:
    return [text.strip() for text in page.locator("table.queue tbody tr td:first-child a").all_inner_texts()]


def work_list(page, live, locale: str, title: str):
    return page.get_by_role("region", name=live.text(locale, title))


def world(live, locale: str) -> dict:
    """A customer with three care requests assigned to Bình: a question (due last), a high-priority
    correction (due in between) and an access request (due first); an administrator."""
    with live.app.app_context():
        pickup_everywhere()
        customer = make_customer(EMAIL, NAME)
        member = make_staff("care", email=CARE_EMAIL, name=CARE_NAME)
        member.preferred_locale = locale
        admin = make_staff("admin", email=ADMIN_EMAIL, name=ADMIN_NAME)
        now = clock.now()
        question = new_ticket(customer=customer, email=EMAIL, now=now, assignee_id=member.id)
        urgent = new_ticket("correction", customer=customer, email=EMAIL, now=now, assignee_id=member.id,
                            priority=Priority.HIGH, due_at=question.due_at - timedelta(days=1))
        access = new_ticket("access", customer=customer, email=EMAIL, now=now, assignee_id=member.id,
                            due_at=question.due_at - timedelta(days=4))
        found = {"member": member.id, "admin": admin.id, "question": question.reference,
                 "urgent": urgent.reference, "access": access.reference}
        db.session.remove()
    return found


# --- 16 --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("locale", ["vi", "en"])
def test_a_customer_reply_reaches_the_assignee_by_mail_start_page_and_queue(live_server, new_page, locale):
    live = live_server
    t = live.text
    if locale == "vi":
        assert t(locale, "Customers waiting for your answer") != "Customers waiting for your answer"
    refs = world(live, locale)

    # The customer answers on the question's page.
    customer = new_page()
    customer_signs_in(customer, live, locale)
    customer.goto(f"/requests/{refs['question']}")
    customer.get_by_label(t(locale, "Your reply")).fill(ANSWER)
    customer.get_by_role("button", name=t(locale, "Send"), exact=True).click()
    expect(customer.get_by_role("status")).to_have_text(t(locale, "Your reply was sent."))

    # The assignee gets an e-mail that says so, without the message, with a link to the ticket.
    assert live.deliver_mail() >= 1
    staff = new_page()
    staff.goto("/dev/mailbox/")
    subject = t(locale, "The customer replied: %(reference)s", reference=refs["question"])
    staff.get_by_role("listitem").filter(has_text=CARE_EMAIL).get_by_role("link", name=subject, exact=True).click()
    body = staff.locator("pre")
    expect(body).to_contain_text(t(locale, "Hello %(name)s,", name=CARE_NAME))
    expect(body).to_contain_text(f"{live.url}/board/tickets/{refs['question']}")
    expect(body).not_to_contain_text(ANSWER)

    # Her start page lists the question as waiting for her, and her open tickets most urgent first.
    staff_signs_in(staff, live, locale, CARE_EMAIL)
    waiting = work_list(staff, live, locale, "Customers waiting for your answer")
    expect(waiting.get_by_role("link", name=refs["question"], exact=True)).to_be_visible()
    expect(waiting).to_contain_text(t(locale, "Customer replied"))
    mine = work_list(staff, live, locale, "Your open tickets")
    expect(mine.get_by_role("listitem")).to_have_count(3)
    assert [item.split()[0] for item in mine.get_by_role("listitem").all_inner_texts()] == [
        refs["urgent"], refs["access"], refs["question"]]

    # The queue: high priority first, then by due date; "customer replied" on the question.
    open_queue_view(staff, live, locale, "Mine")
    assert queue_references(staff) == [refs["urgent"], refs["access"], refs["question"]]
    expect(staff.get_by_role("row").filter(has_text=refs["question"])).to_contain_text(t(locale, "Customer replied"))
    expect(staff.get_by_role("row").filter(has_text=refs["access"])).not_to_contain_text(t(locale, "Customer replied"))

    # She answers; the marker and the start page's entry go.
    staff.get_by_role("link", name=refs["question"], exact=True).click()
    reply = staff.get_by_role("region", name=t(locale, "Reply or add a note"))
    reply.get_by_label(t(locale, "Message"), exact=True).fill(REPLY)
    reply.get_by_role("button", name=t(locale, "Send to the customer by e-mail"), exact=True).click()
    expect(staff.get_by_role("status")).to_have_text(t(locale, "Your reply was sent to the customer."))
    open_queue_view(staff, live, locale, "Mine")
    expect(staff.get_by_role("row").filter(has_text=refs["question"])).not_to_contain_text(
        t(locale, "Customer replied"))
    staff.get_by_role("navigation", name=t(locale, "Board")).get_by_role(
        "link", name=t(locale, "Start page"), exact=True).click()
    expect(work_list(staff, live, locale, "Customers waiting for your answer")).to_contain_text(
        t(locale, "No customer is waiting for an answer from you."))


# --- 17 --------------------------------------------------------------------------------------------------


def test_the_reply_buttons_say_what_they_do_and_the_acknowledgement_date_goes_once_answered(live_server, new_page):
    live, locale = live_server, "vi"
    t = live.text
    refs = world(live, locale)
    reference = refs["question"]
    customer = new_page()
    customer_signs_in(customer, live, locale)
    customer.goto(f"/requests/{reference}")
    expect(customer.locator("dl.facts")).to_contain_text(t(locale, "We confirm it by"))

    staff = new_page()
    staff_signs_in(staff, live, locale, CARE_EMAIL)
    staff.goto(f"/board/tickets/{reference}")
    expect(staff.locator("dd.clocks")).to_contain_text(t(locale, "Acknowledge by"))
    reply = staff.get_by_role("region", name=t(locale, "Reply or add a note"))
    expect(reply.get_by_role("button")).to_have_count(2)
    expect(reply.get_by_role("button", name=t(locale, "Save"), exact=True)).to_have_count(0)
    send = reply.get_by_role("button", name=t(locale, "Send to the customer by e-mail"), exact=True)
    note = reply.get_by_role("button", name=t(locale, "Add as internal note (staff only)"), exact=True)
    expect(send).to_have_accessible_description(t(locale, "E-mailed to %(email)s and shown on their request page.",
                                                  email=EMAIL))
    expect(note).to_have_accessible_description(t(locale, "Not e-mailed: the customer never sees an internal note."))

    # The note: marked as internal, no e-mail to the customer, the acknowledgement still due.
    live.deliver_mail()  # whatever was queued before the note goes first
    reply.get_by_label(t(locale, "Message"), exact=True).fill(NOTE)
    note.click()
    expect(staff.get_by_role("status")).to_have_text(t(locale, "Your internal note was added."))
    expect(staff.locator("ol.thread > li").filter(has_text=NOTE)).to_contain_text(
        t(locale, "Internal note — the customer never sees this"))
    assert live.deliver_mail() == 0
    expect(staff.locator("dd.clocks")).to_contain_text(t(locale, "Acknowledge by"))

    # The reply: e-mailed; the acknowledgement date leaves both pages.
    reply = staff.get_by_role("region", name=t(locale, "Reply or add a note"))
    reply.get_by_label(t(locale, "Message"), exact=True).fill(REPLY)
    reply.get_by_role("button", name=t(locale, "Send to the customer by e-mail"), exact=True).click()
    expect(staff.get_by_role("status")).to_have_text(t(locale, "Your reply was sent to the customer."))
    assert live.deliver_mail() == 1
    expect(staff.locator("dd.clocks")).not_to_contain_text(t(locale, "Acknowledge by"))
    customer.reload()
    expect(customer.locator("ol.thread")).to_contain_text(REPLY)
    expect(customer.locator("dl.facts")).not_to_contain_text(t(locale, "We confirm it by"))
    expect(customer.locator("dl.facts")).to_contain_text(t(locale, "Answer due by"))


def test_deactivating_a_member_asks_first_and_can_be_called_off(live_server, new_page):
    live, locale = live_server, "vi"
    t = live.text
    refs = world(live, locale)
    admin = new_page()
    staff_signs_in(admin, live, locale, ADMIN_EMAIL)
    admin.goto("/staff/admin/members")
    admin.get_by_role("link", name=CARE_NAME).click()
    expect(admin.get_by_role("heading", level=1)).to_have_text(CARE_NAME)
    access = admin.get_by_role("region", name=t(locale, "Access"))
    expect(access.get_by_role("button")).to_have_count(0)  # nothing here acts in one click

    access.get_by_role("link", name=t(locale, "Deactivate…")).click()
    question = t(locale, "Deactivate %(name)s?", name=CARE_NAME)
    expect(admin.get_by_role("heading", level=1)).to_have_text(question)
    expect(admin).to_have_title(re.compile(re.escape(question)))
    expect(admin.get_by_role("main")).to_contain_text(CARE_EMAIL)
    admin.get_by_role("link", name=t(locale, "Cancel: keep the account active")).click()
    expect(admin.get_by_role("heading", level=1)).to_have_text(CARE_NAME)
    expect(admin.locator("dl.facts")).to_contain_text(t(locale, "Active"))
    with live.app.app_context():
        assert db.session.get(StaffMember, refs["member"]).is_active
        db.session.remove()

    admin.get_by_role("region", name=t(locale, "Access")).get_by_role("link", name=t(locale, "Deactivate…")).click()
    confirm = admin.get_by_role("button", name=t(locale, "Yes, deactivate %(name)s", name=CARE_NAME), exact=True)
    expect(confirm).to_have_class("button button-danger")
    confirm.click()
    expect(admin.get_by_role("status")).to_have_text(
        t(locale, "%(name)s is deactivated and signed out everywhere.", name=CARE_NAME))
    with live.app.app_context():
        assert not db.session.get(StaffMember, refs["member"]).is_active
        db.session.remove()
