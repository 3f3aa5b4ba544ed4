"""Pages kept and served again (portal/page_cache.py): never another person's page, never a token
or form key of another response, and never a page older than the data it shows."""

from __future__ import annotations

import re

from sqlalchemy import select, update

from portal.account.models import ContactPoint, bump_data_versions
from portal.audit.models import CustomerDataView
from portal.board_version import board_version
from portal.db import db
from portal.enums import Channel
from portal.tickets import services
from tests.factories import make_customer, make_staff, new_ticket
from tests.helpers import CSRF_FIELD, page_text, sign_in, sign_in_staff

KEY = re.compile(r'name="submission_key" type="hidden" value="([0-9a-f]{32})"')


def token_of(page: str) -> str:
    return CSRF_FIELD.search(page).group(1)


def test_each_visitor_gets_their_own_token_from_the_same_kept_page(app):
    first, second = app.test_client(), app.test_client()
    page_one, page_two = page_text(first.get("/")), page_text(second.get("/"))
    assert token_of(page_one) != token_of(page_two)
    assert page_one.replace(token_of(page_one), "") == page_two.replace(token_of(page_two), "")
    for client, page in ((first, page_one), (second, page_two)):
        response = client.post("/language", data={"csrf_token": token_of(page), "locale": "en", "next": "/"})
        assert response.status_code == 303
    assert '<html lang="en">' in page_text(first.get("/")) and "page-cache-" not in page_text(first.get("/"))


def test_a_signed_in_members_page_is_never_a_visitors(app, clock):
    member = make_staff("care")
    staff = app.test_client()
    sign_in_staff(staff, member, clock=clock)
    assert 'action="/staff/sign-out"' in page_text(staff.get("/sign-in"))
    visitor_page = page_text(app.test_client().get("/sign-in"))
    assert 'action="/staff/sign-out"' not in visitor_page and "/board/" not in visitor_page


def test_a_customers_pages_are_never_served_to_another(app, clock):
    make_customer("a@example.vn", "Khách Hàng A", order="DH-A", phone_normalized="+84911111111")
    make_customer("b@example.vn", "Khách Hàng Bê", order="DH-B", phone_normalized="+84922222222")
    reference = new_ticket(email="a@example.vn", body="Câu hỏi của A").reference
    a, b = app.test_client(), app.test_client()
    sign_in(a, "a@example.vn")
    sign_in(b, "b@example.vn")
    page_a, page_b = page_text(a.get("/my-data")), page_text(b.get("/my-data"))
    assert "DH-A" in page_a and "a@example.vn" in page_a
    assert "DH-A" not in page_b and "a@example.vn" not in page_b and "DH-B" in page_b
    assert reference in page_text(a.get("/requests/")) and reference not in page_text(b.get("/requests/"))
    assert b.get(f"/requests/{reference}").status_code == 404


def test_my_data_shows_a_change_of_the_record_at_once(client, customer):
    sign_in(client, "an.nguyen@example.vn")
    assert "0903 123 456" in page_text(client.get("/my-data"))
    phone = db.session.scalars(select(ContactPoint).where(ContactPoint.channel == Channel.PHONE)).one()
    phone.value = "0912 000 999"
    db.session.commit()
    page = page_text(client.get("/my-data"))
    assert "0912 000 999" in page and "0903 123 456" not in page


def test_a_change_by_a_bulk_statement_shows_once_it_moves_the_version(client, customer):
    sign_in(client, "an.nguyen@example.vn")
    page_text(client.get("/my-data"))
    db.session.execute(update(ContactPoint).where(ContactPoint.channel == Channel.PHONE)
                       .values(value="0988 111 222"))
    bump_data_versions(db.session.connection(), [customer.id])
    db.session.commit()
    assert "0988 111 222" in page_text(client.get("/my-data"))


def test_my_data_shows_a_staff_view_at_once(app, client, customer, clock):
    ticket = new_ticket(customer=customer, email="an.nguyen@example.vn")
    sign_in(client, "an.nguyen@example.vn")
    member = make_staff("care", name="Trịnh Ngọc Lan")
    assert "Trịnh Ngọc Lan" not in page_text(client.get("/my-data"))
    staff = app.test_client()
    sign_in_staff(staff, member, clock=clock)
    assert staff.get(f"/board/tickets/{ticket.reference}").status_code == 200
    assert "Trịnh Ngọc Lan" in page_text(client.get("/my-data"))


