"""A real Chromium through a ticket's whole life, in Vietnamese and in English.

A customer signs in by link and files a question; the care member it was routed to (created first,
so automatic assignment gives it to them) signs in, in another browser context, with password and
TOTP, adds an internal note and replies; the customer reads the reply in the development mailbox
and in the portal, where the note never shows, and answers; the member sees the answer and resolves
the ticket; the customer sees it resolved.

The browser, the live server and the customer's sign-in steps come from tests/browsing.py; each
test gets its own database there, so its staff member uses its TOTP code once and never has
to wait for the next 30-second step.
"""

from __future__ import annotations

import re

import pytest

from portal.db import db
from tests.browsing import EMAIL, NAME, customer_signs_in, expect, staff_signs_in
from tests.factories import make_customer, make_staff

pytestmark = pytest.mark.browser

STAFF_EMAIL = "binh.tran@khoingo.net"
STAFF_NAME = "Trần Thị Bình"
QUESTION = "Camera ghi hình của tôi được lưu bao lâu? How long do you keep my camera recordings?"
NOTE = "Ghi chú nội bộ: khách gọi hai lần, kiểm tra hợp đồng HD-77 (internal only)"
REPLY = "Chúng tôi lưu bản ghi 30 ngày rồi xoá tự động. We keep recordings for 30 days."
ANSWER = "Cảm ơn, tôi đã hiểu. Thank you, that answers my question."
REFERENCE = re.compile(r"^KN-\d{4}-\d+$")


# --- the customer --------------------------------------------------------------------------------




def customer_files_question(page, live, locale: str) -> str:
    """File a question from "New request"; return the reference the page shows."""
    t = live.text
    page.get_by_role("navigation", name=t(locale, "Main")).get_by_role(
        "link", name=t(locale, "New request"), exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t(locale, "New request"))
    page.get_by_label(t(locale, "What is your request about?")).select_option("question")
    page.get_by_label(t(locale, "Your message")).fill(QUESTION)
    page.get_by_role("button", name=t(locale, "Send the request")).click()

    expect(page).to_have_url(re.compile(r"/requests/KN-\d{4}-\d+$"))
    reference = page.get_by_role("heading", level=1).locator(".reference").inner_text().strip()
    assert REFERENCE.match(reference), reference
    expect(page.get_by_role("status")).to_have_text(
        t(locale, "Your request is filed. Its reference is %(reference)s.", reference=reference))
    expect(page.get_by_role("heading", level=1)).to_contain_text(t(locale, "Question"))
    expect(page.get_by_role("listitem").filter(has_text=QUESTION)).to_contain_text(t(locale, "You"))
    return reference


def customer_opens_request(page, live, locale: str, reference: str) -> None:
    """From "My requests", open the request with ``reference``."""
    t = live.text
    page.get_by_role("navigation", name=t(locale, "Main")).get_by_role(
        "link", name=t(locale, "My requests"), exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t(locale, "My requests"))
    page.get_by_role("listitem").filter(has_text=reference).get_by_role("link").click()
    expect(page).to_have_url(f"{live.url}/requests/{reference}")
    expect(page.get_by_role("heading", level=1)).to_contain_text(reference)


def customer_status(page):
    """The request's status as the customer's page shows it (the first fact of the list)."""
    return page.locator("dl.facts dd").first


def open_mail(page, live, locale: str, subject: str):
    """Open the newest e-mail to the customer with ``subject`` in the development mailbox; return its body."""
    page.goto("/dev/mailbox/")
    page.get_by_role("listitem").filter(has_text=EMAIL).get_by_role("link", name=subject, exact=True).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(subject)
    expect(page.locator("dd").filter(has_text="sent")).to_have_count(1)  # delivered by the worker
    return page.locator("pre")


# --- the staff member ----------------------------------------------------------------------------




def staff_opens_ticket_from_mine(page, live, locale: str, reference: str) -> None:
    t = live.text
    page.get_by_role("navigation", name=t(locale, "Board")).get_by_role(
        "link", name=t(locale, "Tickets"), exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t(locale, "Tickets"))
    mine = page.get_by_role("navigation", name=t(locale, "Queue views")).get_by_role(
        "link", name=t(locale, "Mine"), exact=True)
    mine.click()
    expect(mine).to_have_attribute("aria-current", "page")
    row = page.get_by_role("row").filter(has_text=reference)
    expect(row).to_have_count(1)
    expect(row).to_contain_text(STAFF_NAME)  # assigned automatically to the only care member
    expect(row).to_contain_text(t(locale, "New"))
    row.get_by_role("link", name=reference, exact=True).click()
    expect(page).to_have_url(f"{live.url}/board/tickets/{reference}")
    expect(page.get_by_role("heading", level=1)).to_contain_text(reference)


