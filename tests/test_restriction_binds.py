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
from tests.factories import make_customer, make_staff
from tests.helpers import CSRF_FIELD, count, page_text, sign_in, sign_in_staff

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