def test_a_request_page_shows_a_reply_at_once_with_a_new_form_key_every_time(client, customer, clock):
    ticket = new_ticket(customer=customer, email="an.nguyen@example.vn")
    sign_in(client, "an.nguyen@example.vn")
    first, second = page_text(client.get(f"/requests/{ticket.reference}")), None
    second = page_text(client.get(f"/requests/{ticket.reference}"))
    assert KEY.search(first).group(1) != KEY.search(second).group(1)
    member = make_staff("care")
    services.add_staff_entry(ticket, member, "Chúng tôi đã nhận được.", True, clock.now())
    db.session.commit()
    assert "Chúng tôi đã nhận được." in page_text(client.get(f"/requests/{ticket.reference}"))
    assert ticket.reference in page_text(client.get("/requests/"))


def test_a_page_with_a_notice_is_neither_kept_nor_served_from_the_cache(client, customer):
    sign_in(client, "an.nguyen@example.vn")
    page = page_text(client.get("/requests/new"))
    response = client.post("/requests/new", data={"csrf_token": token_of(page), "kind": "question",
                                                  "message": "Xin chào", "submission_key": KEY.search(page).group(1)},
                           follow_redirects=True)
    notice = "Its reference is"
    assert notice in page_text(response) or "Mã yêu cầu" in page_text(response)
    again = page_text(client.get(response.request.path))
    assert notice not in again and 'class="notice notice-success"' not in again


# --- the staff board's kept pages -------------------------------------------------------------------


def test_a_kept_queue_shows_a_colleagues_change_at_once_and_still_logs_every_view(app, clock):
    customer = make_customer()
    ticket = new_ticket(customer=customer, email="an.nguyen@example.vn", body="Câu hỏi")
    lan, minh = make_staff("care", name="Lan Care"), make_staff("care", email="minh@khoingo.net", name="Minh Care")
    client = app.test_client()
    sign_in_staff(client, lan, clock=clock)
    first, again = (page_text(client.get("/board/?view=department")) for _ in range(2))
    assert first.replace(token_of(first), "") == again.replace(token_of(again), "")  # kept
    views = db.session.scalars(select(CustomerDataView).where(CustomerDataView.customer_id == customer.id)).all()
    assert len(views) == 2  # the kept page logged its view too
    version = board_version()
    services.assign(db.session.get(type(ticket), ticket.id), minh, minh, clock.now())  # a colleague takes it
    db.session.commit()
    assert board_version() == version + 1
    assert "Minh Care" in page_text(client.get("/board/?view=department"))
    db.session.rollback()
    assert board_version() == version + 1  # a rollback moves nothing on


def test_a_kept_ticket_page_is_never_another_members_and_shows_new_messages(app, clock):
    customer = make_customer()
    ticket = new_ticket(customer=customer, email="an.nguyen@example.vn", body="Câu hỏi đầu tiên")
    lan, admin = make_staff("care", name="Lan Care"), make_staff("admin", name="Quản Trị")
    lan_client, admin_client = app.test_client(), app.test_client()
    sign_in_staff(lan_client, lan, clock=clock)
    sign_in_staff(admin_client, admin, clock=clock)
    path = f"/board/tickets/{ticket.reference}"
    lan_page, admin_page = page_text(lan_client.get(path)), page_text(admin_client.get(path))
    # The administrator sees the routing, not the messages nor the customer's data, kept page or not.
    assert "Câu hỏi đầu tiên" in lan_page and "0903 123 456" in lan_page
    assert "Câu hỏi đầu tiên" not in admin_page and "0903 123 456" not in admin_page
    reply_key = re.compile(r'name="reply-submission_key" type="hidden" value="([0-9a-f]{32})"')
    assert reply_key.search(lan_page).group(1) != reply_key.search(page_text(lan_client.get(path))).group(1)
    services.add_customer_message(db.session.get(type(ticket), ticket.id), "Tin nhắn mới của khách", clock.now())
    db.session.commit()
    assert "Tin nhắn mới của khách" in page_text(lan_client.get(path))
