"""Breach incidents on the board: recorded with the complaints they come from (whose customers become
affected), the 72-hour clock of the notice to the authority, recording that notice, correcting and
closing an incident, and its list of affected customers (search and pick, remove, a CSV file)."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import delete, select

from portal.audit.models import AuditRecord, CustomerDataView
from portal.db import db
from portal.enums import ViewedPage
from portal.incidents import services
from portal.incidents.models import AffectedCustomer, AffectedSource, BreachIncident, IncidentComplaint, IncidentStatus
from tests.factories import make_customer, make_staff, new_ticket
from tests.helpers import (
    CSRF_FIELD,
    NEW_INCIDENT,
    count,
    counted_statements,
    create_incident,
    csrf_token,
    english,
    incident_form,
    local_input,
    page_text,
    sign_in_staff,
)

REGISTER = "/board/incidents/"


def page_forms(client, incident_id: int) -> tuple[str, str, str]:
    """(page, csrf token, version) of the incident's page."""
    page = page_text(client.get(f"/board/incidents/{incident_id}"))
    version = re.search(r'name="\w+-version" type="hidden" value="(\d+)"', page).group(1)
    return page, CSRF_FIELD.search(page).group(1), version


def affected(incident_id: int) -> dict[int, AffectedSource]:
    db.session.expire_all()
    rows = db.session.scalars(select(AffectedCustomer).where(AffectedCustomer.incident_id == incident_id))
    return {row.customer_id: row.source for row in rows}


def actions(target: str) -> list[str]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditRecord.action).where(AuditRecord.target == target)
                                   .order_by(AuditRecord.id)))


# --- recording an incident ---------------------------------------------------------------------------


def test_an_incident_raised_from_complaints_makes_their_customers_affected_once(board, clock):
    an = make_customer()
    binh = make_customer("binh@example.vn", name="Trần Bình", phone="0912 000 111", phone_normalized="+84912000111")
    first = new_ticket("leak_complaint", customer=an, email="an.nguyen@example.vn")
    second = new_ticket("misuse_report", customer=an, email="an.nguyen@example.vn")
    third = new_ticket("leak_complaint", customer=binh, email="binh@example.vn")
    anonymous = new_ticket("leak_complaint", email="la@example.vn")  # from an address with no record
    page = page_text(board.get(NEW_INCIDENT))
    for ticket in (first, second, third, anonymous):
        assert ticket.reference in page
    incident = create_incident(board, clock, complaints=[first.id, second.id, third.id, anonymous.id])
    assert incident.status is IncidentStatus.OPEN and incident.created_by_id == board.member.id
    assert incident.categories == ["name", "phone"] and incident.volume == "khoảng 300 khách"
    assert incident.discovered_at == clock.now().replace(second=0) - timedelta(hours=10)
    assert affected(incident.id) == {an.id: AffectedSource.COMPLAINT, binh.id: AffectedSource.COMPLAINT}
    assert count(IncidentComplaint) == 4
    assert actions(incident.audit_name) == ["incident.created", "incident.complaints_raised"]
    page = page_text(board.get(f"/board/incidents/{incident.id}"))
    for ticket in (first, second, third, anonymous):
        assert f'href="/board/tickets/{ticket.reference}"' in page
    assert incident.reference in page_text(board.get(REGISTER))


