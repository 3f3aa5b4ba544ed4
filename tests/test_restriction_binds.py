"""A restricted, erased or objecting record binds the staff: the board's record pages refuse edits
and consent grants with a message and change nothing, and show the restriction first; the customer's
own corrections on My data stay allowed. Staff lift a restriction the customer asked for (never one
an erasure imposed), with a reason: audited, in the history, e-mailed, shown on My data."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from portal.account.models import Customer, DataChange
from portal.audit.models import AuditRecord
from portal.consent.models import ConsentEntry
from portal.db import db
from portal.enums import Purpose
from portal.rights.models import Objection
from portal.rights.services import LIFTED
from portal.tickets.models import Ticket, TicketEntry
from tests.factories import make_customer, make_staff, pickup_everywhere
from tests.helpers import CSRF_FIELD, count, outbox, page_text, sign_in, sign_in_staff

AN = "an.nguyen@example.vn"
REASON = "Quý khách đã xác nhận qua điện thoại rằng muốn dùng lại dịch vụ."

VERSION = re.compile(r'name="version" type="hidden" value="([^"]*)"')


@pytest.fixture
def sales(app, client, clock):
    member = make_staff("sales", name="Trần Thị Lan")
    sign_in_staff(client, member, clock=clock)
    response = client.post("/language", data={"csrf_token": _token(client, "/staff/"), "locale": "en",
                                              "next": "/staff/"})
    assert response.status_code == 303
    return member


def _restrict(customer, clock, erased: bool = False) -> None:
    customer.restricted_at = clock.now()
    if erased:
        customer.erased_at = clock.now()
    db.session.commit()


def _token(client, path: str) -> str:
    return CSRF_FIELD.search(page_text(client.get(path))).group(1)


def _edit(client, customer, **fields):
    path = f"/board/customers/{customer.id}"
    data = {"csrf_token": _token(client, path), "version": str(customer.data_version), "source": "phone",
            "full_name": "Tên Khác", "notes": "ghi chú mới", "contacts-0-kind": "phone:mobile",
            "contacts-0-value": "0909 888 777", **fields}
    return client.post(f"{path}/edit", data=data)


def _consent(client, customer, purpose="surveys", decision="given"):
    path = f"/board/customers/{customer.id}"
    return client.post(f"{path}/consent", data={"csrf_token": _token(client, path), "purpose": purpose,
                                                "decision": decision, "method": "sms", "evidence": "sms-1"})


def _nothing_changed(customer_id: int, name: str = "Nguyễn Văn An") -> None:
    db.session.expire_all()
    assert db.session.get(Customer, customer_id).full_name == name
    assert count(DataChange, DataChange.customer_id == customer_id) == 0
    assert count(AuditRecord, AuditRecord.action == "customer.changed") == 0


def test_the_record_page_of_a_restricted_customer_shows_it_and_offers_no_edit(client, sales, clock):
    customer = make_customer()
    page = page_text(client.get(f"/board/customers/{customer.id}"))
    assert f"/board/customers/{customer.id}/edit" in page and "restricted" not in page
    _restrict(customer, clock)
    page = page_text(client.get(f"/board/customers/{customer.id}"))
    assert 'class="notice notice-error restricted"' in page and "Processing restricted since" in page
    assert f"/board/customers/{customer.id}/edit" not in page
    assert 'value="given"' not in page and 'value="withdrawn"' in page


@pytest.mark.parametrize("erased, message", [(False, "restricted at their request"), (True, "erased at their request")])
def test_staff_edits_of_a_restricted_or_erased_record_are_refused(client, sales, clock, erased, message):
    customer = make_customer()
    _restrict(customer, clock, erased)
    opened = client.get(f"/board/customers/{customer.id}/edit", follow_redirects=True)
    assert message in page_text(opened) and 'name="full_name"' not in page_text(opened)
    response = _edit(client, customer)
    assert response.status_code == 303
    assert message in page_text(client.get(response.headers["Location"]))
    _nothing_changed(customer.id)


def test_a_restriction_applied_while_the_form_was_open_refuses_its_save(client, sales, clock):
    customer = make_customer()
    path = f"/board/customers/{customer.id}"
    data = {"csrf_token": _token(client, path), "version": VERSION.search(page_text(client.get(f"{path}/edit")))
            .group(1), "source": "phone", "full_name": "Tên Khác", "notes": ""}
    _restrict(customer, clock)
    response = client.post(f"{path}/edit", data=data)
    assert response.status_code == 303 and "restricted" in page_text(client.get(response.headers["Location"]))
    _nothing_changed(customer.id)


@pytest.mark.parametrize("erased", [False, True])
def test_a_consent_grant_on_a_restricted_record_is_refused_a_withdrawal_recorded(client, sales, clock, erased):
    customer = make_customer()
    _restrict(customer, clock, erased)
    before = count(ConsentEntry)
    response = _consent(client, customer)
    assert response.status_code == 400 and "Nothing was saved" in page_text(response)
    assert count(ConsentEntry) == before
    assert _consent(client, customer, decision="withdrawn").status_code == 303
    entry = db.session.scalars(select(ConsentEntry).order_by(ConsentEntry.id.desc()).limit(1)).one()
    assert (entry.purpose, entry.granted) == (Purpose.SURVEYS, False)


def test_a_purpose_the_customer_objected_to_gets_no_staff_grant(client, sales, clock):
    customer = make_customer()
    db.session.add(Objection(customer_id=customer.id, purpose=Purpose.SURVEYS, since=clock.now()))
    db.session.commit()
    before = count(ConsentEntry)
    response = _consent(client, customer, "surveys")
    assert response.status_code == 400 and "objected to this use" in page_text(response)
    assert count(ConsentEntry) == before
    assert _consent(client, customer, "promotions").status_code == 303  # another purpose: recorded
    assert count(ConsentEntry) == before + 1


def test_the_customer_still_corrects_their_own_restricted_record(app, clock):
    customer = make_customer()
    _restrict(customer, clock)
    client = app.test_client()
    sign_in(client, "an.nguyen@example.vn")
    page = page_text(client.get("/my-data/notes"))
    form = {"csrf_token": CSRF_FIELD.search(page).group(1), "version": VERSION.search(page).group(1)}
    assert client.post("/my-data/notes", data={**form, "notes": "Gọi sau 17 giờ"}).status_code == 303
    db.session.expire_all()
    assert db.session.get(Customer, customer.id).notes == "Gọi sau 17 giờ"


# --- lifting a restriction ------------------------------------------------------------------------


def _in_english(client, page: str = "/staff/") -> None:
    response = client.post("/language", data={"csrf_token": _token(client, page), "locale": "en", "next": page})
    assert response.status_code == 303


@pytest.fixture
def restricted(app, clock):
    """A customer who asked for a restriction on the portal, applied by care from the ticket."""
    pickup_everywhere()
    customer = make_customer()
    client = app.test_client()
    sign_in(client, AN)
    page = page_text(client.get("/requests/new/restriction"))
    key = re.search(r'name="submission_key" type="hidden" value="([0-9a-f]{32})"', page).group(1)
    filed = client.post("/requests/new/restriction", data={
        "csrf_token": CSRF_FIELD.search(page).group(1), "submission_key": key, "what": "restriction", "purpose": "",
        "message": "Xin tạm ngừng xử lý dữ liệu của tôi"})
    reference = filed.headers["Location"].rsplit("/", 1)[1]
    care = make_staff("care", name="Lê Thị Hoa")
    staff_client = app.test_client()
    sign_in_staff(staff_client, care, clock=clock)
    ticket = db.session.get(Ticket, int(reference.rsplit("-", 1)[1]))
    applied = staff_client.post(f"/board/tickets/{reference}/restriction/apply", data={
        "csrf_token": _token(staff_client, f"/board/tickets/{reference}"), "version": str(ticket.version)})
    assert applied.status_code == 303
    assert db.session.get(Customer, customer.id).restricted_at is not None
    _in_english(staff_client)
    return {"customer_id": customer.id, "reference": reference, "staff": staff_client, "customer": client,
            "mails": len(outbox(AN))}


def _lift_on_record(client, customer_id: int, reason: str = REASON):
    path = f"/board/customers/{customer_id}"
    return client.post(f"{path}/lift-restriction", data={"csrf_token": _token(client, path), "reason": reason})


def _still_restricted(world) -> None:
    db.session.expire_all()
    assert db.session.get(Customer, world["customer_id"]).restricted_at is not None
    assert count(DataChange, DataChange.field == LIFTED) == 0 and len(outbox(AN)) == world["mails"]
    assert count(AuditRecord, AuditRecord.action == "restriction.lifted") == 0


def test_care_lift_a_restriction_from_the_record_with_a_reason_the_customer_reads(restricted):
    staff, customer_id = restricted["staff"], restricted["customer_id"]
    page = page_text(staff.get(f"/board/customers/{customer_id}"))
    assert "Lift the restriction" in page
    response = _lift_on_record(staff, customer_id, "  ")
    assert response.status_code == 400 and "Give the reason for lifting" in page_text(response)
    _still_restricted(restricted)
    response = _lift_on_record(staff, customer_id)
    assert response.status_code == 303, page_text(response)
    db.session.expire_all()
    assert db.session.get(Customer, customer_id).restricted_at is None
    change = db.session.scalars(select(DataChange).where(DataChange.field == LIFTED)).one()
    assert (change.new_value, change.actor_name) == (REASON, "Lê Thị Hoa")
    assert count(AuditRecord, AuditRecord.action == "restriction.lifted") == 1
    ticket_id = int(restricted["reference"].rsplit("-", 1)[1])
    events = [(entry.event, entry.data) for entry in db.session.scalars(
        select(TicketEntry).where(TicketEntry.ticket_id == ticket_id))]
    assert ("restriction_lifted", {"reason": REASON}) in events
    mail = outbox(AN)[-1]
    assert len(outbox(AN)) == restricted["mails"] + 1 and REASON in mail.body_text
    assert restricted["reference"] in mail.subject and mail.locale == "vi"
    record_page = page_text(staff.get(f"/board/customers/{customer_id}"))
    assert "notice-error restricted" not in record_page and f"/board/customers/{customer_id}/edit" in record_page
    my_data = page_text(restricted["customer"].get("/my-data"))
    assert "Đã dỡ bỏ hạn chế xử lý" in my_data and "Quý khách đã xác nhận" in my_data
    assert "notice-info" not in my_data.split('id="h-rights"', 1)[1].split("</section>", 1)[0]
    again = _lift_on_record(staff, customer_id)  # twice: nothing more to lift
    assert again.status_code == 400 and "is not restricted" in page_text(again)
    assert len(outbox(AN)) == restricted["mails"] + 1


def test_care_lift_a_restriction_from_its_request(restricted):
    staff, reference = restricted["staff"], restricted["reference"]
    path = f"/board/tickets/{reference}"
    assert "Lift the restriction" in page_text(staff.get(path))
    ticket = db.session.get(Ticket, int(reference.rsplit("-", 1)[1]))
    data = {"csrf_token": _token(staff, path), "version": str(ticket.version), "reason": ""}
    refused = staff.post(f"{path}/restriction/lift", data=data, follow_redirects=True)
    assert "Give the reason for lifting" in page_text(refused)
    _still_restricted(restricted)
    response = staff.post(f"{path}/restriction/lift", data={**data, "reason": REASON}, follow_redirects=True)
    assert "The restriction is lifted" in page_text(response)
    assert "lifted since" in page_text(response) and "Lift the restriction" not in page_text(response)
    db.session.expire_all()
    assert db.session.get(Customer, restricted["customer_id"]).restricted_at is None
    assert len(outbox(AN)) == restricted["mails"] + 1


def test_sales_cannot_lift_a_restriction(app, clock, restricted):
    member = make_staff("sales")
    client = app.test_client()
    sign_in_staff(client, member, clock=clock)
    assert "Lift the restriction" not in page_text(client.get(f"/board/customers/{restricted['customer_id']}"))
    assert _lift_on_record(client, restricted["customer_id"]).status_code == 404
    _still_restricted(restricted)


def test_a_restriction_an_erasure_imposed_is_not_lifted(app, clock):
    customer = make_customer()
    _restrict(customer, clock, erased=True)
    client = app.test_client()
    sign_in_staff(client, make_staff("board"), clock=clock)
    _in_english(client)
    assert "Lift the restriction" not in page_text(client.get(f"/board/customers/{customer.id}"))
    response = _lift_on_record(client, customer.id)
    assert response.status_code == 400 and "imposed by an erasure" in page_text(response)
    db.session.expire_all()
    assert db.session.get(Customer, customer.id).restricted_at is not None and not outbox()
