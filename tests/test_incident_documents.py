"""An incident's printed documents: the notice to the authority (Form No. 08) and the written record
state the incident's facts, in Vietnamese unless English is asked for, and only to the board."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from flask import render_template

from portal.db import db
from portal.incidents.models import AffectedCustomer, BreachIncident, IncidentComplaint
from tests.factories import make_customer, make_staff, new_ticket
from tests.helpers import counted_statements, page_text, sign_in_staff

NOW = datetime(2026, 11, 25, 5, 0, tzinfo=timezone.utc)  # noon in Ho Chi Minh City


def make_incident(board, *, customers=(), complaints=(), notified=False, **fields) -> BreachIncident:
    incident = BreachIncident(
        title=fields.get("title", "Danh sách khách hàng lộ trên nhóm Zalo"), created_by_id=board.id,
        discovered_at=fields.get("discovered_at", NOW - timedelta(hours=20)),
        occurred_from=datetime(2026, 11, 20, 1, 0, tzinfo=timezone.utc),
        occurred_until=datetime(2026, 11, 23, 10, 30, tzinfo=timezone.utc),
        place=fields.get("place", "Máy tính bán hàng tại cửa hàng Quận 3"),
        acts="Một nhân viên cũ sao chép danh sách đơn hàng", parties="Nhân viên cũ bộ phận kinh doanh",
        categories=fields.get("categories", ["name", "phone", "address"]), volume="khoảng 300 đơn hàng",
        consequences="Khách hàng có thể bị gọi điện quảng cáo", measures="Khóa tài khoản, đổi mật khẩu",
        created_at=NOW - timedelta(hours=19))
    if notified:
        incident.authority_notified_at = NOW - timedelta(hours=2)
        incident.authority_notified_by_id = board.id
        incident.authority_reference = "A05-2026-771"
    db.session.add(incident)
    db.session.flush()
    for customer in customers:
        db.session.add(AffectedCustomer(incident_id=incident.id, customer_id=customer.id, source="picked",
                                        added_by_id=board.id))
    for ticket in complaints:
        db.session.add(IncidentComplaint(incident_id=incident.id, ticket_id=ticket.id, added_by_id=board.id))
    db.session.commit()
    return incident


@pytest.fixture
def world(app, clock):
    clock.current = NOW
    board = make_staff("board", name="Trần Thị Giám Đốc")
    customers = [make_customer(f"khach{n}@example.vn", name=f"Khách Bí Mật {n}") for n in range(3)]
    complaint = new_ticket("leak_complaint", customer=customers[0], email="khach0@example.vn",
                           now=NOW - timedelta(days=1))
    incident = make_incident(board, customers=customers, complaints=[complaint])
    client = app.test_client()
    sign_in_staff(client, board, clock=clock)
    return {"board": board, "incident": incident, "complaint": complaint, "client": client, "app": app}


def test_the_notice_states_the_facts_in_vietnamese_by_default(world):
    incident = world["incident"]
    response = world["client"].get(f"/board/incidents/{incident.id}/notice")
    assert response.status_code == 200
    text = page_text(response)
    assert '<html lang="vi">' in text
    assert "Mẫu số 08" in text
    assert "THÔNG BÁO VI PHẠM QUY ĐỊNH VỀ BẢO VỆ DỮ LIỆU CÁ NHÂN".lower() in text.lower()
    assert "Bộ Công an" in text and "Công ty TNHH Khôi Ngô" in text and "contact@khoingo.net" in text
    for fact in ("Máy tính bán hàng tại cửa hàng Quận 3", "Một nhân viên cũ sao chép danh sách đơn hàng",
                 "Nhân viên cũ bộ phận kinh doanh", "khoảng 300 đơn hàng", "Khách hàng có thể bị gọi điện quảng cáo",
                 "Khóa tài khoản, đổi mật khẩu", incident.reference):
        assert fact in text, fact
    assert "Họ và tên" in text and "Số điện thoại" in text and "Địa chỉ" in text  # the categories' titles
    assert "3 chủ thể dữ liệu" in text  # the count of affected customers
    assert "08:00 20/11/2026" in text and "17:30 23/11/2026" in text  # occurred from / until, Vietnam time
    assert "16:00 24/11/2026" in text  # discovered
    assert "ngày 25 tháng 11 năm 2026" in text
    # No data-protection department is configured: a marked blank to fill in by hand.
    assert "điền bằng tay" in text
    assert "Khách Bí Mật" not in text and "khach0@example.vn" not in text  # counts only, no customer
    assert "documents.css" in text


def test_the_notice_names_a_configured_protection_contact(world):
    world["app"].config["DATA_PROTECTION_CONTACT"] = "Ban giám đốc — ông Ngô Khôi"
    try:
        text = page_text(world["client"].get(f"/board/incidents/{world['incident'].id}/notice"))
    finally:
        world["app"].config["DATA_PROTECTION_CONTACT"] = ""
    assert "Ban giám đốc — ông Ngô Khôi" in text


def test_the_notice_in_english_on_request(world):
    response = world["client"].get(f"/board/incidents/{world['incident'].id}/notice?lang=en")
    text = page_text(response)
    assert response.status_code == 200 and '<html lang="en">' in text
    assert "Form No. 08" in text and "Ministry of Public Security" in text
    assert "Full name" in text and "3 data subjects (customers) affected." in text
    assert "25 November 2026" in text and "Bản tiếng Việt (chính thức)" in text
    assert "Mẫu số 08" not in text


def test_an_unknown_language_gives_the_official_vietnamese(world):
    text = page_text(world["client"].get(f"/board/incidents/{world['incident'].id}/notice?lang=fr"))
    assert "Mẫu số 08" in text


def test_the_written_record_before_the_authority_is_told(world):
    incident = world["incident"]
    text = page_text(world["client"].get(f"/board/incidents/{incident.id}/record"))
    assert "BIÊN BẢN XÁC NHẬN".lower() in text.lower()
    assert world["complaint"].reference in text
    assert "3 khách hàng" in text
    assert "Chưa gửi" in text and "16:00 27/11/2026" in text  # discovered + 72 hours
    assert "Khách Bí Mật" not in text


def test_the_written_record_once_the_authority_was_told(app, world):
    incident = make_incident(world["board"], notified=True, title="Sự cố thứ hai")
    text = page_text(world["client"].get(f"/board/incidents/{incident.id}/record?lang=en"))
    assert "Record confirming the occurrence" in text
    assert "Trần Thị Giám Đốc" in text and "A05-2026-771" in text
    assert "Sent within the 72 hours" in text
    assert "0 customers." in text and "None: the company found it itself." in text


def test_a_late_notice_is_said_to_be_late(world, clock):
    incident = make_incident(world["board"], discovered_at=NOW - timedelta(days=5))
    text = page_text(world["client"].get(f"/board/incidents/{incident.id}/record?lang=en"))
    assert "Not sent yet." in text and "is late" in text


def test_unknown_incident_is_404(world):
    assert world["client"].get("/board/incidents/9999/notice").status_code == 404
    assert world["client"].get("/board/incidents/9999/record").status_code == 404


@pytest.mark.parametrize("role", ["care", "sales", "admin"])
def test_other_roles_get_404(app, world, clock, role):
    member = make_staff(role)
    client = app.test_client()
    sign_in_staff(client, member, clock=clock)
    for document in ("notice", "record"):
        assert client.get(f"/board/incidents/{world['incident'].id}/{document}").status_code == 404


def test_visitors_are_sent_to_sign_in(app, world):
    response = app.test_client().get(f"/board/incidents/{world['incident'].id}/notice")
    assert response.status_code == 302 and "/staff/sign-in" in response.headers["Location"]


def test_the_partial_links_both_documents(app, world):
    with app.test_request_context("/"):
        html = render_template("incidents/_documents.html", incident=world["incident"])
    incident_id = world["incident"].id
    assert f"/board/incidents/{incident_id}/notice" in html and f"/board/incidents/{incident_id}/record" in html
    assert f"/board/incidents/{incident_id}/notice?lang=en" in html


def test_a_document_costs_the_same_with_many_customers_and_complaints(app, world):
    client, incident = world["client"], world["incident"]
    client.get(f"/board/incidents/{incident.id}/notice")
    with counted_statements() as small:
        client.get(f"/board/incidents/{incident.id}/record")
    more = [make_customer(f"them{n}@example.vn") for n in range(10)]
    for customer in more:
        db.session.add(AffectedCustomer(incident_id=incident.id, customer_id=customer.id, source="picked"))
        ticket = new_ticket("leak_complaint", customer=customer, email=f"them{customer.id}@example.vn", now=NOW)
        db.session.add(IncidentComplaint(incident_id=incident.id, ticket_id=ticket.id, added_by_id=world["board"].id))
    db.session.commit()
    with counted_statements() as large:
        text = page_text(client.get(f"/board/incidents/{incident.id}/record"))
    assert "13 khách hàng" in text
    assert len(large) == len(small) <= 6