def test_a_complaint_raised_from_its_page_joins_an_open_incident_and_its_customer_once(board, clock):
    an = make_customer()
    first = new_ticket("leak_complaint", customer=an, email="an.nguyen@example.vn")
    second = new_ticket("leak_complaint", customer=an, email="an.nguyen@example.vn")
    ticket_page = page_text(board.get(f"/board/tickets/{second.reference}"))
    assert f"/board/incidents/raise/{second.reference}" in ticket_page
    assert f"/board/incidents/new?complaint={second.id}" in ticket_page
    # the new-incident form comes with the complaint ticked
    assert re.search(rf'value="{second.id}" checked', page_text(board.get(f"{NEW_INCIDENT}?complaint={second.id}")))
    incident = create_incident(board, clock, complaints=[first.id])
    path = f"/board/incidents/raise/{second.reference}"
    response = board.post(path, data={"csrf_token": csrf_token(board, path), "incident": str(incident.id)})
    assert response.status_code == 303
    db.session.expire_all()
    assert count(IncidentComplaint) == 2 and affected(incident.id) == {an.id: AffectedSource.COMPLAINT}
    # once raised, the incident is no longer offered for it
    page = page_text(board.get(path))
    assert "It is already raised into" in page and "There is no other open incident" in page
    response = board.post(path, data={"csrf_token": csrf_token(board, path), "incident": str(incident.id)})
    assert response.status_code == 400 and count(IncidentComplaint) == 2


def test_only_complaints_can_be_raised(board, clock):
    question = new_ticket("question", email="an@example.vn")
    assert board.get(f"/board/incidents/raise/{question.reference}").status_code == 404
    response = board.post(NEW_INCIDENT, data=incident_form(board, clock, complaints=[str(question.id)]))
    assert response.status_code == 400 and count(BreachIncident) == 0


@pytest.mark.parametrize("changes, message", [
    ({"discovered_at": ""}, "the 72 hours count from it"),
    ({"discovered_at": "next tuesday"}, "Give a date and a time"),
    ({"categories": []}, "Tick at least one category"),
    ({"categories": ["name", "horoscope"]}, "Choose among the options listed"),
    ({"title": ""}, "Give the incident a short title"),
    ({"occurred_until": "2020-01-01T10:00"}, "The end cannot come before the start"),
])
def test_a_bad_incident_form_says_what_is_wrong_and_records_nothing(board, clock, changes, message):
    response = board.post(NEW_INCIDENT, data=incident_form(board, clock, **changes))
    assert response.status_code == 400 and message in page_text(response)
    assert count(BreachIncident) == 0 and count(AuditRecord, AuditRecord.action.like("incident.%")) == 0


def test_a_discovery_in_the_future_is_refused(board, clock):
    later = local_input(clock.now() + timedelta(hours=2))
    response = board.post(NEW_INCIDENT, data=incident_form(board, clock, discovered_at=later))
    assert response.status_code == 400 and "in the future" in page_text(response)
    assert count(BreachIncident) == 0


# --- who may -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["care", "sales", "admin"])
def test_only_the_board_reaches_the_incident_pages(app, board, clock, role):
    complaint = new_ticket("leak_complaint", email="an@example.vn")
    incident = create_incident(board, clock)
    other = app.test_client()
    sign_in_staff(other, make_staff(role), clock=clock)
    paths = [REGISTER, NEW_INCIDENT, f"/board/incidents/{incident.id}", f"/board/incidents/{incident.id}/customers",
             f"/board/incidents/raise/{complaint.reference}"]
    for path in paths:
        assert other.get(path).status_code == 404, path
    csrf = CSRF_FIELD.search(page_text(other.get("/staff/"))).group(1)
    for path in (NEW_INCIDENT, f"/board/incidents/{incident.id}/edit", f"/board/incidents/{incident.id}/close",
                 f"/board/incidents/{incident.id}/customers/pick"):
        assert other.post(path, data={"csrf_token": csrf}).status_code == 404, path
    assert "/board/incidents/" not in page_text(other.get("/staff/"))
    assert 'href="/board/incidents/"' in page_text(board.get("/staff/"))
    visitor = app.test_client()
    assert visitor.get(REGISTER).status_code == 302


# --- the 72-hour clock -------------------------------------------------------------------------------


