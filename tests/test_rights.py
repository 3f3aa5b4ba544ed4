"""The customer's rights through HTTP and the database: the fresh sign-in step, a copy of the data,
deletion (erasure) with what it keeps, restriction and objection — and the hostile cases: an erasure
approved twice, interrupted midway and resumed, an unverified requester, a duplicate, another
customer's copy, a stale fresh code, a customer with an open ticket erased."""

from __future__ import annotations

import json
import re
from pathlib import Path
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from portal.account.models import Consent, ContactPoint, Customer, DataChange, Order
from portal.audit.models import AuditRecord, CustomerDataView
from portal.db import db
from portal.enums import Channel, Purpose, TicketStatus, ViewedPage
from portal.jobs import run_erasure_jobs
from portal.rights import erasure as erasure_module
from portal.rights import services as rights
from portal.rights.models import DataCopy, Objection, RetainedCategory, RetainedData, Suppression
from portal.tickets import services as ticket_services
from portal.tickets.kinds.erasure import ErasureRequest
from portal.tickets.models import Ticket, TicketEntry
from tests.factories import make_customer, make_staff, new_ticket, pickup_everywhere
from tests.helpers import CSRF_FIELD, count, outbox, page_text, sign_in, sign_in_staff

AN = "an.nguyen@example.vn"
BINH = "binh.tran@example.vn"
CODE = re.compile(r"\b([A-Z2-9]{4}-[A-Z2-9]{4})\b")


def _token(response) -> str:
    return CSRF_FIELD.search(page_text(response)).group(1)


def _customer_client(app, email=AN):
    client = app.test_client()
    sign_in(client, email)
    return client


def _stale(clock):
    clock.advance(minutes=16)


def _fresh_code(client, page: str) -> tuple[str, object]:
    """Ask for a fresh code from ``page`` (stale sign-in); return the code and the code page."""
    asked = client.get(page)
    assert asked.status_code == 200 and 'action="/confirm-it-is-you/send"' in page_text(asked)
    response = client.post("/confirm-it-is-you/send", data={"csrf_token": _token(asked), "next": page})
    assert response.status_code == 200
    return CODE.search(outbox()[-1].body_text).group(1), response


def _confirm(client, code: str, page: str, code_page):
    return client.post("/confirm-it-is-you/code", data={"csrf_token": _token(code_page), "code": code,
                                                         "next": page})


# --- the fresh sign-in step -------------------------------------------------------------------------


def test_a_fresh_sign_in_opens_the_copy_page_at_once(app, clock, customer):
    client = _customer_client(app)
    response = client.get("/my-data/copy")
    assert response.status_code == 200 and 'action="/my-data/copy"' in page_text(response)


def test_a_stale_sign_in_is_asked_for_a_fresh_code_and_goes_on_with_it(app, clock, customer):
    client = _customer_client(app)
    _stale(clock)
    page = page_text(client.get("/my-data/copy"))
    assert 'action="/confirm-it-is-you/send"' in page and 'action="/my-data/copy"' not in page
    code, code_page = _fresh_code(client, "/my-data/copy")
    assert outbox()[-1].recipient == AN
    response = _confirm(client, code, "/my-data/copy", code_page)
    assert response.status_code == 303 and response.headers["Location"] == "/my-data/copy"
    assert 'action="/my-data/copy"' in page_text(client.get("/my-data/copy"))
    clock.advance(minutes=16)  # the fresh time ages too
    assert 'action="/confirm-it-is-you/send"' in page_text(client.get("/my-data/copy"))


def test_a_stale_fresh_code_is_refused_and_changes_nothing(app, clock, customer):
    client = _customer_client(app)
    _stale(clock)
    code, code_page = _fresh_code(client, "/my-data/copy")
    clock.advance(minutes=11)  # past the code's 10 minutes
    response = _confirm(client, code, "/my-data/copy", code_page)
    assert response.status_code == 400 and 'action="/confirm-it-is-you/code"' in page_text(response)
    assert 'action="/confirm-it-is-you/send"' in page_text(client.get("/my-data/copy"))


def test_wrong_fresh_codes_are_counted_and_void_the_code(app, clock, customer):
    client = _customer_client(app)
    _stale(clock)
    code, code_page = _fresh_code(client, "/my-data/copy")
    for _ in range(5):
        response = _confirm(client, "AAAA-AAAA", "/my-data/copy", code_page)
        assert response.status_code == 400
    response = _confirm(client, code, "/my-data/copy", code_page)  # the right one, too late
    assert response.status_code == 400
    assert 'action="/confirm-it-is-you/send"' in page_text(client.get("/my-data/copy"))
    assert count(AuditRecord, AuditRecord.action == "fresh_sign_in.wrong_code") == 5


