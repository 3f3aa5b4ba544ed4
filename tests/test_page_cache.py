"""Pages kept and served again (portal/page_cache.py): never another person's page, never a token
or form key of another response, and never a page older than the data it shows."""

from __future__ import annotations

import re

from sqlalchemy import select, update

from portal.account.models import ContactPoint, bump_data_versions
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
