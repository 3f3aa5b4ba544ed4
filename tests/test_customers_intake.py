"""Staff enter and correct customer records on the board: find, create from a phone call, edit,
consent with its evidence. Every change in the history (with where it came from) and the audit log;
every page that shows the record in the access log the customer reads. Bad input changes nothing."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select

from portal.account.models import ContactPoint, Customer, DataChange
from portal.audit.models import AuditRecord, CustomerDataView
from portal.consent.models import ConsentEntry
from portal.db import db
from portal.enums import DataSource, ViewedPage
from tests.factories import make_customer, make_staff
from tests.helpers import count, csrf_token, page_text, sign_in_staff

NEW = "/board/customers/new"


@pytest.fixture
def sales(app, client, clock):
    member = make_staff("sales", name="Trần Thị Lan")
    sign_in_staff(client, member, clock=clock)
    return member


def in_english(client) -> None:
    response = client.post("/language", data={"csrf_token": csrf_token(client, "/staff/"), "locale": "en",
                                              "next": "/staff/"})
    assert response.status_code == 303


def new_record(client, *, name="Phạm Minh Châu", rows=(("phone:mobile", "0912 345 678"),
                                                        ("email:company", "ke.toan@congty.vn"),
                                                        ("address:office", "5 Nguyễn Huệ, Quận 1")),
               notes="Gọi lúc 9 giờ", source="phone", token=None):
    data = {"csrf_token": token if token is not None else csrf_token(client, NEW), "full_name": name,
            "notes": notes, "source": source}
    for index, (kind, value) in enumerate(rows):
        data[f"contacts-{index}-kind"], data[f"contacts-{index}-value"] = kind, value
    return client.post(NEW, data=data)


def edit_data(client, customer_id: int, **changes) -> dict:
    """The edit form as the page draws it, with ``changes`` made to its fields."""
    page = page_text(client.get(f"/board/customers/{customer_id}/edit"))
    data = dict(re.findall(r'name="([^"]+)"[^>]*?value="([^"]*)"', page))
    for name in re.findall(r'<select[^>]*name="([^"]+)"', page):
        selected = re.search(rf'<select[^>]*name="{re.escape(name)}"[^>]*>.*?<option selected value="([^"]*)"',
                             page, re.S)
        data[name] = selected.group(1) if selected else ""
    notes = re.search(r'<textarea[^>]*name="notes"[^>]*>\s*(.*?)</textarea>', page, re.S)
    data["notes"] = notes.group(1) if notes else ""
    data = {key: html.unescape(value) for key, value in data.items()}
    data.update(changes)
    return data


def test_staff_enter_a_customer_from_a_phone_call(client, sales):
    response = new_record(client)
    assert response.status_code == 303, page_text(response)
    customer = db.session.scalars(select(Customer)).one()
    assert (customer.full_name, customer.source) == ("Phạm Minh Châu", DataSource.PHONE)
    assert customer.notes == "Gọi lúc 9 giờ"
    points = {(point.channel.value, point.kind.value): point for point in customer.contact_points}
    assert points[("phone", "mobile")].value_normalized == "+84912345678"
    assert points[("email", "company")].value_normalized == "ke.toan@congty.vn"
    changes = {change.field: change for change in customer.changes}
    assert {"record", "notes", "phone:mobile", "email:company", "address:office"} <= set(changes)
    assert all(change.via is DataSource.PHONE and change.actor_name == "Trần Thị Lan" for change in changes.values())
    assert count(AuditRecord, AuditRecord.action == "customer.created") == 1
    page = client.get(response.headers["Location"])
    assert page.status_code == 200 and "Phạm Minh Châu" in page_text(page)
    assert count(CustomerDataView, CustomerDataView.customer_id == customer.id,
                 CustomerDataView.page == ViewedPage.RECORD) == 1


def test_find_by_name_phone_and_email_logs_the_customers_listed(client, sales):
    customer = make_customer()
    make_customer(email="binh@example.vn", name="Lê Văn Bình", phone="0987 000 111",
                  phone_normalized="+84987000111", order="DH-2026-00002")
    for text in ("nguyễn văn", "0903123456", "+84 903 123 456", "AN.NGUYEN@example.vn"):
        page = page_text(client.get("/board/customers/", query_string={"q": text}))
        assert "Nguyễn Văn An" in page and "Lê Văn Bình" not in page, text
    assert count(CustomerDataView, CustomerDataView.customer_id == customer.id,
                 CustomerDataView.page == ViewedPage.SEARCH) == 4
    page = page_text(client.get("/board/customers/", query_string={"q": "%%"}))
    assert "Nguyễn Văn An" not in page


def test_a_search_with_control_characters_is_answered_with_a_message_and_lists_nobody(client, sales):
    make_customer()
    in_english(client)
    for text in ("Nguy\x00ễn", "an\x07"):
        response = client.get("/board/customers/", query_string={"q": text})
        page = page_text(response)
        assert response.status_code == 200
        assert "Remove the invisible control characters" in page and "Nguyễn Văn An" not in page
    assert count(CustomerDataView) == 0


def test_consent_with_evidence_goes_into_the_ledger_history_and_audit(client, sales):
    customer = make_customer()
    path = f"/board/customers/{customer.id}"
    response = client.post(f"{path}/consent", data={"csrf_token": csrf_token(client, path), "purpose": "surveys",
                                                    "decision": "given", "method": "recorded_call",
                                                    "evidence": "call-2026-11-30-0912.mp3"})
    assert response.status_code == 303, page_text(response)
    entry = db.session.scalars(select(ConsentEntry).where(ConsentEntry.purpose == "surveys")).one()
    assert (entry.granted, entry.evidence, entry.actor_name) == (True, "call-2026-11-30-0912.mp3", "Trần Thị Lan")
    change = db.session.scalars(select(DataChange).where(DataChange.field == "consent:surveys")).one()
    assert change.via is DataSource.STAFF
    assert count(AuditRecord, AuditRecord.action == "consent.granted") == 1


@pytest.mark.parametrize("data, problem", [
    ({"purpose": "surveys", "decision": "given", "method": "sms", "evidence": ""}, "proof"),
    ({"purpose": "surveys", "decision": "given", "method": "portal", "evidence": "x"}, "how the customer told"),
    ({"purpose": "warranty", "decision": "given", "method": "sms", "evidence": "sms-1"}, "rests on consent"),
    ({"purpose": "surveys", "decision": "", "method": "sms", "evidence": "sms-1"}, "answer"),
])
def test_consent_without_what_it_needs_is_refused(client, sales, data, problem):
    customer = make_customer()
    path = f"/board/customers/{customer.id}"
    before = count(ConsentEntry)
    in_english(client)
    response = client.post(f"{path}/consent", data={"csrf_token": csrf_token(client, path), **data})
    assert response.status_code == 400
    assert problem in page_text(response)
    assert count(ConsentEntry) == before


def test_edit_records_old_and_new_with_who_and_from_where(client, sales):
    customer = make_customer()
    phone = next(point for point in customer.contact_points if point.channel == "phone")
    index = [point.id for point in customer.contact_points].index(phone.id)
    data = edit_data(client, customer.id, full_name="Nguyễn Văn Anh", **{f"contacts-{index}-value": "0909 888 777"})
    response = client.post(f"/board/customers/{customer.id}/edit", data=data)
    assert response.status_code == 303, page_text(response)
    db.session.expire_all()
    assert db.session.get(Customer, customer.id).full_name == "Nguyễn Văn Anh"
    assert db.session.get(ContactPoint, phone.id).value_normalized == "+84909888777"
    changes = {change.field: change for change in db.session.scalars(
        select(DataChange).where(DataChange.customer_id == customer.id))}
    assert (changes["full_name"].old_value, changes["full_name"].new_value) == ("Nguyễn Văn An", "Nguyễn Văn Anh")
    assert changes["phone:mobile"].new_value == "0909 888 777"
    assert changes["phone:mobile"].via is DataSource.PHONE
    assert count(AuditRecord, AuditRecord.action == "customer.changed") == 1


def test_a_stale_edit_form_is_refused(client, sales):
    customer = make_customer()
    first = edit_data(client, customer.id, full_name="Tên thứ nhất")
    second = edit_data(client, customer.id, full_name="Tên thứ hai")
    assert client.post(f"/board/customers/{customer.id}/edit", data=first).status_code == 303
    in_english(client)
    response = client.post(f"/board/customers/{customer.id}/edit", data=second)
    assert response.status_code == 400 and "Nothing was saved" in page_text(response)
    db.session.expire_all()
    assert db.session.get(Customer, customer.id).full_name == "Tên thứ nhất"


def test_another_records_contact_id_in_an_edit_form_is_refused(client, sales):
    customer = make_customer()
    other = make_customer(email="khac@example.vn", name="Khách khác", order="DH-2026-00009")
    foreign = other.contact_points[0]
    # Rows 0-2 hold the record's own three, rows 3-4 are blank: the foreign id rides on row 4.
    data = edit_data(client, customer.id, **{"contacts-4-contact_id": str(foreign.id),
                                             "contacts-4-kind": "email:personal",
                                             "contacts-4-value": "hacked@example.vn"})
    response = client.post(f"/board/customers/{customer.id}/edit", data=data)
    assert response.status_code == 400
    error = re.search(r'id="contacts-(\d)-value-error"', page_text(response))
    assert error and error.group(1) == "4"  # shown on the row that carried it
    db.session.expire_all()
    assert db.session.get(ContactPoint, foreign.id).value == "khac@example.vn"
    assert count(DataChange, DataChange.customer_id.in_((customer.id, other.id))) == 0


MARKUP = '<script>alert("x")</script>'


@pytest.mark.parametrize("name, rows, message", [
    ("", (), "full name"),
    ("A" * 201, (), "full name"),
    ("An", (("phone:mobile", "abc"),), "phone number"),
    ("An", (("phone:mobile", "+84"),), "phone number"),
    ("An", (("address:home", "x" * 10_000),), "400"),
    ("An", (("email:personal", "not-an-address"),), "e-mail address"),
    ("An", (("fax:home", "0903 123 456"),), "kind"),
    ("An\x00", (), "full name"),
])
def test_bad_input_gets_a_clear_message_and_saves_nothing(client, sales, name, rows, message):
    in_english(client)
    response = new_record(client, name=name, rows=rows)
    assert response.status_code == 400
    assert message in page_text(response).lower()
    assert count(Customer) == 0 and count(DataChange) == 0
    assert count(AuditRecord, AuditRecord.action.like("customer.%")) == 0


def test_markup_in_every_field_is_stored_as_text_and_shown_escaped(client, sales):
    response = new_record(client, name=MARKUP, notes=MARKUP, rows=(("address:home", MARKUP),))
    assert response.status_code == 303
    page = page_text(client.get(response.headers["Location"]))
    assert MARKUP not in page and "&lt;script&gt;" in page
    search = page_text(client.get("/board/customers/", query_string={"q": "script"}))
    assert MARKUP not in search and "&lt;script&gt;" in search


def test_posts_without_csrf_change_nothing(client, sales):
    customer = make_customer()
    assert new_record(client, token="").status_code == 400
    data = edit_data(client, customer.id, full_name="Không có token")
    del data["csrf_token"]
    assert client.post(f"/board/customers/{customer.id}/edit", data=data).status_code == 400
    assert client.post(f"/board/customers/{customer.id}/consent", data={
        "purpose": "surveys", "decision": "given", "method": "sms", "evidence": "sms-1"}).status_code == 400
    assert count(Customer) == 1 and count(DataChange) == 0 and count(ConsentEntry) == 2


@pytest.mark.parametrize("role, status", [("board", 200), ("care", 200), ("admin", 404)])
def test_who_may_reach_the_pages(app, clock, role, status):
    client = app.test_client()
    customer = make_customer()
    sign_in_staff(client, make_staff(role), clock=clock)
    for path in ("/board/customers/", NEW, f"/board/customers/{customer.id}", f"/board/customers/{customer.id}/edit"):
        assert client.get(path).status_code == status, path


def test_an_unknown_record_is_not_found(client, sales):
    assert client.get("/board/customers/999999").status_code == 404
    assert client.get("/board/customers/999999/edit").status_code == 404


def test_the_record_page_says_what_the_customer_may_not_be_contacted_for(client, sales):
    customer = make_customer()  # notices given; promotions refused on a recorded call; surveys never asked
    page = page_text(client.get(f"/board/customers/{customer.id}"))
    barred = page.split('class="notice notice-error do-not-contact"', 1)[1].split("</div>", 1)[0]
    assert "Quảng bá sản phẩm và dịch vụ của công ty" in barred and "Khảo sát khách hàng" in barred
    assert "Thông báo" not in barred
