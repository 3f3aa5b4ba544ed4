"""Tickets: legal clocks, routing, filing and following requests as a customer, staff rules."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from portal.db import db
from portal.enums import Department, Role, TicketStatus
from portal.settings.models import CalendarOverride
from portal.staff.models import StaffMember
from portal.tickets import due, services
from portal.tickets.models import Ticket, TicketEntry
from portal.tickets.routing import least_loaded_member
from tests.factories import make_customer, make_staff
from tests.helpers import outbox, sign_in, sign_in_staff

VN = timezone(timedelta(hours=7))


def member(role: Role, name: str, active: bool = True) -> StaffMember:
    staff = StaffMember(email=f"{name.lower()}@khoingo.net", full_name=name, role=role.value, is_active=active)
    db.session.add(staff)
    db.session.commit()
    return staff


def form_fields(page: str) -> dict:
    fields = dict(re.findall(r'name="(csrf_token|submission_key)" type="hidden" value="([^"]+)"', page))
    return fields


def file_request(client, kind="question", message="Tôi muốn biết công ty đang giữ dữ liệu gì của tôi.", **extra):
    fields = form_fields(client.get("/requests/new").get_data(as_text=True))
    fields.update(kind=kind, message=message, **extra)
    return client.post("/requests/new", data=fields)


def ticket_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Ticket))


# --- legal clocks (pure) -----------------------------------------------------------------------


def test_acknowledgement_skips_weekend_and_tet():
    # Wednesday 3 February 2027, 10:00 in Ho Chi Minh City; Tết holidays run 4–10 February.
    received = datetime(2027, 2, 3, 10, 0, tzinfo=VN)
    assert due.acknowledge_due(received, 2).astimezone(VN).date() == date(2027, 2, 12)
    # Friday afternoon: Monday is the 1st working day, Tuesday the 2nd.
    friday = datetime(2026, 11, 27, 16, 0, tzinfo=VN)
    assert due.acknowledge_due(friday, 2).astimezone(VN).date() == date(2026, 12, 1)


def test_extra_day_off_counts_as_non_working():
    friday = datetime(2026, 11, 27, 16, 0, tzinfo=VN)
    calendar = due.Calendar(days_off={date(2026, 11, 30)})
    assert due.acknowledge_due(friday, 2, calendar).astimezone(VN).date() == date(2026, 12, 2)


def test_deadline_is_end_of_local_day_in_calendar_or_working_days():
    received = datetime(2026, 11, 25, 23, 30, tzinfo=VN)  # late evening: still the 25th locally
    deadline = due.fulfil_due(received, 10)
    assert deadline.astimezone(VN) == datetime(2026, 12, 5, 23, 59, 59, tzinfo=VN)
    # Ten working days would end on 9 December: the law's ten calendar days cut it to the 5th.
    assert due.fulfil_due(received, 10, in_working_days=True).astimezone(VN).date() == date(2026, 12, 5)
    assert due.fulfil_deadline(received, 7, 10, in_working_days=True).at.astimezone(VN).date() == date(2026, 12, 4)


# --- routing -------------------------------------------------------------------------------------


def test_least_loaded_active_member_is_chosen(app, customer):
    busy, idle = member(Role.CARE, "Busy"), member(Role.CARE, "Idle")
    member(Role.CARE, "Gone", active=False)
    member(Role.SALES, "Seller")
    now = datetime.now(timezone.utc)
    ticket, _ = services.create_ticket(kind="question", body="a", requester_email="x@example.vn",
                                       customer_id=None, locale="vi", now=now)
    assert ticket.assignee == busy  # all equal: the oldest account
    assert least_loaded_member(Department.CARE) == idle
    second, _ = services.create_ticket(kind="access", body="b", requester_email="x@example.vn",
                                       customer_id=None, locale="vi", now=now)
    assert second.assignee == idle


@pytest.mark.parametrize(("kind", "department", "priority", "days"), [
    ("question", "care", "normal", 10),
    ("access", "care", "normal", 10),
    ("restriction", "care", "normal", 15),
    ("erasure", "care", "normal", 20),
    ("consent_withdrawal", "sales", "normal", 15),
    ("leak_complaint", "board", "high", 15),
    ("misuse_report", "board", "high", 15),
])
def test_default_routing_and_deadline_by_kind(app, kind, department, priority, days):
    now = datetime(2026, 11, 25, 3, 0, tzinfo=timezone.utc)
    ticket, created = services.create_ticket(kind=kind, body="x", requester_email="a@example.vn",
                                             customer_id=None, locale="vi", now=now)
    assert created and (ticket.department, ticket.priority) == (department, priority)
    assert ticket.due_at.astimezone(VN).date() == date(2026, 11, 25) + timedelta(days=days)
    assert [e.event for e in ticket.entries if e.kind == "event"][:2] == ["created", "routed"]


# --- the customer's side -------------------------------------------------------------------------


def test_customer_files_a_request_and_sees_reference(client, customer):
    carer = member(Role.CARE, "Lan")
    sign_in(client, "an.nguyen@example.vn")
    response = file_request(client)
    assert response.status_code == 303
    ticket = db.session.scalars(select(Ticket)).one()
    assert response.headers["Location"].endswith(f"/requests/{ticket.reference}")
    assert re.fullmatch(r"KN-\d{4}-\d{6}", ticket.reference)
    assert (ticket.customer_id, ticket.department, ticket.assignee_id) == (customer.id, "care", carer.id)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert ticket.reference in page and "Tôi muốn biết" in page
    mail = outbox("an.nguyen@example.vn")[-1]
    assert ticket.reference in mail.subject
    assert re.search(rf"/sign-in/for/[\w.-]+\?next=/requests/{ticket.reference}\s", mail.body_text)
    assert "/sign-in/link/" not in mail.body_text  # a ticket e-mail never carries a way in by itself


def test_same_form_posted_twice_makes_one_ticket(client, customer):
    sign_in(client, "an.nguyen@example.vn")
    fields = form_fields(client.get("/requests/new").get_data(as_text=True))
    fields.update(kind="question", message="Hai lần bấm")
    first = client.post("/requests/new", data=fields)
    second = client.post("/requests/new", data=fields)
    assert first.headers["Location"] == second.headers["Location"]
    assert ticket_count() == 1
    assert db.session.scalar(select(func.count()).select_from(TicketEntry).where(
        TicketEntry.kind == "customer_message")) == 1


def test_same_kind_while_open_is_added_to_the_open_ticket(client, customer):
    sign_in(client, "an.nguyen@example.vn")
    file_request(client, message="Lần thứ nhất")
    response = file_request(client, message="Lần thứ hai")
    assert ticket_count() == 1
    ticket = db.session.scalars(select(Ticket)).one()
    assert [e.body for e in ticket.entries if e.kind == "customer_message"] == ["Lần thứ nhất", "Lần thứ hai"]
    assert "ticket_ticket_merged" in [m.purpose for m in outbox()]
    assert response.headers["Location"].endswith(ticket.reference)
    file_request(client, kind="access", message="Cho tôi bản sao")
    assert ticket_count() == 2


@pytest.mark.parametrize(("field", "value"), [
    ("message", ""),
    ("message", "x" * 5001),
    ("message", "xin chào\x00\x07"),
    ("kind", "leak_complaint"),  # complaints have their own form, not this one
    ("kind", "nonsense"),
    ("submission_key", "not-a-key"),
])
def test_bad_request_input_is_refused_and_changes_nothing(client, customer, field, value):
    sign_in(client, "an.nguyen@example.vn")
    fields = form_fields(client.get("/requests/new").get_data(as_text=True))
    fields.update(kind="question", message="Câu hỏi hợp lệ")
    fields[field] = value
    response = client.post("/requests/new", data=fields)
    assert response.status_code == 400
    assert 'class="field-error"' in response.get_data(as_text=True)
    assert ticket_count() == 0 and outbox(customer.contact_points[0].value)[-1].purpose == "sign_in_link"


def test_xss_in_a_message_is_shown_as_text(client, customer):
    sign_in(client, "an.nguyen@example.vn")
    payload = '<script>alert(1)</script><img src=x onerror=alert(2)>'
    response = file_request(client, message=payload)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert payload not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>" not in outbox()[-1].body_html


def test_customer_cannot_reach_another_customers_ticket(client, app):
    make_customer("an.nguyen@example.vn", "Nguyễn Văn An")
    make_customer("binh.tran@example.vn", "Trần Bình", order="DH-2026-00002")
    sign_in(client, "binh.tran@example.vn")
    other = app.test_client()
    sign_in(other, "an.nguyen@example.vn")
    reference = file_request(other).headers["Location"].rsplit("/", 1)[1]
    assert client.get(f"/requests/{reference}").status_code == 404
    fields = form_fields(client.get("/requests/new").get_data(as_text=True))
    fields["message"] = "chen ngang"
    assert client.post(f"/requests/{reference}/reply", data=fields).status_code == 404
    assert reference not in client.get("/requests/").get_data(as_text=True)
    assert client.get("/requests/KN-2026-999999").status_code == 404
    assert client.get("/requests/../my-data").status_code == 404


def test_reply_reopens_a_resolved_request_and_staff_notes_stay_hidden(client, customer):
    carer = member(Role.CARE, "Lan")
    sign_in(client, "an.nguyen@example.vn")
    location = file_request(client).headers["Location"]
    ticket = db.session.scalars(select(Ticket)).one()
    now = datetime.now(timezone.utc)
    services.add_staff_entry(ticket, carer, "Ghi chú nội bộ: gọi lại sau", public=False, now=now)
    services.add_staff_entry(ticket, carer, "Chúng tôi đang giữ địa chỉ và số điện thoại.", public=True, now=now)
    services.change_status(ticket, carer, TicketStatus.RESOLVED, now)
    db.session.commit()
    page = client.get(location).get_data(as_text=True)
    assert "Chúng tôi đang giữ địa chỉ" in page and "Ghi chú nội bộ" not in page
    purposes = [m.purpose for m in outbox("an.nguyen@example.vn")]
    assert purposes.count("ticket_ticket_reply") == 1 and "ticket_ticket_resolved" in purposes
    assert all("Ghi chú nội bộ" not in m.body_text for m in outbox())
    fields = form_fields(page)
    fields["message"] = "Vẫn chưa đúng địa chỉ"
    assert client.post(f"{location}/reply", data=fields).status_code == 303
    db.session.refresh(ticket)
    assert ticket.status == "open" and ticket.resolved_at is None


def test_closed_request_takes_no_more_replies(client, customer):
    carer = member(Role.CARE, "Lan")
    sign_in(client, "an.nguyen@example.vn")
    location = file_request(client).headers["Location"]
    ticket = db.session.scalars(select(Ticket)).one()
    now = datetime.now(timezone.utc)
    services.change_status(ticket, carer, TicketStatus.RESOLVED, now)
    services.change_status(ticket, carer, TicketStatus.CLOSED, now)
    db.session.commit()
    fields = form_fields(client.get(location).get_data(as_text=True))
    assert "submission_key" not in fields  # the page offers no reply form
    fields.update(message="Thêm nữa", submission_key="0" * 32)
    response = client.post(f"{location}/reply", data=fields)
    assert response.status_code == 409
    assert db.session.scalar(select(func.count()).select_from(TicketEntry).where(
        TicketEntry.kind == "customer_message")) == 1


def test_address_without_customer_record_can_file_and_staff_can_link_it(client, app):
    known = make_customer("an.nguyen@example.vn", "Nguyễn Văn An")
    carer = member(Role.CARE, "Lan")
    sign_in(client, "nguoi.moi@example.vn")
    location = file_request(client, message="Tôi chỉ gọi điện, chưa có e-mail.").headers["Location"]
    ticket = db.session.scalars(select(Ticket)).one()
    assert ticket.customer_id is None and ticket.requester_email == "nguoi.moi@example.vn"
    services.link_customer(ticket, carer, known.id, datetime.now(timezone.utc))
    db.session.commit()
    assert client.get(location).status_code == 200  # the person who filed still follows it
    assert [e.event for e in ticket.entries if e.kind == "event"][-1] == "customer_linked"


def test_form_posts_are_rate_limited_per_customer(make_app):
    app = make_app(REQUEST_POSTS_PER_CUSTOMER="2 per minute")
    make_customer()
    client = app.test_client()
    sign_in(client, "an.nguyen@example.vn")
    assert file_request(client, kind="question").status_code == 303
    assert file_request(client, kind="access").status_code == 303
    third = file_request(client, kind="other")
    assert third.status_code == 429
    assert ticket_count() == 2


# --- staff rules ---------------------------------------------------------------------------------


def _ticket(kind="question", now=None, email="an.nguyen@example.vn") -> Ticket:
    ticket, _ = services.create_ticket(kind=kind, body="x", requester_email=email, customer_id=None, locale="en",
                                       now=now or datetime.now(timezone.utc))
    db.session.commit()
    return ticket


def test_status_moves_follow_the_rules(app):
    carer = member(Role.CARE, "Lan")
    ticket = _ticket()
    now = datetime.now(timezone.utc)
    with pytest.raises(services.TicketRuleError):
        services.change_status(ticket, carer, TicketStatus.REJECTED, now, reason="  ")
    services.change_status(ticket, carer, TicketStatus.REJECTED, now, reason="Không đủ thông tin")
    services.change_status(ticket, carer, TicketStatus.CLOSED, now)
    with pytest.raises(services.TicketRuleError):
        services.change_status(ticket, carer, TicketStatus.OPEN, now)
    events = [(e.data.get("old"), e.data.get("new")) for e in ticket.entries if e.event == "status"]
    assert events == [("new", "rejected"), ("rejected", "closed")]
    rejection = [m for m in outbox() if m.purpose == "ticket_ticket_resolved"][0]
    assert "Không đủ thông tin" in rejection.body_text and rejection.locale == "en"


def test_one_extension_bounded_by_the_law_with_reason_emailed(app):
    carer = member(Role.CARE, "Lan")
    ticket = _ticket("erasure")
    now = datetime.now(timezone.utc)
    first_due = ticket.due_at
    with pytest.raises(services.TicketRuleError):
        services.extend_deadline(ticket, carer, 21, "Cần đối tác xác nhận", now)  # erasure: at most 20
    with pytest.raises(services.TicketRuleError):
        services.extend_deadline(ticket, carer, 5, "", now)
    services.extend_deadline(ticket, carer, 20, "Cần đối tác xác nhận", now)
    assert ticket.due_at - first_due == timedelta(days=20)
    with pytest.raises(services.TicketRuleError):
        services.extend_deadline(ticket, carer, 1, "Lần nữa", now)
    mail = [m for m in outbox() if m.purpose == "ticket_ticket_extended"]
    assert len(mail) == 1 and "Cần đối tác xác nhận" in mail[0].body_text


def test_overdue_tickets_escalate_to_the_board_once(app):
    carer = member(Role.CARE, "Lan")
    director = member(Role.BOARD, "Director")
    member(Role.BOARD, "Retired", active=False)
    filed = datetime(2026, 11, 2, 3, 0, tzinfo=timezone.utc)
    ticket = _ticket(now=filed)
    assert ticket.assignee == carer
    assert services.escalate_overdue(filed + timedelta(days=5)) == 1  # the missed acknowledgement only
    assert (ticket.department, ticket.escalated_at) == ("care", None)
    later = ticket.due_at + timedelta(minutes=1)
    assert services.escalate_overdue(later) == 1
    db.session.commit()
    assert (ticket.department, ticket.escalated_at) == ("board", later)
    overdue_mail = sorted(m.recipient for m in outbox() if m.purpose == "ticket_overdue")
    assert overdue_mail == sorted([carer.email, director.email])
    assert services.escalate_overdue(later + timedelta(hours=1)) == 0
    db.session.commit()
    assert len([m for m in outbox() if m.purpose == "ticket_overdue"]) == 2


def test_take_is_won_once(app):
    first, second = member(Role.BOARD, "First"), member(Role.BOARD, "Second")
    ticket = _ticket("leak_complaint")  # the board queue is pick-up by default
    assert ticket.assignee_id is None
    now = datetime.now(timezone.utc)
    assert services.take(ticket.id, first, now) is True
    assert services.take(ticket.id, second, now) is False
    db.session.commit()
    db.session.refresh(ticket)
    assert ticket.assignee_id == first.id


def test_reference_parsing():
    assert services.parse_reference("kn-2026-000123") == 123
    assert services.parse_reference(" KN-2026-000123 ") == 123
    for bad in ("", "KN-26-1", "KN-2026-", "123", "KN-2026-12a", "KN-2026-000123; drop table", "KN-2026-2147483648"):
        assert services.parse_reference(bad) is None


def test_day_off_setting_moves_the_acknowledgement(app):
    db.session.add(CalendarOverride(day=date(2026, 11, 30), is_working_day=False, name="Nghỉ bù"))
    db.session.commit()
    friday = datetime(2026, 11, 27, 9, 0, tzinfo=timezone.utc)
    ticket = _ticket(now=friday)
    assert ticket.acknowledge_due_at.astimezone(VN).date() == date(2026, 12, 2)


def test_flask_worker_escalates_and_delivers_the_overdue_mail(app, runner, clock):
    director = member(Role.BOARD, "Director")
    ticket = _ticket(now=clock.now())
    clock.current = ticket.due_at + timedelta(hours=1)
    result = runner.invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert db.session.get(Ticket, ticket.id).escalated_at == clock.current
    overdue = [m for m in outbox() if m.purpose == "ticket_overdue"]
    assert [m.recipient for m in overdue] == [director.email] and overdue[0].status == "sent"
    runner.invoke(args=["worker", "--once"])
    assert len([m for m in outbox() if m.purpose == "ticket_overdue"]) == 1


def test_customer_sees_who_viewed_their_data_and_for_which_request(app, client, customer, clock):
    carer = make_staff("care", email="lan@khoingo.net", name="Trịnh Ngọc Lan")
    sign_in(client, "an.nguyen@example.vn")
    reference = file_request(client).headers["Location"].rsplit("/", 1)[1]
    assert "Trịnh Ngọc Lan" not in client.get("/my-data").get_data(as_text=True)
    staff_client = app.test_client()
    sign_in_staff(staff_client, carer, clock=clock)
    assert staff_client.get(f"/board/tickets/{reference}").status_code == 200
    page = client.get("/my-data").get_data(as_text=True)
    views = page[page.index('id="h-views"'):]
    assert "Trịnh Ngọc Lan" in views and reference in views and "Bộ phận chăm sóc khách hàng" in views


def test_built_in_form_messages_are_in_the_visitors_language(client, customer):
    sign_in(client, "an.nguyen@example.vn")
    fields = form_fields(client.get("/requests/new").get_data(as_text=True))
    fields.update(kind="nonsense", message="Câu hỏi")
    page = client.post("/requests/new", data=fields).get_data(as_text=True)
    assert "Lựa chọn không hợp lệ." in page and "Not a valid choice" not in page


def test_customer_reply_survives_a_colleague_changing_the_ticket_at_the_same_moment(app, client, customer):
    """Staff change the ticket between the customer's page load and the save: the reply is kept."""
    from sqlalchemy import event, update
    from sqlalchemy.orm import Session

    sign_in(client, "an.nguyen@example.vn")
    location = file_request(client).headers["Location"]
    fields = form_fields(client.get(location).get_data(as_text=True))
    fields["message"] = "Trả lời đúng lúc nhân viên đổi trạng thái"
    interfered = []

    def colleague_saves_first(session, flush_context, instances):
        if not interfered and any(isinstance(obj, TicketEntry) for obj in session.new):
            interfered.append(True)
            with db.engine.begin() as other:
                other.execute(update(Ticket).values(version=Ticket.version + 1, status="waiting"))

    event.listen(Session, "before_flush", colleague_saves_first)
    try:
        response = client.post(f"{location}/reply", data=fields)
    finally:
        event.remove(Session, "before_flush", colleague_saves_first)
    assert interfered and response.status_code == 303
    ticket = db.session.scalars(select(Ticket)).one()
    messages = [e.body for e in ticket.entries if e.kind == "customer_message"]
    assert messages[-1] == fields["message"] and len(messages) == 2
    assert ticket.status == "open"  # the reply reopened what the colleague set to waiting


def test_waiting_is_not_an_answer_and_finished_requests_cannot_be_extended(app):
    carer = member(Role.CARE, "Lan")
    ticket = _ticket()
    now = datetime.now(timezone.utc)
    services.change_status(ticket, carer, TicketStatus.WAITING, now)
    assert ticket.first_response_at is None  # nothing was sent to the customer
    services.change_status(ticket, carer, TicketStatus.RESOLVED, now)
    assert ticket.first_response_at == now
    with pytest.raises(services.TicketRuleError):
        services.extend_deadline(ticket, carer, 5, "Cần thêm thời gian", now)


def test_a_role_change_releases_tickets_of_the_old_department(app, clock):
    from portal.staff.services import change_role

    admin = member(Role.ADMIN, "Admin")
    carer = member(Role.CARE, "Lan")
    care_ticket = _ticket("question")
    assert care_ticket.assignee == carer
    change_role(carer, Role.SALES, admin, clock.now())
    db.session.commit()
    assert care_ticket.assignee_id is None
    assert [e.data.get("released_from") for e in care_ticket.entries if e.event == "assigned"][-1] == "Lan"
