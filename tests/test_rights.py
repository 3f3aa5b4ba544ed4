"""The customer's rights through HTTP and the database: the fresh sign-in step, a copy of the data,
deletion (erasure) with what it keeps, restriction and objection — and the hostile cases: an erasure
approved twice, interrupted midway and resumed, an unverified requester, a duplicate, another
customer's copy, a stale fresh code, a customer with an open ticket erased."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from portal.account.models import Customer, DataChange, Order
from portal.audit.models import AuditRecord
from portal.consent.models import ConsentEntry
from portal.db import db
from portal.enums import Channel, Purpose, TicketStatus
from portal.jobs import run_erasure_jobs
from portal.outbox.delivery import deliver_due
from portal.outbox.models import OutboxMessage
from portal.rights import erasure as erasure_module
from portal.rights import services as rights
from portal.rights.models import DataCopy, Objection, RetainedCategory, RetainedData, Suppression
from portal.tickets import services as ticket_services
from portal.tickets.kinds.erasure import ErasureRequest
from portal.tickets.models import Ticket, TicketEntry
from tests.factories import make_customer, make_staff, new_ticket, pickup_everywhere
from tests.helpers import CSRF_FIELD, count, outbox, page_text, sign_in, staff_client

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
    assert {consent["purpose"] for consent in data["consents"]} == {"notices", "promotions"}
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


ISO_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2})?")


@pytest.mark.parametrize("locale, titles, date_shape", [
    ("en", ("Phone (Mobile)", "Recorded phone call", "Promotion of our products", "Our staff", "Question", "New",
            "(Customer care) · the request", "file (JSON)"), r"\d{1,2} [A-Z][a-z]{2} \d{4}"),
    ("vi", ("Số điện thoại (Di động)",), r"\d{2}/\d{2}/\d{4}"),
])
def test_the_printable_copy_reads_in_the_customers_language(app, clock, customer, locale, titles, date_shape):
    pickup_everywhere()
    care = make_staff("care")
    ticket = new_ticket("question", customer=customer, email=AN, body="Camera không lên hình")
    ticket_services.record_customer_view(ticket, customer.id, care, clock.now())
    db.session.add(DataChange(customer_id=customer.id, actor_kind="staff", actor_name="Lan", field="phone:mobile",
                              old_value="0903 000 000", new_value="0903 123 456", changed_at=clock.now()))
    db.session.commit()
    client = _customer_client(app)
    client.post("/language", data={"csrf_token": _token(client.get("/my-data")), "locale": locale, "next": "/"})
    data = json.loads(page_text(_download(client)))  # the file keeps its documented codes and ISO dates
    assert data["contact_points"][1]["channel"] == "phone" and ISO_MOMENT.fullmatch(data["orders"][0]["ordered_on"])
    page = page_text(_download(client, "print"))
    for title in titles:
        assert title in page, title
    assert re.search(date_shape, page)
    body = page.split('class="printable-copy"', 1)[1]
    assert not ISO_MOMENT.search(body), ISO_MOMENT.search(body)
    for code in ("recorded_call", "web_form", ">staff<", "phone · mobile", "record)", "printable)"):
        assert code not in body, code


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


# --- deletion -------------------------------------------------------------------------------------


def _ask_for_deletion(client, message="") -> str:
    page = client.get("/my-data/delete")
    assert page.status_code == 200
    key = re.search(r'name="submission_key" type="hidden" value="([0-9a-f]{32})"', page_text(page)).group(1)
    response = client.post("/my-data/delete", data={"csrf_token": _token(page), "submission_key": key,
                                                    "understood": "y", "message": message})
    assert response.status_code == 303, page_text(response)
    return response.headers["Location"].rsplit("/", 1)[1]


def _approve(client, reference: str):
    page = client.get(f"/board/tickets/{reference}")
    version = str(db.session.get(Ticket, int(reference.rsplit("-", 1)[1])).version)
    return client.post(f"/board/tickets/{reference}/erasure/approve",
                       data={"csrf_token": _token(page), "version": version}, follow_redirects=True)


@pytest.fixture
def erasure_world(app, clock, customer):
    pickup_everywhere()
    customer_client = _customer_client(app)
    open_ticket = new_ticket("question", customer=customer, email=AN, body="Số nhà tôi là 12 Lê Lợi")
    new_ticket("question", email=AN, body="Gửi trước khi được liên kết")  # from their address, unlinked
    new_ticket("question", email=BINH, body="Của người khác")  # someone else's: untouched
    old_order = Order(customer_id=customer.id, reference="DH-2019-00001", description="Đầu ghi",
                      ordered_on=date(2019, 5, 2), warranty_ends_on=date(2020, 5, 2))
    db.session.add(old_order)
    db.session.commit()
    return {"customer_id": customer.id, "client": customer_client, "open_reference": open_ticket.reference}


def test_the_deletion_page_explains_what_is_kept_and_until_when(app, clock, erasure_world):
    page = page_text(erasure_world["client"].get("/my-data/delete"))
    customer = db.session.get(Customer, erasure_world["customer_id"])
    warranty = max(order.warranty_ends_on for order in customer.orders)
    assert warranty.strftime("%d/%m/%Y") in page  # the warranty's end
    assert 'name="understood"' in page


def test_deletion_needs_the_box_ticked_and_a_fresh_sign_in(app, clock, erasure_world):
    client = erasure_world["client"]
    page = client.get("/my-data/delete")
    key = re.search(r'name="submission_key" type="hidden" value="([0-9a-f]{32})"', page_text(page)).group(1)
    response = client.post("/my-data/delete", data={"csrf_token": _token(page), "submission_key": key,
                                                    "message": "Xoá giúp tôi"})
    assert response.status_code == 400 and "Xoá giúp tôi" in page_text(response)
    _stale(clock)
    response = client.post("/my-data/delete", data={"csrf_token": _token(page), "submission_key": key,
                                                    "understood": "y"})
    assert 'action="/confirm-it-is-you/send"' in page_text(response)
    assert count(Ticket, Ticket.kind == "erasure") == 0


def test_an_approved_erasure_erases_keeps_what_the_law_requires_and_tells_the_customer(app, clock, erasure_world):
    reference = _ask_for_deletion(erasure_world["client"], "Tôi không dùng dịch vụ nữa")
    details = db.session.get(ErasureRequest, int(reference.rsplit("-", 1)[1]))
    assert details.verified_customer_id == erasure_world["customer_id"] and details.state == "requested"
    care = staff_client(app, make_staff("care"), clock)
    response = _approve(care, reference)
    assert response.status_code == 200
    customer_id = erasure_world["customer_id"]
    customer = db.session.get(Customer, customer_id)
    assert customer.erased_at is not None and customer.restricted_at is not None
    # Kept: phones and the address for the open warranty; the orders for accounting; the name for both.
    channels = {point.channel for point in customer.contact_points}
    assert channels == {Channel.PHONE, Channel.ADDRESS}
    assert len(customer.orders) == 2 and customer.full_name == "Nguyễn Văn An" and customer.notes == ""
    assert count(ConsentEntry, ConsentEntry.customer_id == customer_id) == 0
    assert count(DataChange, DataChange.customer_id == customer_id) == 0
    kept = {item.category: item.until for item in db.session.scalars(select(RetainedData))}
    warranty = max(order.warranty_ends_on for order in customer.orders)
    last_order = max(order.ordered_on for order in customer.orders)
    assert kept == {RetainedCategory.WARRANTY: warranty,
                    RetainedCategory.ACCOUNTING: last_order.replace(year=last_order.year + 10)}
    # The open request is closed and nothing personal is left in any thread; the references stay.
    open_ticket = db.session.get(Ticket, int(erasure_world["open_reference"].rsplit("-", 1)[1]))
    assert open_ticket.status is TicketStatus.CLOSED and open_ticket.requester_email == ""
    bodies = {entry.body for entry in db.session.scalars(select(TicketEntry).where(TicketEntry.kind != "event"))}
    assert bodies == {erasure_module.ERASED_TEXT, "Của người khác"}
    ticket = db.session.get(Ticket, details.ticket_id)
    assert ticket.status is TicketStatus.RESOLVED and details.state == "done"
    # Suppressed: neither the address nor the phone (however written) can be used for marketing again.
    assert rights.is_suppressed(email="AN.Nguyen@example.vn") and rights.is_suppressed(phone="+84 903 123 456")
    assert not rights.is_suppressed(email="someone.else@example.vn")
    assert AN not in {row.key for row in db.session.scalars(select(Suppression))}
    # The customer is told, by e-mail and on screen, what is kept, why and until when.
    mail = outbox(AN)[-1]
    assert reference in mail.subject and warranty.strftime("%d/%m/%Y") in mail.body_text
    shown = page_text(erasure_world["client"].get(f"/requests/{reference}"))
    assert warranty.strftime("%d/%m/%Y") in shown
    # The audit log keeps the fact, not the data.
    approved = db.session.scalars(select(AuditRecord).where(AuditRecord.action == "erasure.approved")).one()
    assert "Nguyễn" not in json.dumps(approved.data, ensure_ascii=False) and AN not in json.dumps(approved.data)


def test_an_erasure_approved_twice_is_carried_out_once(app, clock, erasure_world):
    reference = _ask_for_deletion(erasure_world["client"])
    care = staff_client(app, make_staff("care"), clock)
    _approve(care, reference)
    mails = len(outbox())
    state = _erasure_state(erasure_world["customer_id"])
    response = _approve(care, reference)  # the button is gone; a second post (a stale page) anyway
    assert response.status_code == 200
    assert len(outbox()) == mails and _erasure_state(erasure_world["customer_id"]) == state
    assert count(AuditRecord, AuditRecord.action == "erasure.approved") == 1
    assert count(AuditRecord, AuditRecord.action == "erasure.carried_out") == 1


def _erasure_state(customer_id: int) -> dict:
    db.session.expire_all()
    customer = db.session.get(Customer, customer_id)
    return {"points": sorted(point.value for point in customer.contact_points),
            "orders": sorted(order.reference for order in customer.orders),
            "name": customer.full_name, "erased": customer.erased_at,
            "kept": sorted((str(i.category), i.until) for i in db.session.scalars(select(RetainedData))),
            "suppressed": count(Suppression),
            "bodies": sorted(e.body for e in db.session.scalars(select(TicketEntry)
                                                                .where(TicketEntry.kind != "event"))),
            "statuses": sorted(str(t.status) for t in db.session.scalars(select(Ticket)))}


def test_an_erasure_killed_midway_resumes_and_ends_as_a_whole_one(app, clock, erasure_world, monkeypatch):
    reference = _ask_for_deletion(erasure_world["client"])
    care = staff_client(app, make_staff("care"), clock)

    def killed(details, customer, now):
        raise RuntimeError("the worker was killed")

    killed.__name__ = "contacts_erased"
    steps = list(erasure_module.STEPS)
    monkeypatch.setattr(erasure_module, "STEPS", tuple(killed if step.__name__ == "contacts_erased" else step
                                                       for step in steps))
    with pytest.raises(RuntimeError):
        _approve(care, reference)
    db.session.rollback()
    details = db.session.get(ErasureRequest, int(reference.rsplit("-", 1)[1]))
    assert details.state == "tickets_anonymised"  # the steps before are recorded, the one killed is not
    customer = db.session.get(Customer, erasure_world["customer_id"])
    assert any(point.channel is Channel.EMAIL for point in customer.contact_points)
    monkeypatch.setattr(erasure_module, "STEPS", tuple(steps))
    assert run_erasure_jobs(clock.now()) == 1
    db.session.expire_all()
    assert db.session.get(ErasureRequest, details.ticket_id).state == "done"
    resumed = _erasure_state(erasure_world["customer_id"])
    assert [p for p in resumed["points"] if "@" in p] == [] and resumed["suppressed"] == 2
    assert set(resumed["bodies"]) == {erasure_module.ERASED_TEXT, "Của người khác"}
    assert run_erasure_jobs(clock.now()) == 0  # nothing left to do
    assert count(AuditRecord, AuditRecord.action == "erasure.carried_out") == 1


def test_an_unverified_erasure_cannot_be_approved(app, clock, customer):
    pickup_everywhere()
    ticket = new_ticket("erasure", email="someone@example.vn", body="Xoá dữ liệu của An")
    db.session.add(ErasureRequest(ticket_id=ticket.id, verified_customer_id=None))
    ticket.customer_id = customer.id  # linked later by staff after a call
    db.session.commit()
    care = staff_client(app, make_staff("care"), clock)
    response = _approve(care, ticket.reference)
    assert response.status_code == 200
    db.session.expire_all()
    assert db.session.get(ErasureRequest, ticket.id).approved_at is None
    assert db.session.get(Customer, customer.id).erased_at is None
    assert count(RetainedData) == 0 and count(Suppression) == 0


def test_a_duplicate_of_an_approved_erasure_is_refused(app, clock, erasure_world):
    reference = _ask_for_deletion(erasure_world["client"])
    care = staff_client(app, make_staff("care"), clock)
    _approve(care, reference)
    again = new_ticket("erasure", customer=db.session.get(Customer, erasure_world["customer_id"]), email=AN)
    db.session.add(ErasureRequest(ticket_id=again.id, verified_customer_id=erasure_world["customer_id"]))
    db.session.commit()
    mails = len(outbox())
    _approve(care, again.reference)
    db.session.expire_all()
    assert db.session.get(ErasureRequest, again.id).approved_at is None and len(outbox()) == mails


def test_an_erasure_is_resolved_only_by_approving_it(app, clock, erasure_world):
    reference = _ask_for_deletion(erasure_world["client"])
    member = staff_client(app, make_staff("care"), clock).member
    ticket = db.session.get(Ticket, int(reference.rsplit("-", 1)[1]))
    with pytest.raises(ticket_services.TicketRuleError):
        ticket_services.change_status(ticket, member, TicketStatus.RESOLVED, clock.now())
    db.session.rollback()


def test_another_customers_staff_approval_post_is_a_404_for_sales(app, clock, erasure_world):
    reference = _ask_for_deletion(erasure_world["client"])
    sales_client = staff_client(app, make_staff("sales"), clock)
    response = sales_client.post(f"/board/tickets/{reference}/erasure/approve",
                                 data={"csrf_token": _token(sales_client.get("/staff/")), "version": "1"})
    assert response.status_code == 404
    assert db.session.get(Customer, erasure_world["customer_id"]).erased_at is None


def test_the_worker_erases_what_was_kept_on_its_date(app, clock, erasure_world):
    reference = _ask_for_deletion(erasure_world["client"])
    care = staff_client(app, make_staff("care"), clock)
    _approve(care, reference)
    customer_id = erasure_world["customer_id"]
    warranty = db.session.scalars(select(RetainedData).where(RetainedData.category == "warranty")).one().until
    later = clock.now() + timedelta(days=(warranty - clock.now().date()).days + 1)
    assert run_erasure_jobs(later) == 1
    state = _erasure_state(customer_id)
    assert state["points"] == [] and len(state["orders"]) == 2 and state["name"] == "Nguyễn Văn An"
    accounting = db.session.scalars(select(RetainedData).where(RetainedData.category == "accounting")).one().until
    much_later = clock.now() + timedelta(days=(accounting - clock.now().date()).days + 1)
    assert run_erasure_jobs(much_later) == 1
    state = _erasure_state(customer_id)
    assert state["orders"] == [] and state["name"] == ""
    assert run_erasure_jobs(much_later) == 0


# --- restriction and objection --------------------------------------------------------------------


def _file_restriction(client, what: str, purpose: str = "") -> tuple[int, str]:
    page = client.get("/requests/new/restriction")
    key = re.search(r'name="submission_key" type="hidden" value="([0-9a-f]{32})"', page_text(page)).group(1)
    response = client.post("/requests/new/restriction", data={
        "csrf_token": _token(page), "submission_key": key, "what": what, "purpose": purpose,
        "message": "Tôi không muốn nhận quảng cáo"})
    return response.status_code, response.headers.get("Location", "").rsplit("/", 1)[-1]


def _apply(client, reference: str):
    page = client.get(f"/board/tickets/{reference}")
    version = str(db.session.get(Ticket, int(reference.rsplit("-", 1)[1])).version)
    return client.post(f"/board/tickets/{reference}/restriction/apply",
                       data={"csrf_token": _token(page), "version": version}, follow_redirects=True)


def test_a_restriction_applied_by_staff_flags_the_record_everywhere(app, clock, customer):
    pickup_everywhere()
    client = _customer_client(app)
    status, reference = _file_restriction(client, "restriction")
    assert status == 303
    care = staff_client(app, make_staff("care"), clock)
    member = care.member
    ticket = db.session.get(Ticket, int(reference.rsplit("-", 1)[1]))
    with pytest.raises(ticket_services.TicketRuleError):  # not resolved before it is applied
        ticket_services.change_status(ticket, member, TicketStatus.RESOLVED, clock.now())
    db.session.rollback()
    assert not rights.processing_restricted(db.session.get(Customer, customer.id))
    page = page_text(_apply(care, reference))
    assert 'class="notice notice-error restricted"' in page
    record = db.session.get(Customer, customer.id)
    assert rights.processing_restricted(record) and rights.objects_to(record, Purpose.PROMOTIONS)
    ticket = db.session.get(Ticket, ticket.id)
    ticket_services.change_status(ticket, member, TicketStatus.RESOLVED, clock.now())
    db.session.commit()
    assert 'class="notice notice-info"' in page_text(client.get("/my-data"))


def test_an_objection_stops_one_purpose_only(app, clock, customer):
    pickup_everywhere()
    client = _customer_client(app)
    status, reference = _file_restriction(client, "objection", "promotions")
    assert status == 303
    care = staff_client(app, make_staff("care"), clock)
    _apply(care, reference)
    _apply(care, reference)  # twice: one objection
    record = db.session.get(Customer, customer.id)
    assert rights.objects_to(record, "promotions") and not rights.objects_to(record, Purpose.WARRANTY)
    assert not rights.processing_restricted(record)
    assert count(Objection) == 1


def test_an_objection_without_a_purpose_is_refused_with_a_message(app, clock, customer):
    client = _customer_client(app)
    status, _reference = _file_restriction(client, "objection")
    assert status == 400 and count(Ticket) == 0
    status, _reference = _file_restriction(client, "everything")
    assert status == 400 and count(Ticket) == 0


def test_a_sent_fresh_code_is_not_kept_in_the_outbox(app, clock, customer, smtp_server):
    app.config.update(smtp_server.app_config())
    client = _customer_client(app)
    _stale(clock)
    code, _page = _fresh_code(client, "/my-data/copy")
    message = outbox()[-1]
    assert deliver_due(clock.now()) >= 1
    assert code in smtp_server.received[-1].message.get_body(("plain",)).get_content()
    db.session.expire_all()
    message = db.session.get(OutboxMessage, message.id)
    assert message.status == "sent" and code not in message.body_text and code not in message.body_html
