"""The consent ledger: every grant and withdrawal is an entry; the current state is the latest."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.account.models import Customer, DataChange
from portal.audit.models import AuditRecord
from portal.consent.models import ConsentEntry
from portal.consent.services import ConsentProblem, current_consents, ledger_of, record_consent
from portal.db import db
from portal.enums import ActorKind, ConsentMethod, Purpose
from tests.helpers import count, page_text, sign_in


def grant(customer, purpose, granted, when, method=ConsentMethod.PORTAL, evidence=""):
    entry = record_consent(customer, purpose, granted, method=method, evidence=evidence, actor=customer,
                           actor_kind=ActorKind.CUSTOMER, actor_name=customer.full_name, now=when,
                           notice_version="1")
    db.session.commit()
    return entry


def test_each_choice_is_a_new_entry_and_the_latest_is_the_state(customer, clock):
    first = clock.now()
    grant(customer, Purpose.SURVEYS, True, first)
    grant(customer, Purpose.SURVEYS, False, first + timedelta(hours=1))
    entries = ledger_of(customer.id)
    assert [entry.granted for entry in entries if entry.purpose is Purpose.SURVEYS] == [False, True]
    state = current_consents(entries)
    assert state[Purpose.SURVEYS].granted is False
    assert state[Purpose.PROMOTIONS].granted is False  # the factory's refusal, recorded by staff
    assert set(state) == {Purpose.NOTICES, Purpose.SURVEYS, Purpose.PROMOTIONS}
    history = db.session.scalars(select(DataChange).where(DataChange.field == "consent:surveys")
                                 .order_by(DataChange.id)).all()
    assert [(change.old_value, change.new_value) for change in history] == [(None, "given"), ("given", "withdrawn")]
    actions = db.session.scalars(select(AuditRecord.action).where(AuditRecord.action.like("consent.%"))).all()
    assert actions == ["consent.granted", "consent.withdrawn"]


def test_a_purpose_that_rests_on_the_contract_is_not_a_consent(customer, clock):
    with pytest.raises(ConsentProblem):
        grant(customer, Purpose.WARRANTY, False, clock.now())
    assert count(ConsentEntry, ConsentEntry.purpose == Purpose.WARRANTY) == 0


def test_consent_given_off_the_portal_needs_the_company_s_evidence(customer, clock):
    with pytest.raises(ConsentProblem):
        grant(customer, Purpose.SURVEYS, True, clock.now(), method=ConsentMethod.RECORDED_CALL, evidence="  ")
    entry = grant(customer, Purpose.SURVEYS, True, clock.now(), method=ConsentMethod.RECORDED_CALL,
                  evidence="call-9.mp3")
    assert entry.evidence == "call-9.mp3"


def test_a_new_entry_moves_the_record_on_and_my_data_shows_it(client, customer, clock):
    sign_in(client, "an.nguyen@example.vn")
    before = page_text(client.get("/my-data"))
    version = db.session.get(Customer, customer.id).data_version
    grant(customer, Purpose.SURVEYS, True, clock.now())
    db.session.expire_all()
    assert db.session.get(Customer, customer.id).data_version > version
    after = page_text(client.get("/my-data"))
    assert "Khảo sát khách hàng" in before and after != before
    assert "Cổng thông tin này" in after  # how the new entry was given
