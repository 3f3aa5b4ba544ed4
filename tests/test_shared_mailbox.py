"""One e-mail address on several customer records (a company's shared accounting mailbox): whoever
signs in with it chooses a record (name and one hint, nothing more), sees only that one, and can
switch; never the oldest by accident, never two mixed on one page."""

from __future__ import annotations

import re

import pytest

from portal.audit.models import AuditRecord
from portal.auth.models import CustomerSession
from portal.db import db
from tests.factories import make_customer, new_ticket
from tests.helpers import CSRF_FIELD, count, csrf_token, link_and_code, outbox, page_text, request_link, sign_in

SHARED = "ketoan@congty.vn"


@pytest.fixture
def records(app):
    """Two records on the shared mailbox (the older first), and a third elsewhere."""
    older = make_customer(SHARED, "Công ty Hòa Bình", phone="0903 111 111", phone_normalized="+84903111111",
                          address="5 Nguyễn Huệ, Quận 1, TP. Hồ Chí Minh", order="DH-2026-00001")
    newer = make_customer(SHARED, "Chi nhánh Hòa Bình Hà Nội", phone="0904 222 222", phone_normalized="+84904222222",
                          address="9 Tràng Tiền, Hoàn Kiếm, Hà Nội", order="DH-2026-00002")
    other = make_customer("khac@example.vn", "Người khác", order="DH-2026-00003")
    return older, newer, other


def sign_in_shared(client):
    """Sign in through the real flow; return where Continue sends the browser."""
    assert request_link(client, SHARED).status_code == 303
    path, _code = link_and_code(outbox(SHARED)[-1])
    page = page_text(client.get(path, follow_redirects=True))
    response = client.post("/sign-in/continue", data={"csrf_token": CSRF_FIELD.search(page).group(1)})
    assert response.status_code == 303
    return response.headers["Location"]


def choose(client, record_id, next_path=""):
    return client.post("/sign-in/records", data={"csrf_token": csrf_token(client, "/sign-in/records"),
                                                 "record": str(record_id), "next": next_path})


def test_signing_in_shows_no_record_until_one_is_chosen(client, records):
    older, newer, other = records
    location = sign_in_shared(client)
    my_data = client.get(location)
    assert my_data.status_code == 303 and my_data.headers["Location"].startswith("/sign-in/records")
    for path in ("/my-data", "/requests/", "/requests/new"):
        response = client.get(path)
        assert response.status_code == 303 and "/sign-in/records" in response.headers["Location"], path
    session = db.session.query(CustomerSession).one()
    assert session.customer_id is None and session.several_records
    chooser = page_text(client.get("/sign-in/records"))
    assert "Công ty Hòa Bình" in chooser and "Chi nhánh Hòa Bình Hà Nội" in chooser
    assert "DH-2026-00001" in chooser and "DH-2026-00002" in chooser
    for secret in ("0903 111 111", "0904 222 222", "Nguyễn Huệ", "Tràng Tiền", "Người khác", "DH-2026-00003"):
        assert secret not in chooser


def test_the_chosen_record_alone_is_shown_and_switching_redraws_every_page(client, records):
    older, newer, other = records
    mine = new_ticket("question", customer=newer, email=SHARED, body="Của chi nhánh")
    theirs = new_ticket("question", customer=older, email=SHARED, body="Của công ty")
    sign_in_shared(client)
    response = choose(client, newer.id, "/my-data")
    assert response.status_code == 303 and response.headers["Location"] == "/my-data"
    page = page_text(client.get("/my-data"))
    assert "Chi nhánh Hòa Bình Hà Nội" in page and "0904 222 222" in page
    assert "Công ty Hòa Bình" not in page and "0903 111 111" not in page and "Nguyễn Huệ" not in page
    requests_page = page_text(client.get("/requests/"))
    assert mine.reference in requests_page and theirs.reference not in requests_page
    assert client.get(f"/requests/{theirs.reference}").status_code == 404
    assert choose(client, older.id).status_code == 303
    page = page_text(client.get("/my-data"))
    assert "0903 111 111" in page and "0904 222 222" not in page and "Tràng Tiền" not in page
    requests_page = page_text(client.get("/requests/"))
    assert theirs.reference in requests_page and mine.reference not in requests_page
    assert count(AuditRecord, AuditRecord.action == "session.record_chosen") == 2


@pytest.mark.parametrize("record", ["third", "999999", "abc", "", "-1", "1" * 40])
def test_a_record_the_address_does_not_hold_cannot_be_chosen(client, records, record):
    other = records[2]
    sign_in_shared(client)
    response = choose(client, other.id if record == "third" else record)
    assert response.status_code == 400
    assert db.session.query(CustomerSession).one().customer_id is None
    assert client.get("/my-data").status_code == 303


def test_choosing_without_csrf_changes_nothing(client, records):
    sign_in_shared(client)
    response = client.post("/sign-in/records", data={"record": str(records[1].id)})
    assert response.status_code == 400
    assert db.session.query(CustomerSession).one().customer_id is None


def test_a_record_that_loses_the_address_cannot_be_chosen_any_more(client, records):
    older, newer, _other = records
    sign_in_shared(client)
    point = next(point for point in newer.contact_points if point.channel == "email")
    point.value = point.value_normalized = "moi@congty.vn"
    db.session.commit()
    assert choose(client, newer.id).status_code == 400
    assert "Chi nhánh" not in page_text(client.get("/sign-in/records"))


def test_an_address_on_one_record_signs_straight_in(client, records):
    sign_in(client, "khac@example.vn")  # lands on /my-data
    page = page_text(client.get("/my-data"))
    assert "Người khác" in page and "/sign-in/records" not in page


def test_the_sign_in_audit_names_no_record_for_a_shared_address(client, records):
    sign_in_shared(client)
    entry = db.session.query(AuditRecord).filter_by(action="sign_in.succeeded").one()
    assert entry.target == "" and entry.actor.startswith("address:") and entry.data["several_records"] is True


def test_the_chooser_needs_a_signed_in_customer(client, records):
    response = client.get("/sign-in/records")
    assert response.status_code == 303 and re.search(r"/sign-in\?next=", response.headers["Location"])
