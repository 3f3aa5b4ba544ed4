"""The consent switches on My data: a choice is effective at once, with its ledger entry, and a
withdrawal opens (or joins) the customer's consent-withdrawal request for sales. What rests on the
contract is shown per order, not as a switch. Bad, stale, forged or foreign choices change nothing."""

from __future__ import annotations

import re
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from flask import render_template
from sqlalchemy import select, update

from portal.account.models import Order
from portal.audit.models import AuditRecord
from portal.consent.models import ConsentEntry
from portal.consent.services import contract_basis, current_consents, ledger_of
from portal.db import db
from portal.enums import ActorKind, ConsentMethod, Department, Purpose
from portal.local_time import local_date
from portal.tickets import services
from portal.tickets.models import Ticket
from tests.factories import make_customer, make_staff
from tests.helpers import CSRF_FIELD, count, english, page_text, sign_in, sign_in_staff

EMAIL = "an.nguyen@example.vn"


def latest_id(customer, purpose) -> int:
    entry = current_consents(ledger_of(customer.id))[Purpose(purpose)]
    return entry.id if entry else 0


def switch(client, purpose, choice, seen, token=None, **extra):
    if token is None:
        token = CSRF_FIELD.search(page_text(client.get("/my-data"))).group(1)
    data = {"csrf_token": token, "purpose": purpose, "choice": choice, "seen": seen, **extra}
    return client.post("/my-data/consents", data={key: value for key, value in data.items() if value is not None})


def withdrawal_tickets(customer):
    return list(db.session.scalars(select(Ticket).where(Ticket.customer_id == customer.id,
                                                        Ticket.kind == "consent_withdrawal")))


@pytest.fixture
def signed_in(client, customer):
    english(client)
    sign_in(client, EMAIL)
    return client


def test_giving_consent_is_an_entry_under_the_notice_in_effect_and_shown_at_once(signed_in, customer):
    response = switch(signed_in, "surveys", "give", 0)
    assert response.status_code == 303 and response.headers["Location"].endswith("/my-data#h-consents")
    entry = current_consents(ledger_of(customer.id))[Purpose.SURVEYS]
    assert (entry.granted, entry.method, entry.actor_kind, entry.notice_version) == (
        True, ConsentMethod.PORTAL, ActorKind.CUSTOMER, "1")
    page = page_text(signed_in.get("/my-data"))
    assert "Your consent for “Customer surveys” is given." in page
    assert re.search(r'value="surveys">\s*<input type="hidden" name="seen" value="' + str(entry.id)
                     + r'">\s*<button type="submit" name="choice" value="withdraw"', page)
    assert withdrawal_tickets(customer) == []  # giving consent asks nothing of sales


def test_withdrawing_applies_at_once_and_opens_a_request_for_sales(signed_in, customer):
    switch(signed_in, "notices", "withdraw", latest_id(customer, "notices"))
    assert current_consents(ledger_of(customer.id))[Purpose.NOTICES].granted is False
    page = page_text(signed_in.get("/my-data"))
    assert "is withdrawn: we stop at once" in page
    assert 'value="notices">\n        <input type="hidden" name="seen"' in page and "Give consent" in page
    [ticket] = withdrawal_tickets(customer)
    assert ticket.department is Department.SALES and ticket.requester_email == EMAIL
    assert services.details_of(ticket).purpose_list == [Purpose.NOTICES]
    assert "Notices about our exchanges with you" in ticket.entries[1].body  # the customer's message
    actions = db.session.scalars(select(AuditRecord.action).where(AuditRecord.actor == f"customer:{customer.id}")).all()
    assert "consent.withdrawn" in actions and "ticket.created" in actions


def test_a_second_withdrawal_joins_the_open_request(signed_in, customer):
    switch(signed_in, "surveys", "give", 0)
    switch(signed_in, "notices", "withdraw", latest_id(customer, "notices"))
    switch(signed_in, "surveys", "withdraw", latest_id(customer, "surveys"))
    [ticket] = withdrawal_tickets(customer)
    assert services.details_of(ticket).purpose_list == [Purpose.NOTICES, Purpose.SURVEYS]
    page = page_text(signed_in.get(f"/requests/{ticket.reference}"))
    assert "Consents withdrawn" in page and "Customer surveys" in page


def test_a_choice_made_in_a_stale_tab_is_refused_and_changes_nothing(signed_in, customer):
    seen = latest_id(customer, "notices")
    token = CSRF_FIELD.search(page_text(signed_in.get("/my-data"))).group(1)
    assert switch(signed_in, "notices", "withdraw", seen, token).status_code == 303  # the first tab
    entries = count(ConsentEntry)
    response = switch(signed_in, "notices", "withdraw", seen, token)  # the second, drawn before it
    assert response.status_code == 409
    assert "changed after this page was shown" in page_text(response)
    assert count(ConsentEntry) == entries and len(withdrawal_tickets(customer)) == 1


@pytest.mark.parametrize(("purpose", "choice", "seen", "message"), [
    ("marketing", "withdraw", "0", "We do not ask consent for that purpose."),
    ("warranty", "withdraw", "0", "rests on your order or warranty"),
    ("support", "give", "0", "rests on your order or warranty"),
    ("surveys", "maybe", "0", "Choose to give or to withdraw your consent."),
    ("surveys", "give", "-1", "could not be read"),
    ("surveys", "give", None, "could not be read"),
    ("surveys", "give", "abc", "could not be read"),
])
def test_a_choice_that_cannot_be_read_changes_nothing(signed_in, customer, purpose, choice, seen, message):
    entries = count(ConsentEntry)
    response = switch(signed_in, purpose, choice, seen)
    assert response.status_code == 400
    assert message in page_text(response) and 'role="alert"' in page_text(response)
    assert count(ConsentEntry) == entries and withdrawal_tickets(customer) == []