def test_the_clock_counts_72_hours_from_discovery_then_says_late(board, clock):
    def wait(minutes: int) -> None:
        """Let time pass, opening a page now and then as a member at work does (the session stays)."""
        for _step in range(minutes // 20):
            clock.advance(minutes=20)
            assert board.get(REGISTER).status_code == 200

    # half a minute past (the form's moments are whole minutes): on the minute, "61 h" would be "62 h"
    clock.current = clock.now().replace(second=30) + timedelta(minutes=1)
    early = create_incident(board, clock)  # discovered 10 hours ago
    assert early.authority_due_at == early.discovered_at + timedelta(hours=72)
    page = page_text(board.get(f"/board/incidents/{early.id}"))
    assert "Due in 61 h" in page and "Record the notice" in page
    urgent = create_incident(board, clock, discovered_at=local_input(clock.now() - timedelta(hours=70)))
    assert "Due in 1 h" in page_text(board.get(f"/board/incidents/{urgent.id}"))
    wait(80)
    assert "Due in less than an hour" in page_text(board.get(f"/board/incidents/{urgent.id}"))
    wait(60)
    page = page_text(board.get(f"/board/incidents/{urgent.id}"))
    assert "Late" in page and "less than an hour past the deadline" in page
    wait(60)
    page = page_text(board.get(f"/board/incidents/{urgent.id}"))
    assert "1 h past the deadline" in page and "clock-late" in page
    register = page_text(board.get(REGISTER))
    assert "1 h past the deadline" in register and "Due in 58 h" in register


def test_the_clock_states_without_the_web(app, clock):
    now = clock.now()
    incident = BreachIncident(discovered_at=now - timedelta(hours=70))
    assert services.authority_clock(incident, now) == services.AuthorityClock(
        "due", now + timedelta(hours=2), 2, False)
    assert services.authority_clock(incident, now + timedelta(hours=5)).state == "late"
    assert services.authority_clock(incident, now + timedelta(hours=5)).hours == 3
    incident.authority_notified_at = now + timedelta(hours=1)
    assert services.authority_clock(incident, now + timedelta(days=9)) == services.AuthorityClock(
        "sent", now + timedelta(hours=2), 0, False)
    incident.authority_notified_at = now + timedelta(hours=6)
    sent_late = services.authority_clock(incident, now + timedelta(days=9))
    assert sent_late.state == "sent" and sent_late.late and sent_late.hours == 4


# --- the notice to the authority ---------------------------------------------------------------------


def notice(client, incident_id: int, **changes):
    _page, csrf, version = page_forms(client, incident_id)
    data = {"csrf_token": csrf, "notice-version": version, "notice-sent_at": "", "notice-reference": "A05-2026/118"}
    data.update(changes)
    return client.post(f"/board/incidents/{incident_id}/authority-notice", data=data)


def test_the_notice_to_the_authority_is_recorded_with_who_when_and_its_reference(board, clock):
    incident = create_incident(board, clock)
    sent = clock.now() - timedelta(hours=1)
    response = notice(board, incident.id, **{"notice-sent_at": local_input(sent)})
    assert response.status_code == 303
    db.session.expire_all()
    incident = db.session.get(BreachIncident, incident.id)
    assert incident.authority_notified_at == sent.replace(second=0)
    assert incident.authority_reference == "A05-2026/118" and incident.authority_notified_by_id == board.member.id
    assert actions(incident.audit_name)[-1] == "incident.authority_notified"
    page = page_text(board.get(f"/board/incidents/{incident.id}"))
    assert "A05-2026/118" in page and "Đỗ Minh Quân" in page and "Record the notice" not in page
    register = page_text(board.get(REGISTER))
    assert "A05-2026/118" in register and "Sent" in register
    # recorded once
    response = board.post(f"/board/incidents/{incident.id}/authority-notice", data={
        "csrf_token": csrf_token(board, REGISTER), "notice-version": str(incident.version),
        "notice-sent_at": local_input(clock.now()), "notice-reference": "OTHER"})
    assert response.status_code == 400 and "already recorded" in page_text(response)
    db.session.expire_all()
    assert db.session.get(BreachIncident, incident.id).authority_reference == "A05-2026/118"


@pytest.mark.parametrize("moment, reference, message", [
    (timedelta(hours=1), "A05", "in the future"),
    (-timedelta(hours=11), "A05", "before the violation was discovered"),
    (-timedelta(hours=1), "", "Give the reference or receipt number"),
    (None, "A05", "Give the date and time the notice was sent"),
])
def test_a_wrong_notice_is_refused_and_saves_nothing(board, clock, moment, reference, message):
    incident = create_incident(board, clock)
    sent = local_input(clock.now() + moment) if moment is not None else ""
    response = notice(board, incident.id, **{"notice-sent_at": sent, "notice-reference": reference})
    assert response.status_code == 400 and message in page_text(response)
    db.session.expire_all()
    incident = db.session.get(BreachIncident, incident.id)
    assert incident.authority_notified_at is None and incident.authority_reference is None
    assert "incident.authority_notified" not in actions(incident.audit_name)


# --- correcting and closing -------------------------------------------------------------------------


def edit_data(client, clock, incident_id: int, **changes) -> dict:
    """The incident page's edit form with the default details and ``changes``."""
    _page, csrf, version = page_forms(client, incident_id)
    data = {f"edit-{key}": value for key, value in incident_form(client, clock, **changes).items()
            if key != "csrf_token"}
    data.update({"csrf_token": csrf, "edit-version": version})
    return data


def test_the_details_are_corrected_and_audited(board, clock):
    incident = create_incident(board, clock)
    data = edit_data(board, clock, incident.id, title="Rò rỉ qua đối tác lắp đặt", categories=["camera", "address"])
    response = board.post(f"/board/incidents/{incident.id}/edit", data=data)
    assert response.status_code == 303
    db.session.expire_all()
    incident = db.session.get(BreachIncident, incident.id)
    assert incident.title == "Rò rỉ qua đối tác lắp đặt" and incident.categories == ["address", "camera"]
    assert incident.version == 2
    record = db.session.scalars(select(AuditRecord).where(AuditRecord.action == "incident.changed")).one()
    assert record.data["fields"] == ["title", "categories"] and record.actor == board.member.audit_name


def test_a_stale_form_says_so_and_saves_nothing(board, app, clock):
    incident = create_incident(board, clock)
    stale = edit_data(board, clock, incident.id, title="Bản cũ")
    colleague = english(app.test_client())
    sign_in_staff(colleague, make_staff("board", email="ceo@khoingo.net"), clock=clock)
    assert colleague.post(f"/board/incidents/{incident.id}/edit",
                          data=edit_data(colleague, clock, incident.id, title="Bản mới")).status_code == 303
    response = board.post(f"/board/incidents/{incident.id}/edit", data=stale)
    assert response.status_code == 409
    page = page_text(response)
    assert "Someone else changed this incident" in page and "Bản cũ" in page  # what was typed is kept
    db.session.expire_all()
    assert db.session.get(BreachIncident, incident.id).title == "Bản mới"
    assert count(AuditRecord, AuditRecord.action == "incident.changed") == 1
    # a stale notice form too
    _page, csrf, _version = page_forms(board, incident.id)
    response = board.post(f"/board/incidents/{incident.id}/authority-notice", data={
        "csrf_token": csrf, "notice-version": "1", "notice-sent_at": local_input(clock.now()), "notice-reference": "X"})
    assert response.status_code == 409
    db.session.expire_all()
    assert db.session.get(BreachIncident, incident.id).authority_notified_at is None


def test_closing_needs_the_notice_or_a_written_reason(board, clock):
    incident = create_incident(board, clock)
    _page, csrf, version = page_forms(board, incident.id)
    response = board.post(f"/board/incidents/{incident.id}/close",
                          data={"csrf_token": csrf, "close-version": version, "close-reason": ""})
    assert response.status_code == 400 and "record the notice first" in page_text(response)
    db.session.expire_all()
    assert db.session.get(BreachIncident, incident.id).status is IncidentStatus.OPEN
    reason = "Đã kiểm tra: danh sách là của công ty khác, không phải dữ liệu của chúng tôi."
    response = board.post(f"/board/incidents/{incident.id}/close",
                          data={"csrf_token": csrf, "close-version": version, "close-reason": reason})
    assert response.status_code == 303
    db.session.expire_all()
    incident = db.session.get(BreachIncident, incident.id)
    assert incident.status is IncidentStatus.CLOSED and incident.closed_at == clock.now()
    page = page_text(board.get(f"/board/incidents/{incident.id}"))
    assert reason in page and "Correct the details" not in page
    # a closed incident is not changed any more
    data = {f"edit-{key}": value for key, value in incident_form(board, clock, title="Sau khi đóng").items()}
    data.update({"csrf_token": csrf, "edit-version": str(incident.version)})
    response = board.post(f"/board/incidents/{incident.id}/edit", data=data)
    assert response.status_code == 400 and "can no longer be changed" in page_text(response)
    db.session.expire_all()
    assert db.session.get(BreachIncident, incident.id).title != "Sau khi đóng"


def test_closing_after_the_notice_needs_no_reason(board, clock):
    incident = create_incident(board, clock)
    assert notice(board, incident.id, **{"notice-sent_at": local_input(clock.now())}).status_code == 303
    _page, csrf, version = page_forms(board, incident.id)
    response = board.post(f"/board/incidents/{incident.id}/close", data={"csrf_token": csrf, "close-version": version})
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(BreachIncident, incident.id).status is IncidentStatus.CLOSED
    assert actions(incident.audit_name)[-1] == "incident.closed"


# --- affected customers --------------------------------------------------------------------------------


def customers_path(incident) -> str:
    return f"/board/incidents/{incident.id}/customers"


def test_search_and_pick_a_customer(board, clock):
    an = make_customer()
    incident = create_incident(board, clock)
    page = page_text(board.get(customers_path(incident) + "?q=0903123456"))
    assert "Nguyễn Văn An" in page
    csrf = CSRF_FIELD.search(page).group(1)
    response = board.post(customers_path(incident) + "/pick", data={"csrf_token": csrf, "customer_id": str(an.id)})
    assert response.status_code == 303
    assert affected(incident.id) == {an.id: AffectedSource.PICKED}
    response = board.post(customers_path(incident) + "/pick", data={"csrf_token": csrf, "customer_id": str(an.id)},
                          follow_redirects=True)
    assert "already on the list" in page_text(response) and len(affected(incident.id)) == 1
    response = board.post(customers_path(incident) + "/pick", data={"csrf_token": csrf, "customer_id": "99999"},
                          follow_redirects=True)
    assert "There is no such customer" in page_text(response) and len(affected(incident.id)) == 1
    assert actions(incident.audit_name).count("incident.customer_added") == 1


def test_a_customer_is_removed_only_while_their_notice_is_not_queued(board, clock):
    an = make_customer()
    binh = make_customer("binh@example.vn", name="Trần Bình")
    incident = create_incident(board, clock)
    services.add_affected(incident, [an.id, binh.id], AffectedSource.PICKED, board.member, clock.now())
    rows = {row.customer_id: row for row in db.session.scalars(select(AffectedCustomer))}
    rows[binh.id].notice_queued_at = clock.now()
    db.session.commit()
    page = page_text(board.get(customers_path(incident)))
    assert f"/customers/{rows[an.id].id}/remove" in page and f"/customers/{rows[binh.id].id}/remove" not in page
    csrf = CSRF_FIELD.search(page).group(1)
    response = board.post(f"{customers_path(incident)}/{rows[binh.id].id}/remove", data={"csrf_token": csrf},
                          follow_redirects=True)
    assert "already on its way" in page_text(response)
    removable = rows[an.id].id
    assert board.post(f"{customers_path(incident)}/{removable}/remove", data={"csrf_token": csrf}).status_code == 303
    assert set(affected(incident.id)) == {binh.id}
    assert actions(incident.audit_name)[-1] == "incident.customer_removed"
    assert board.post(f"{customers_path(incident)}/{removable}/remove", data={"csrf_token": csrf}).status_code == 404


def test_every_customer_the_page_shows_is_logged_with_one_insert(board, clock):
    customers = [make_customer(f"khach{number}@example.vn", name=f"Khách {number}", order=f"DH-{number}")
                 for number in range(3)]
    searched = make_customer("tim@example.vn", name="Người Được Tìm", order="DH-TIM")
    incident = create_incident(board, clock)
    services.add_affected(incident, [c.id for c in customers], AffectedSource.PICKED, board.member, clock.now())
    db.session.commit()
    path = customers_path(incident) + "?q=tim@example.vn"
    board.get(path)
    db.session.execute(delete(CustomerDataView))
    db.session.commit()
    with counted_statements() as statements:
        page = page_text(board.get(path))
    assert "Khách 2" in page and "khach2@example.vn" in page and "Người Được Tìm" in page
    inserts = [s for s in statements if s.startswith("INSERT INTO customer_data_views")]
    assert len(inserts) == 1 and len(statements) <= 6
    views = db.session.scalars(select(CustomerDataView)).all()
    assert {view.customer_id for view in views} == {*(c.id for c in customers), searched.id}
    assert {view.page for view in views} == {ViewedPage.INCIDENT}
    assert {view.staff_id for view in views} == {board.member.id}


def test_the_list_is_paged_fifty_at_a_time(board, clock):
    incident = create_incident(board, clock)
    customers = [make_customer(f"k{number}@example.vn", name=f"Khách {number:02d}", order=f"DH-{number}")
                 for number in range(55)]
    services.add_affected(incident, [c.id for c in customers], AffectedSource.IMPORTED, board.member, clock.now())
    db.session.commit()
    first = page_text(board.get(customers_path(incident)))
    assert "Khách 49" in first and "Khách 50" not in first and "Page 1 of 2" in first and "The list (55)" in first
    second = page_text(board.get(customers_path(incident) + "?page=2"))
    assert "Khách 50" in second and "Khách 49" not in second


# --- a CSV file of affected customers -------------------------------------------------------------------


def upload(client, incident, content: bytes, name: str = "khach.csv"):
    return client.post(customers_path(incident) + "/import", data={
        "csrf_token": csrf_token(client, customers_path(incident)), "file": (io.BytesIO(content), name)},
        content_type="multipart/form-data")


def test_a_csv_file_adds_the_customers_it_names_and_lists_the_rows_that_match_nobody(board, clock):
    an = make_customer()
    binh = make_customer("binh@example.vn", name="Trần Bình", phone="0912 000 111", phone_normalized="+84912000111",
                         order="DH-B")
    chau = make_customer("chau@example.vn", name="Lê Châu", phone="0913 000 222", phone_normalized="+84913000222",
                         order="DH-C")
    incident = create_incident(board, clock)
    services.add_affected(incident, [an.id], AffectedSource.PICKED, board.member, clock.now())
    db.session.commit()
    content = ("\ufeffE-mail hoặc số điện thoại\r\n"
               "AN.NGUYEN@example.vn\r\n"       # already listed
               "0912 000 111\r\n"                # Bình by phone
               f"{chau.id}\r\n"                  # Châu by customer number
               "binh@example.vn\r\n"             # Bình again
               "=cmd|' /C calc'!A0\r\n"          # a formula: just text that names nobody
               "khong.co@example.vn\r\n"
               "\r\n").encode()
    response = upload(board, incident, content)
    assert response.status_code == 200
    page = page_text(response)
    assert "Customers added: 2" in page and "Already on the list: 1" in page
    assert "Rows that match no customer: 2" in page and "khong.co@example.vn" in page
    assert "=cmd|&#39; /C calc&#39;!A0" in page and "Rows read: 6" in page
    assert affected(incident.id) == {an.id: AffectedSource.PICKED, binh.id: AffectedSource.IMPORTED,
                                     chau.id: AffectedSource.IMPORTED}
    record = db.session.scalars(select(AuditRecord).where(AuditRecord.action == "incident.customers_imported")).one()
    assert record.data == {"rows": 6, "added": 2, "already": 1, "unmatched": 2}
    # the same file again adds nobody
    assert "Customers added: 0" in page_text(upload(board, incident, content))
    assert len(affected(incident.id)) == 3


def test_a_file_without_a_header_is_read_from_its_first_row(board, clock):
    an = make_customer()
    incident = create_incident(board, clock)
    page = page_text(upload(board, incident, b"an.nguyen@example.vn\n"))
    assert "Customers added: 1" in page and set(affected(incident.id)) == {an.id}


@pytest.mark.parametrize("content, message", [
    (None, "Choose a CSV file"),
    (b"", "The file is empty"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not a CSV text file"),
    (b"caf\xe9@example.vn\n", "not UTF-8"),
    (b"\n\n  \n", "The file is empty"),
    (b"email\n", "The file is empty"),
    (b"an.nguyen@example.vn,0903123456\n", "more than one column"),
    (b"a@example.vn\n" * (services.MAX_IMPORT_ROWS + 1), "more than 20000 rows"),
    (b"x" * (services.MAX_IMPORT_BYTES + 1), "larger than 2 MB"),
])
def test_a_bad_file_gets_a_clear_message_and_adds_nothing(board, clock, content, message):
    make_customer()
    incident = create_incident(board, clock)
    response = upload(board, incident, content or b"", "khach.csv" if content is not None else "")
    assert response.status_code == 400
    assert message in page_text(response)
    assert affected(incident.id) == {}
    assert "incident.customers_imported" not in actions(incident.audit_name)


def test_a_file_far_too_large_is_refused_before_it_is_read(board, clock):
    incident = create_incident(board, clock)
    response = upload(board, incident, b"x" * (3 * services.MAX_IMPORT_BYTES))
    assert response.status_code == 413 and affected(incident.id) == {}


def test_what_a_cell_names(app):
    assert services.identify(" An.Nguyen@Example.vn ") == ("email", "an.nguyen@example.vn")
    assert services.identify("0903 123 456") == ("phone", "+84903123456")
    assert services.identify("+84 903 123 456") == ("phone", "+84903123456")
    assert services.identify("42") == ("id", 42)
    for text in ("=1+2", "@SUM(A1)", "-2+3", "Nguyễn Văn An", "12abc", "not@an address"):
        assert services.identify(text) is None, text


# --- what the pages cost ---------------------------------------------------------------------------------


def test_the_pages_run_few_statements_whatever_the_number_of_incidents(board, clock):
    def measure() -> dict:
        counts = {}
        for path in (REGISTER, NEW_INCIDENT, f"/board/incidents/{incident.id}", customers_path(incident),
                     f"/board/incidents/raise/{complaint.reference}"):
            board.get(path)
            with counted_statements() as statements:
                assert board.get(path).status_code == 200
            counts[path] = len(statements)
        return counts

    an = make_customer()
    complaint = new_ticket("leak_complaint", customer=an, email="an.nguyen@example.vn")
    incident = create_incident(board, clock, complaints=[complaint.id])
    small = measure()
    assert max(small.values()) <= 6, small
    for number in range(8):
        other = make_customer(f"k{number}@example.vn", name=f"Khách {number}", order=f"DH-{number}")
        more = new_ticket("misuse_report", customer=other, email=f"k{number}@example.vn")
        services.raise_complaints(incident, board.member, [more.id], clock.now())
        db.session.commit()
        create_incident(board, clock, complaints=[more.id])
    db.session.commit()
    assert measure() == small