def staff_writes(page, live, locale: str, message: str, visibility: str) -> None:
    """Type ``message`` into the reply form and press the button that sends it to the customer or
    the one that adds it as an internal note."""
    t = live.text
    form = page.get_by_role("region", name=t(locale, "Reply or add a note"))
    form.get_by_label(t(locale, "Message"), exact=True).fill(message)
    button = "Send to the customer by e-mail" if visibility == "public" else "Add as internal note (staff only)"
    form.get_by_role("button", name=t(locale, button), exact=True).click()
    expect(page.get_by_role("status")).to_have_text(
        t(locale, "Your reply was sent to the customer.") if visibility == "public"
        else t(locale, "Your internal note was added."))


def thread_message(page, text: str):
    return page.locator("ol.thread > li").filter(has_text=text)


# --- the journey ---------------------------------------------------------------------------------


@pytest.mark.parametrize("locale", ["vi", "en"])
def test_question_answered_by_care_then_resolved(live_server, new_page, locale):
    live = live_server
    t = live.text
    if locale == "vi":  # the expected texts below come from the catalogue: make sure it translates
        assert t(locale, "Reply or add a note") != "Reply or add a note"
    with live.app.app_context():
        make_customer(EMAIL, NAME)
        make_staff("care", email=STAFF_EMAIL, name=STAFF_NAME)  # before the ticket
        db.session.remove()

    # The customer files a question and sees its reference.
    customer = new_page()
    customer_signs_in(customer, live, locale)
    reference = customer_files_question(customer, live, locale)
    expect(customer_status(customer)).to_have_text(t(locale, "New"))

    # The care member signs in on their own browser, finds it in "Mine", notes and replies.
    staff = new_page()
    staff_signs_in(staff, live, locale, STAFF_EMAIL)
    staff_opens_ticket_from_mine(staff, live, locale, reference)
    expect(thread_message(staff, QUESTION)).to_contain_text(t(locale, "Customer"))
    staff_writes(staff, live, locale, NOTE, "internal")
    expect(thread_message(staff, NOTE)).to_contain_text(t(locale, "Internal note — the customer never sees this"))
    staff_writes(staff, live, locale, REPLY, "public")
    expect(thread_message(staff, REPLY)).to_contain_text(t(locale, "Reply by %(name)s", name=STAFF_NAME))

    # The customer reads the reply by e-mail (the note is not in it) ...
    assert live.deliver_mail() >= 2  # "we received your request" and the reply
    body = open_mail(customer, live, locale, t(locale, "New answer to your request %(reference)s",
                                               reference=reference))
    expect(body).to_contain_text(t(locale, "Our staff answered your request %(reference)s:", reference=reference))
    expect(body).to_contain_text(REPLY)
    expect(body).not_to_contain_text(NOTE)

    # ... and in the portal, where the internal note is not shown either; then answers.
    customer_opens_request(customer, live, locale, reference)
    expect(customer_status(customer)).to_have_text(t(locale, "Open"))
    expect(thread_message(customer, REPLY)).to_contain_text(t(locale, "Khôi Ngô Security"))
    main = customer.get_by_role("main")
    expect(main).not_to_contain_text(NOTE)
    expect(main).not_to_contain_text(t(locale, "Internal note — the customer never sees this"))
    customer.get_by_label(t(locale, "Your reply")).fill(ANSWER)
    customer.get_by_role("button", name=t(locale, "Send"), exact=True).click()
    expect(customer.get_by_role("status")).to_have_text(t(locale, "Your reply was sent."))
    expect(thread_message(customer, ANSWER)).to_contain_text(t(locale, "You"))

    # The member sees the answer in the thread and resolves the ticket.
    staff.reload()
    expect(thread_message(staff, ANSWER)).to_contain_text(t(locale, "Customer"))
    update = staff.get_by_role("region", name=t(locale, "Status and routing"))
    update.get_by_label(t(locale, "Status"), exact=True).select_option("resolved")
    update.get_by_role("button", name=t(locale, "Update"), exact=True).click()
    expect(staff.get_by_role("status")).to_have_text(t(locale, "The ticket was updated."))
    expect(staff.locator("dl.facts dd").first).to_have_text(t(locale, "Resolved"))

    # The customer sees it resolved, in the portal and by e-mail; the note never appeared.
    customer.reload()
    expect(customer_status(customer)).to_have_text(t(locale, "Resolved"))
    expect(customer.get_by_role("listitem").filter(
        has_text=t(locale, "Status changed to “%(status)s”", status=t(locale, "Resolved")))).to_have_count(1)
    expect(customer.get_by_role("main")).not_to_contain_text(NOTE)
    assert live.deliver_mail() >= 1
    open_mail(customer, live, locale, t(locale, "Your request %(reference)s is resolved", reference=reference))