def test_without_the_csrf_token_nothing_changes(signed_in, customer):
    entries = count(ConsentEntry)
    response = switch(signed_in, "notices", "withdraw", latest_id(customer, "notices"), token="")
    assert response.status_code == 400
    assert count(ConsentEntry) == entries and withdrawal_tickets(customer) == []


def test_another_customer_s_ledger_cannot_be_reached(signed_in, customer):
    other = make_customer("binh.tran@example.vn", name="Trần Thị Bình")
    theirs = latest_id(other, "notices")
    before = [(entry.id, entry.granted) for entry in ledger_of(other.id)]
    # Their entry's number is not a version of this customer's ledger: the choice is refused.
    response = switch(signed_in, "notices", "withdraw", theirs)
    assert response.status_code == 409
    assert [(entry.id, entry.granted) for entry in ledger_of(other.id)] == before
    # A customer_id in the form is not read: only the signed-in customer's ledger moves.
    switch(signed_in, "surveys", "give", 0, customer_id=other.id)
    assert [(entry.id, entry.granted) for entry in ledger_of(other.id)] == before
    assert current_consents(ledger_of(customer.id))[Purpose.SURVEYS].granted is True
    assert "Trần Thị Bình" not in page_text(signed_in.get("/my-data"))


def test_visitors_and_addresses_without_a_record_cannot_switch(client, app):
    response = client.post("/my-data/consents", data={"purpose": "surveys", "choice": "give", "seen": "0"})
    assert response.status_code in (302, 400)
    sign_in(client, "nobody@example.vn")
    response = switch(client, "surveys", "give", 0)
    assert response.status_code == 404 and count(ConsentEntry) == 0


def test_what_rests_on_the_contract_is_shown_per_order_until_its_warranty_ends(clock, signed_in, customer):
    order = db.session.scalars(select(Order).where(Order.customer_id == customer.id)).one()
    # Its last day is tomorrow; written past the ORM, so the record's version does not move.
    db.session.execute(update(Order).where(Order.id == order.id).values(
        warranty_ends_on=local_date(clock.now()) + timedelta(days=1)))
    db.session.commit()
    page = page_text(signed_in.get("/my-data"))
    assert "What we need for your orders" in page and order.reference in page
    assert "when its warranty ends" in page
    assert 'name="purpose" value="warranty"' not in page  # not a switch
    clock.advance(days=2)  # the warranty has ended; nothing in the record moved
    english(signed_in)
    sign_in(signed_in, EMAIL)
    page = page_text(signed_in.get("/my-data"))
    assert "nothing rests on our contract with you any more" in page and "when its warranty ends" not in page


def test_contract_basis_rule():
    today = date(2026, 6, 1)
    orders = [Order(reference="A", description="x", warranty_ends_on=date(2027, 1, 1)),
              Order(reference="B", description="y", warranty_ends_on=date(2026, 7, 1)),
              Order(reference="C", description="z", warranty_ends_on=date(2026, 5, 31)),
              Order(reference="D", description="w", warranty_ends_on=None)]
    running, ended = contract_basis(orders, today)
    assert [basis.reference for basis in running] == ["B", "A"] and ended is None
    assert contract_basis(orders[2:], today) == ([], date(2026, 5, 31))
    assert contract_basis(orders[3:], today) == ([], None)
    assert contract_basis(orders[:1], date(2027, 1, 1))[0][0].until == date(2027, 1, 1)  # its last day counts


def test_sales_see_do_not_contact_beside_the_withdrawal_request(clock, signed_in, app, customer):
    clock.advance(seconds=1)  # after the factory's entries, which it dates by the real time
    switch(signed_in, "notices", "withdraw", latest_id(customer, "notices"))
    [ticket] = withdrawal_tickets(customer)
    member = make_staff("sales")
    staff = app.test_client()
    english(staff)
    sign_in_staff(staff, member, clock=clock)
    page = page_text(staff.get(f"/board/tickets/{ticket.reference}"))
    notice = page[page.index('class="notice notice-error do-not-contact"'):]
    notice = notice[:notice.index("</div>")]
    assert "Do not contact for:" in notice
    assert "Notices about our exchanges with you" in notice and "Promotion of our products" in notice
    assert "Customer surveys" in notice  # never given
    assert "Consents withdrawn" in page  # the request's details


def test_the_do_not_contact_partial_takes_a_bare_consent_state(app, customer):
    state = current_consents(ledger_of(customer.id))
    with app.test_request_context():
        html = render_template("consent/_do_not_contact.html", consent_state=state)
        granted = render_template("consent/_do_not_contact.html", consent_state={
            purpose: SimpleNamespace(granted=True, recorded_at=None) for purpose in state})
    assert "Quảng bá sản phẩm và dịch vụ của công ty" in html and "Khảo sát khách hàng" in html  # withdrawn, never
    assert "Thông báo về việc trao đổi" not in html  # given
    assert "do-not-contact" not in granted  # nothing barred: nothing shown
