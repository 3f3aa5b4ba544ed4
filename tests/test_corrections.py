"""Customers correct their own data on My data: at once for addresses, phones and notes (history,
audit, one correction request for care), through a link for a new e-mail address, through staff's
review for a new name; stale forms, other customers' ids, bad values and missing CSRF change nothing."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from portal.account.models import ContactPoint, Customer, DataChange
from portal.audit.models import AuditRecord
from portal.db import db
from portal.email_links import EmailLink
from portal.enums import Channel, DataSource
from portal.tickets import services
from portal.tickets.kinds.correction import CorrectionDetails
from portal.tickets.models import Ticket
from tests.factories import make_customer, make_staff
from tests.helpers import CSRF_FIELD, count, outbox, page_text, sign_in, sign_in_staff

VERSION = re.compile(r'name="version" type="hidden" value="([^"]*)"')


def _point(customer_id: int, channel: Channel) -> ContactPoint:
    return db.session.scalars(select(ContactPoint).where(ContactPoint.customer_id == customer_id,
                                                         ContactPoint.channel == channel)).first()


def _form(client, path: str) -> dict:
    page = page_text(client.get(path))
    return {"csrf_token": CSRF_FIELD.search(page).group(1), "version": VERSION.search(page).group(1)}


def _corrections(customer_id: int) -> list[Ticket]:
    return list(db.session.scalars(select(Ticket).where(Ticket.customer_id == customer_id,
                                                        Ticket.kind == "correction")))


@pytest.fixture
def signed_in(app, client):
    customer = make_customer()
    sign_in(client, "an.nguyen@example.vn")
    return customer


def test_a_phone_changes_at_once_in_e164_shown_locally_with_history_audit_and_one_request(client, signed_in):
    point = _point(signed_in.id, Channel.PHONE)
    path = f"/my-data/contacts/{point.id}"
    assert "0903 123 456" in page_text(client.get("/my-data"))  # drawn and kept before the change
    response = client.post(path, data={**_form(client, path), "kind": "mobile", "value": "0904.555.666"})
    assert response.status_code == 303
    db.session.expire_all()
    assert (point.value, point.value_normalized, point.version) == ("+84904555666", "+84904555666", 2)
    change = db.session.scalars(select(DataChange).where(DataChange.customer_id == signed_in.id)).one()
    assert (change.field, change.old_value, change.new_value, change.via) == (
        "phone:mobile", "0903 123 456", "0904 555 666", DataSource.PORTAL)
    assert count(AuditRecord, AuditRecord.action == "customer.contact_changed") == 1
    page = page_text(client.get("/my-data"))
    assert "0904 555 666" in page and "+84904555666" not in page
    [ticket] = _corrections(signed_in.id)
    assert ticket.department == "care"
    assert db.session.get(CorrectionDetails, ticket.id).changes[0]["new"] == "0904 555 666"


def test_later_changes_join_the_open_correction_request(client, signed_in):
    address = _point(signed_in.id, Channel.ADDRESS)
    path = f"/my-data/contacts/{address.id}"
    assert client.post(path, data={**_form(client, path), "kind": "office", "street": "22A Kỳ Đồng",
                                   "ward": "Phường Xuân Hòa", "province": "TP. Hồ Chí Minh"}).status_code == 303
    assert client.post("/my-data/notes", data={**_form(client, "/my-data/notes"),
                                               "notes": "Gọi trước 30 phút"}).status_code == 303
    add = "/my-data/contacts/new/phone"
    assert client.post(add, data={**_form(client, add), "kind": "home", "value": "028 3822 1234"}).status_code == 303
    [ticket] = _corrections(signed_in.id)
    fields = [entry["field"] for entry in db.session.get(CorrectionDetails, ticket.id).changes]
    assert fields == ["address:office", "notes", "phone:home"]
    db.session.expire_all()
    assert db.session.get(Customer, signed_in.id).notes == "Gọi trước 30 phút"
    assert address.value == "22A Kỳ Đồng, Phường Xuân Hòa, TP. Hồ Chí Minh"


@pytest.mark.parametrize(("fields", "message"), [
    ({"value": "abc"}, "phone number in service"),
    ({"value": "+84"}, "phone number in service"),
    ({"value": "0903 123 456 789 000"}, "phone number in service"),
])
def test_a_bad_phone_is_refused_and_changes_nothing(client, signed_in, fields, message):
    point = _point(signed_in.id, Channel.PHONE)
    path = f"/my-data/contacts/{point.id}"
    response = client.post(path, data={**_form(client, path), "kind": "mobile", **fields})
    assert response.status_code == 400 and message in page_text(english_page(client, path, fields))
    db.session.expire_all()
    assert point.value == "0903 123 456" and count(DataChange) == 0 and _corrections(signed_in.id) == []


def english_page(client, path, fields):
    """The same post in English, to read the message."""
    client.post("/language", data={"csrf_token": _form(client, path)["csrf_token"], "locale": "en",
                                   "next": "/"})
    return client.post(path, data={**_form(client, path), "kind": "mobile", **fields})


def test_a_huge_address_and_markup_are_refused_or_shown_escaped(client, signed_in):
    point = _point(signed_in.id, Channel.ADDRESS)
    path = f"/my-data/contacts/{point.id}"
    huge = client.post(path, data={**_form(client, path), "kind": "home", "street": "x" * 10_000,
                                   "ward": "P1", "province": "HCM"})
    assert huge.status_code == 400 and count(DataChange) == 0
    markup = "<script>alert(1)</script>"
    assert client.post(path, data={**_form(client, path), "kind": "home", "street": markup, "ward": "P1",
                                   "province": "HCM"}).status_code == 303
    assert client.post("/my-data/notes", data={**_form(client, "/my-data/notes"), "notes": markup}).status_code == 303
    client.post("/my-data/name", data={**_form(client, "/my-data/name"), "full_name": markup})
    page = page_text(client.get("/my-data"))
    assert markup not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_another_customers_contact_point_is_404_and_unchanged(app, client, signed_in):
    other = make_customer("binh@example.vn", "Trần Bình")
    theirs = _point(other.id, Channel.PHONE)
    token = _form(client, "/my-data/notes")["csrf_token"]
    assert client.get(f"/my-data/contacts/{theirs.id}").status_code == 404
    assert client.post(f"/my-data/contacts/{theirs.id}", data={"csrf_token": token, "version": "1", "kind": "mobile",
                                                               "value": "0904 555 666"}).status_code == 404
    assert client.post(f"/my-data/contacts/{theirs.id}/remove",
                       data={"csrf_token": token, "version": "1"}).status_code == 404
    db.session.expire_all()
    assert theirs.value == "0903 123 456" and count(ContactPoint, ContactPoint.customer_id == other.id) == 3


def test_the_second_of_two_tabs_is_refused_with_nothing_changed(client, signed_in):
    point = _point(signed_in.id, Channel.PHONE)
    path = f"/my-data/contacts/{point.id}"
    first, second = _form(client, path), _form(client, path)
    assert client.post(path, data={**first, "kind": "mobile", "value": "0904 555 666"}).status_code == 303
    response = client.post(path, data={**second, "kind": "mobile", "value": "0905 111 222"})
    assert response.status_code == 409 and 'class="notice notice-error" role="alert"' in page_text(response)
    assert "0904 555 666" in page_text(response)  # the form shows what is stored now
    db.session.expire_all()
    assert point.value == "+84904555666" and count(DataChange) == 1
    notes_first, notes_second = _form(client, "/my-data/notes"), _form(client, "/my-data/notes")
    assert client.post("/my-data/notes", data={**notes_first, "notes": "A"}).status_code == 303
    assert client.post("/my-data/notes", data={**notes_second, "notes": "B"}).status_code == 409
    db.session.expire_all()
    assert db.session.get(Customer, signed_in.id).notes == "A"


def test_a_post_without_csrf_changes_nothing(client, signed_in):
    point = _point(signed_in.id, Channel.PHONE)
    response = client.post(f"/my-data/contacts/{point.id}", data={"version": "1", "kind": "mobile",
                                                                   "value": "0904 555 666"})
    assert response.status_code == 400
    assert client.post(f"/my-data/contacts/{point.id}/remove", data={"version": "1"}).status_code in (303, 400)
    db.session.expire_all()
    assert point.value == "0903 123 456" and count(DataChange) == 0 and count(ContactPoint) == 3


def test_removing_a_phone_and_never_the_sign_in_address(client, signed_in):
    phone, email = _point(signed_in.id, Channel.PHONE), _point(signed_in.id, Channel.EMAIL)
    token = _form(client, "/my-data/notes")["csrf_token"]
    assert client.post(f"/my-data/contacts/{phone.id}/remove",
                       data={"csrf_token": token, "version": "1"}).status_code == 303
    client.post(f"/my-data/contacts/{email.id}/remove", data={"csrf_token": token, "version": "1"})
    assert count(ContactPoint, ContactPoint.customer_id == signed_in.id) == 2
    assert count(DataChange) == 1


def test_a_new_email_address_takes_effect_only_through_its_link_and_the_old_one_is_told(app, client, signed_in):
    email = _point(signed_in.id, Channel.EMAIL)
    path = f"/my-data/contacts/{email.id}"
    assert "an@congty.vn" not in page_text(client.get("/my-data"))  # drawn and kept before the change
    response = client.post(path, data={**_form(client, path), "kind": "company", "value": "An@Congty.vn"})
    assert response.status_code == 303
    db.session.expire_all()
    assert email.value == "an.nguyen@example.vn" and count(DataChange) == 0
    assert "an@congty.vn" in page_text(client.get("/my-data"))  # shown as waiting
    [confirm] = outbox("an@congty.vn")
    assert len(outbox("an.nguyen@example.vn")) == 2  # the sign-in link, then the notice
    link = re.search(r"http://localhost(/my-data/email/\S+)", confirm.body_text).group(1)
    stranger = app.test_client()
    page = stranger.get(link)
    assert page.status_code == 200 and count(DataChange) == 0  # a GET changes nothing
    token = CSRF_FIELD.search(page_text(page)).group(1)
    assert stranger.post(link, data={"csrf_token": token}).status_code == 200
    db.session.expire_all()
    assert (email.value, email.kind) == ("an@congty.vn", "company")
    assert db.session.scalars(select(DataChange)).one().new_value == "an@congty.vn"
    assert stranger.post(link, data={"csrf_token": token}).status_code == 404  # once only
    assert client.get("/my-data").status_code == 302  # the session signed in with the old address ended
    again = app.test_client()
    sign_in(again, "an@congty.vn")  # the new address now signs in to the record
    page = page_text(again.get("/my-data"))
    assert "an@congty.vn" in page.split('id="h-contacts"')[1] and "notice-info pending" not in page
    assert count(EmailLink, EmailLink.purpose == "email_change", EmailLink.used_at.is_not(None)) == 1


def test_a_name_change_is_reviewed_approved_or_rejected_with_a_reason(app, client, signed_in, clock):
    assert "Nguyễn Văn Ân" not in page_text(client.get("/my-data"))  # drawn and kept before the request
    response = client.post("/my-data/name", data={**_form(client, "/my-data/name"), "full_name": "Nguyễn Văn Ân"})
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Customer, signed_in.id).full_name == "Nguyễn Văn An"
    assert "Nguyễn Văn Ân" in page_text(client.get("/my-data"))
    [ticket] = _corrections(signed_in.id)
    member = make_staff("care")
    staff = app.test_client()
    sign_in_staff(staff, member, clock=clock)
    page = page_text(staff.get(f"/board/tickets/{ticket.reference}"))
    assert "Nguyễn Văn Ân" in page
    token = CSRF_FIELD.search(page).group(1)
    resolve = staff.post(f"/board/tickets/{ticket.reference}/name",
                         data={"csrf_token": token, "decision": "reject", "reason": "", "version": ticket.version})
    assert resolve.status_code == 303 and db.session.get(CorrectionDetails, ticket.id).name_decision is None
    staff.post(f"/board/tickets/{ticket.reference}/name", data={
        "csrf_token": token, "decision": "reject", "reason": "Tên khác với CCCD", "version": ticket.version})
    db.session.expire_all()
    details = db.session.get(CorrectionDetails, ticket.id)
    assert (details.name_decision, details.name_reason) == ("rejected", "Tên khác với CCCD")
    assert db.session.get(Customer, signed_in.id).full_name == "Nguyễn Văn An"
    assert "Tên khác với CCCD" in outbox("an.nguyen@example.vn")[-1].body_text
    assert "Tên khác với CCCD" in page_text(client.get(f"/requests/{ticket.reference}"))
    # A second proposal, approved.
    client.post("/my-data/name", data={**_form(client, "/my-data/name"), "full_name": "Nguyễn Văn Ân"})
    db.session.expire_all()
    staff.post(f"/board/tickets/{ticket.reference}/name", data={
        "csrf_token": token, "decision": "approve", "reason": "", "version": db.session.get(Ticket, ticket.id).version})
    db.session.expire_all()
    customer = db.session.get(Customer, signed_in.id)
    assert (customer.full_name, customer.proposed_full_name) == ("Nguyễn Văn Ân", None)
    change = db.session.scalars(select(DataChange).where(DataChange.field == "full_name")).one()
    assert (change.old_value, change.new_value, change.via) == ("Nguyễn Văn An", "Nguyễn Văn Ân", DataSource.STAFF)
    about = page_text(client.get("/my-data")).split('id="h-identity"')[1].split("</section>")[0]
    assert "Nguyễn Văn Ân" in about and "pending" not in about


def test_an_expired_confirmation_link_changes_nothing(app, client, signed_in, clock):
    add = "/my-data/contacts/new/email"
    assert client.post(add, data={**_form(client, add), "kind": "company", "value": "an@congty.vn"}).status_code == 303
    link = re.search(r"http://localhost(/my-data/email/\S+)", outbox("an@congty.vn")[0].body_text).group(1)
    clock.advance(hours=25)
    assert client.get(link).status_code == 404
    assert count(ContactPoint, ContactPoint.channel == Channel.EMAIL) == 1 and count(DataChange) == 0
    sign_in(client, "an.nguyen@example.vn")  # the session has idled out meanwhile
    assert "an@congty.vn" not in page_text(client.get("/my-data")).split('id="h-contacts"')[1]


def test_an_older_address_line_opens_whole_for_the_customer_to_divide(client, app):
    customer = make_customer(address="Ấp 3 xã Tân Thạnh Đông huyện Củ Chi")
    sign_in(client, "an.nguyen@example.vn")
    page = page_text(client.get(f"/my-data/contacts/{_point(customer.id, Channel.ADDRESS).id}"))
    assert 'value="Ấp 3 xã Tân Thạnh Đông huyện Củ Chi"' in page


def test_a_correction_with_a_name_waiting_cannot_be_finished(app, client, signed_in, clock):
    client.post("/my-data/name", data={**_form(client, "/my-data/name"), "full_name": "Nguyễn Văn Ân"})
    [ticket] = _corrections(signed_in.id)
    member = make_staff("care")
    with pytest.raises(services.TicketRuleError):
        services.change_status(ticket, member, "resolved", clock.now())
    db.session.rollback()
    assert db.session.get(Ticket, ticket.id).status == "new"


def test_the_history_says_where_a_change_was_made(client, signed_in):
    client.post("/my-data/notes", data={**_form(client, "/my-data/notes"), "notes": "Cổng sau"})
    history = page_text(client.get("/my-data")).split('id="h-history"')[1]
    assert "Cổng sau" in history and "Cổng thông tin này" in history


@pytest.mark.parametrize(("channel", "fields"), [
    ("email", {"kind": "company", "value": "AN.NGUYEN@example.vn"}),
    ("phone", {"kind": "home", "value": "+84 903 123 456"}),
])
def test_a_value_already_held_is_refused_with_what_was_typed(client, signed_in, channel, fields):
    path = f"/my-data/contacts/new/{channel}"
    response = client.post(path, data={**_form(client, path), **fields})
    assert response.status_code == 409 and fields["value"] in page_text(response)
    assert count(ContactPoint) == 3 and count(DataChange) == 0
    assert count(EmailLink, EmailLink.purpose == "email_change") == 0