def test_a_fresh_code_works_only_for_the_session_that_asked(app, clock, customer):
    first, second = _customer_client(app), _customer_client(app)
    _stale(clock)
    code, code_page = _fresh_code(first, "/my-data/copy")
    other_page = second.get("/my-data/copy")
    response = second.post("/confirm-it-is-you/code", data={"csrf_token": _token(other_page), "code": code,
                                                            "next": "/my-data/copy"})
    assert response.status_code == 400
    assert 'action="/confirm-it-is-you/send"' in page_text(second.get("/my-data/copy"))


def test_the_next_page_of_a_fresh_code_stays_on_the_portal(app, clock, customer):
    client = _customer_client(app)
    _stale(clock)
    code, code_page = _fresh_code(client, "/my-data/copy")
    response = _confirm(client, code, "https://evil.example/", code_page)
    assert response.status_code == 303 and response.headers["Location"] == "/my-data"


# --- a copy ---------------------------------------------------------------------------------------


def _download(client, fmt="json"):
    page = client.get("/my-data/copy")
    return client.post("/my-data/copy", data={"csrf_token": _token(page), "format": fmt})


def test_the_copy_holds_everything_but_internal_notes_and_is_logged(app, clock, customer):
    pickup_everywhere()
    care = make_staff("care")
    ticket = new_ticket("question", customer=customer, email=AN, body="Camera không lên hình")
    ticket_services.add_staff_entry(ticket, care, "Chúng tôi sẽ gọi lại", True, clock.now())
    ticket_services.add_staff_entry(ticket, care, "GHI CHÚ NỘI BỘ bí mật", False, clock.now())
    ticket_services.record_customer_view(ticket, customer.id, care, clock.now())
    db.session.add(DataChange(customer_id=customer.id, actor_kind="staff", actor_name="Lan", field="phone:mobile",
                              old_value="0903 000 000", new_value="0903 123 456", changed_at=clock.now()))
    db.session.commit()
    client = _customer_client(app)
    response = _download(client)
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert "attachment" in response.headers["Content-Disposition"]
    data = json.loads(response.get_data(as_text=True))
    assert data["schema_version"] == rights.SCHEMA_VERSION
    assert data["customer"]["full_name"] == customer.full_name
    assert {point["value"] for point in data["contact_points"]} >= {AN, "0903 123 456"}
    assert data["orders"][0]["warranty_ends_on"]
    assert {consent["purpose"] for consent in data["consents"]} == {"warranty", "promotions"}
    assert data["history"][0]["old_value"] == "0903 000 000"
    messages = [message["text"] for message in data["requests"][0]["messages"]]
    assert messages == ["Camera không lên hình", "Chúng tôi sẽ gọi lại"]
    assert "GHI CHÚ" not in response.get_data(as_text=True)
    assert data["access_log"][0]["staff_name"] == care.full_name
    assert count(DataCopy, DataCopy.customer_id == customer.id) == 1
    assert count(AuditRecord, AuditRecord.action == "data_copy.downloaded") == 1
    client.post("/language", data={"csrf_token": _token(client.get("/my-data")), "locale": "en", "next": "/"})
    my_data = page_text(client.get("/my-data"))
    assert "You downloaded a copy (file (JSON)) on" in my_data


def test_the_printable_copy_is_a_page_of_the_same_data(app, clock, customer):
    client = _customer_client(app)
    response = _download(client, "print")
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = page_text(response)
    assert customer.full_name in page and AN in page and "printable-copy" in page


def test_nobody_gets_another_customers_data_in_a_copy(app, clock, customer):
    other = make_customer(BINH, "Trần Thị Bình", phone="0912 222 333", phone_normalized="+84912222333",
                          order="DH-2026-99999")
    new_ticket("question", customer=other, email=BINH, body="Tin của Bình")
    client = _customer_client(app)
    text = _download(client).get_data(as_text=True)
    assert BINH not in text and "Bình" not in text and "DH-2026-99999" not in text
    assert count(DataCopy, DataCopy.customer_id == other.id) == 0


def test_someone_we_hold_no_record_for_gets_no_copy(app, clock, customer):
    client = _customer_client(app, "nobody@example.vn")
    page = client.get("/my-data/copy")
    assert 'action="/my-data/copy"' not in page_text(page)
    response = client.post("/my-data/copy", data={"csrf_token": _token(page), "format": "json"})
    assert response.status_code == 404


def test_a_bad_format_is_refused_with_a_message(app, clock, customer):
    client = _customer_client(app)
    page = client.get("/my-data/copy")
    response = client.post("/my-data/copy", data={"csrf_token": _token(page), "format": "xml"})
    assert response.status_code == 400 and count(DataCopy) == 0


def test_the_export_documentation_names_every_field(app, clock, customer):
    client = _customer_client(app)
    data = json.loads(_download(client).get_data(as_text=True))
    text = (Path(__file__).resolve().parent.parent / "docs" / "data-export.md").read_text(encoding="utf-8")
    names = set()

    def walk(value):
        if isinstance(value, dict):
            for key, inner in value.items():
                names.add(key)
                walk(inner)
        elif isinstance(value, list):
            for inner in value:
                walk(inner)

    walk(data)
    assert {name for name in names if f"`{name}`" not in text} == set()
