"""The address a customer signs in with: a shared mailbox's sign-in e-mail names no record, a confirmed
change of address ends the sessions signed in with the old one, and removing a contact point is
confirmed first (never the address signed in with)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from portal.account.models import ContactPoint, DataChange
from portal.audit.models import AuditRecord
from portal.auth.models import CustomerSession
from portal.db import db
from portal.enums import Channel
from tests.factories import make_customer
from tests.helpers import CSRF_FIELD, count, link_and_code, outbox, page_text, request_link, sign_in

SHARED = "ketoan@congty.vn"
VERSION = re.compile(r'name="version" type="hidden" value="([^"]*)"')


def _point(customer_id: int, channel: Channel) -> ContactPoint:
    return db.session.scalars(select(ContactPoint).where(ContactPoint.customer_id == customer_id,
                                                         ContactPoint.channel == channel)).first()


# --- 1. a shared mailbox's sign-in e-mail ----------------------------------------------------------


def test_the_sign_in_email_to_a_shared_mailbox_greets_nobody_by_name(app, client):
    make_customer(SHARED, "Công ty Hòa Bình", locale="en", order="DH-2026-00001")
    make_customer(SHARED, "Chi nhánh Hòa Bình Hà Nội", order="DH-2026-00002")
    assert request_link(client, SHARED).status_code == 303
    [mail] = outbox(SHARED)
    for part in (mail.subject, mail.body_text, mail.body_html):
        assert "Hòa Bình" not in part
    assert "Kính gửi Quý khách," in mail.body_text and mail.locale == "vi"  # as asked, not a record's language
    assert "chọn" in mail.body_text  # they choose the record after signing in
    path, _code = link_and_code(mail)
    page = page_text(client.get(path, follow_redirects=True))
    response = client.post("/sign-in/continue", data={"csrf_token": CSRF_FIELD.search(page).group(1)})
    assert "/sign-in/records" in client.get(response.headers["Location"]).headers["Location"]


def test_the_sign_in_email_to_one_record_still_greets_it(app, client):
    make_customer("an.nguyen@example.vn", "Nguyễn Văn An")
    make_customer(SHARED, "Công ty Hòa Bình")
    request_link(client, "an.nguyen@example.vn")
    [mail] = outbox("an.nguyen@example.vn")
    assert "Nguyễn Văn An" in mail.body_text and "Hòa Bình" not in mail.body_text


# --- 2. a confirmed change of address ends the old address's sessions --------------------------------


def _ask_for_new_address(client, point_id: int, address: str) -> str:
    path = f"/my-data/contacts/{point_id}"
    page = page_text(client.get(path))
    response = client.post(path, data={"csrf_token": CSRF_FIELD.search(page).group(1),
                                       "version": VERSION.search(page).group(1), "kind": "company", "value": address})
    assert response.status_code == 303
    return re.search(r"http://localhost(/my-data/email/\S+)", outbox(address)[-1].body_text).group(1)


def _confirm(client, link: str):
    token = CSRF_FIELD.search(page_text(client.get(link))).group(1)
    response = client.post(link, data={"csrf_token": token})
    assert response.status_code == 200
    return response


def _signed_in(client) -> bool:
    return client.get("/my-data").status_code == 200


def test_confirming_in_the_own_session_keeps_it_and_ends_the_others(app):
    customer = make_customer()
    other = make_customer("binh@example.vn", "Trần Bình")
    phone, laptop, theirs = app.test_client(), app.test_client(), app.test_client()
    sign_in(phone, "an.nguyen@example.vn")
    sign_in(laptop, "an.nguyen@example.vn")
    sign_in(theirs, "binh@example.vn")
    link = _ask_for_new_address(phone, _point(customer.id, Channel.EMAIL).id, "an@congty.vn")
    _confirm(laptop, link)
    assert _signed_in(laptop) and not _signed_in(phone) and _signed_in(theirs)
    sessions = db.session.scalars(select(CustomerSession).where(CustomerSession.customer_id == customer.id)
                                  .order_by(CustomerSession.id)).all()
    assert [(row.email, row.end_reason) for row in sessions] == [("an.nguyen@example.vn", "email_changed"),
                                                                  ("an@congty.vn", None)]
    assert count(AuditRecord, AuditRecord.action == "session.ended") == 1
    assert count(AuditRecord, AuditRecord.action == "session.address_changed") == 1
    confirmed = db.session.scalars(select(AuditRecord).where(AuditRecord.action == "customer.email_confirmed")).one()
    assert confirmed.data["sessions_ended"] == 1
    # The kept session is signed in with the new address: that one is the one it cannot remove.
    new = _point(customer.id, Channel.EMAIL)
    page = page_text(laptop.get(f"/my-data/contacts/{new.id}/remove"))
    assert "Yes, remove it" not in page and "Có, xóa" not in page
    assert other.id != customer.id


def test_confirming_from_a_browser_signed_in_as_nobody_ends_every_old_session(app):
    customer = make_customer()
    phone, mail_app = app.test_client(), app.test_client()
    sign_in(phone, "an.nguyen@example.vn")
    link = _ask_for_new_address(phone, _point(customer.id, Channel.EMAIL).id, "an@congty.vn")
    _confirm(mail_app, link)
    assert not _signed_in(phone) and not _signed_in(mail_app)
    assert count(CustomerSession, CustomerSession.ended_at.is_(None)) == 0
    sign_in(app.test_client(), "an@congty.vn")


def test_adding_a_second_address_ends_no_session(app, client):
    customer = make_customer()
    sign_in(client, "an.nguyen@example.vn")
    page = page_text(client.get("/my-data/contacts/new/email"))
    client.post("/my-data/contacts/new/email", data={"csrf_token": CSRF_FIELD.search(page).group(1),
                                                     "version": "0", "kind": "company", "value": "an@congty.vn"})
    link = re.search(r"http://localhost(/my-data/email/\S+)", outbox("an@congty.vn")[-1].body_text).group(1)
    _confirm(app.test_client(), link)
    assert _signed_in(client) and count(ContactPoint, ContactPoint.customer_id == customer.id,
                                        ContactPoint.channel == Channel.EMAIL) == 2


# --- 3. removing a contact point is confirmed first ---------------------------------------------------


@pytest.fixture
def signed_in(app, client):
    customer = make_customer()
    sign_in(client, "an.nguyen@example.vn")
    return customer


def test_removing_asks_first_and_the_confirmation_removes(client, signed_in):
    phone = _point(signed_in.id, Channel.PHONE)
    my_data = page_text(client.get("/my-data"))
    assert f'href="/my-data/contacts/{phone.id}/remove"' in my_data
    assert f'action="/my-data/contacts/{phone.id}/remove"' not in my_data  # no one-press removal
    confirm = client.get(f"/my-data/contacts/{phone.id}/remove")
    page = page_text(confirm)
    assert confirm.status_code == 200 and "0903 123 456" in page and 'type="submit"' in page
    assert 'aria-describedby="remove-what"' in page and 'id="remove-what"' in page
    assert count(ContactPoint, ContactPoint.customer_id == signed_in.id) == 3  # asking changes nothing
    response = client.post(f"/my-data/contacts/{phone.id}/remove", data={
        "csrf_token": CSRF_FIELD.search(page).group(1), "version": VERSION.search(page).group(1)})
    assert response.status_code == 303 and response.headers["Location"].endswith("/my-data#h-contacts")
    assert count(ContactPoint, ContactPoint.customer_id == signed_in.id) == 2
    change = db.session.scalars(select(DataChange)).one()
    assert (change.old_value, change.new_value) == ("0903 123 456", None)
    assert count(AuditRecord, AuditRecord.action == "customer.contact_removed") == 1


def test_the_sign_in_address_cannot_be_removed_even_from_its_confirm_page(client, signed_in):
    email = _point(signed_in.id, Channel.EMAIL)
    page = page_text(client.get(f"/my-data/contacts/{email.id}/remove"))
    assert 'type="submit"' not in page.split("<main")[1].split("</main>")[0]
    token = CSRF_FIELD.search(page_text(client.get(f"/my-data/contacts/{_point(signed_in.id, Channel.PHONE).id}"
                                                   "/remove"))).group(1)
    response = client.post(f"/my-data/contacts/{email.id}/remove", data={"csrf_token": token, "version": "1"})
    assert response.status_code == 409 and 'role="alert"' in page_text(response)
    assert count(ContactPoint, ContactPoint.customer_id == signed_in.id) == 3 and count(DataChange) == 0


def test_a_stale_or_damaged_confirmation_removes_nothing(client, signed_in):
    phone = _point(signed_in.id, Channel.PHONE)
    page = page_text(client.get(f"/my-data/contacts/{phone.id}/remove"))
    token = CSRF_FIELD.search(page).group(1)
    stale = client.post(f"/my-data/contacts/{phone.id}/remove", data={"csrf_token": token, "version": "7"})
    assert stale.status_code == 409 and 'role="alert"' in page_text(stale)
    damaged = client.post(f"/my-data/contacts/{phone.id}/remove", data={"version": "1"})
    assert damaged.status_code == 400 and 'role="alert"' in page_text(damaged)
    assert count(ContactPoint, ContactPoint.customer_id == signed_in.id) == 3 and count(DataChange) == 0


def test_another_customers_contact_point_has_no_confirm_page(client, signed_in):
    other = make_customer("binh@example.vn", "Trần Bình")
    assert client.get(f"/my-data/contacts/{_point(other.id, Channel.PHONE).id}/remove").status_code == 404
