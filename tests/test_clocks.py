"""Legal clocks: no counting mode, merge, reopening, extension or longer period gives a request a
later deadline than the law's figure in calendar days from its receipt; extensions only before the
deadline; both clocks escalated, each once; the company's calendar changed both ways; the longer
periods applied once, with a reason."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import select, text

from portal.audit.models import AuditRecord
from portal.db import db
from portal.enums import TicketStatus
from portal.settings.models import CalendarOverride
from portal.tickets import due, services
from portal.tickets.kinds import all_kinds, get_kind
from portal.tickets.models import Ticket
from portal.tickets.settings import queue_setting, save_queue_setting
from tests.factories import make_customer, make_staff, new_ticket
from tests.helpers import csrf_token, make_test_app, outbox, page_text, separate_database, sign_in, staff_client

VN = timezone(timedelta(hours=7))
TET_WEDNESDAY = datetime(2027, 2, 3, 10, 0, tzinfo=VN)  # Tết 2027 runs from Thursday 4 to Wednesday 10 February


def local(moment: datetime) -> date:
    return moment.astimezone(VN).date()


def vn(year: int, month: int, day: int, hour: int = 10) -> datetime:
    return datetime(year, month, day, hour, 0, tzinfo=VN)


def count_in_working_days() -> None:
    clocks = queue_setting("clocks")
    save_queue_setting("clocks", {**clocks, "fulfil_in_working_days": True}, None, datetime.now(timezone.utc))
    db.session.commit()


def audit_actions(prefix: str) -> list[str]:
    return [r.action for r in db.session.scalars(select(AuditRecord).order_by(AuditRecord.id))
            if r.action.startswith(prefix)]


def events(ticket: Ticket) -> list[str]:
    return [entry.event for entry in ticket.entries if entry.event]


def hidden_fields(page: str, prefix: str) -> dict:
    return {f"{prefix}-{name}": value for name, value in
            re.findall(rf'name="{prefix}-(csrf_token|version)" type="hidden" value="([^"]*)"', page)}


def post_on_ticket(client, reference: str, action: str, prefix: str, **fields):
    """Fill in one of the ticket page's forms as the page drew it (or, if the page does not offer
    it, with a valid token anyway) and post it."""
    page = page_text(client.get(f"/board/tickets/{reference}"))
    data = hidden_fields(page, prefix) or {"csrf_token": csrf_token(client, "/board/")}
    data.update({f"{prefix}-{name}": value for name, value in fields.items()})
    return client.post(f"/board/tickets/{reference}/{action}", data=data)


# --- 1. the law's ceiling, whatever the counting ------------------------------------------------


def test_working_days_cannot_lengthen_the_tet_correction():
    # A correction filed on Wednesday 3 February 2027: ten working days would end on 24 February.
    deadline = due.fulfil_deadline(TET_WEDNESDAY, 10, 10, in_working_days=True)
    assert (local(deadline.counted), local(deadline.at), deadline.was_cut) == (date(2027, 2, 24), date(2027, 2, 13),
                                                                                True)
    # The extension (ten more working days would end on 26 February) stops at 10 + 10 calendar days.
    extended = due.moved_deadline(deadline.at, 10, due.legal_ceiling(TET_WEDNESDAY, 20), in_working_days=True)
    assert (local(extended.counted), local(extended.at)) == (date(2027, 2, 26), date(2027, 2, 23))
    # Shortened figures in working days still count as working days when that is earlier.
    shorter = due.fulfil_deadline(vn(2027, 3, 1), 6, 10, in_working_days=True)
    assert (local(shorter.at), shorter.was_cut) == (date(2027, 3, 9), False)


@pytest.mark.parametrize("in_working_days", [False, True])
def test_no_day_of_the_year_gets_a_deadline_past_the_law(in_working_days):
    # A company that takes the whole of December off, and every kind's own figures.
    calendar = due.Calendar(days_off={date(2027, 12, 1) + timedelta(days=n) for n in range(31)})
    for kind in all_kinds():
        ordinary, longer = kind.legal_days, kind.longer_days or kind.legal_days
        for number in range(365):
            received = vn(2027, 1, 1) + timedelta(days=number)
            deadline = due.fulfil_deadline(received, ordinary, ordinary, in_working_days, calendar)
            assert deadline.at <= due.legal_ceiling(received, ordinary) == due.fulfil_due(received, ordinary)
            with_extension = due.legal_ceiling(received, longer + kind.extension_days)
            lengthened = due.moved_deadline(deadline.at, longer - ordinary, due.legal_ceiling(received, longer),
                                            in_working_days, calendar)
            extended = due.moved_deadline(lengthened.at, kind.extension_days, with_extension, in_working_days,
                                          calendar)
            assert deadline.at <= lengthened.at <= extended.at <= with_extension


def test_a_working_day_setting_gives_the_law_figure_and_the_ticket_page_says_so(app, clock):
    clock.current = TET_WEDNESDAY.astimezone(timezone.utc)
    count_in_working_days()
    ticket = new_ticket("correction", email="sua@example.vn", now=clock.now())
    assert local(ticket.due_at) == date(2027, 2, 13)  # was 24 February
    care = staff_client(app, make_staff("care"), clock)
    assert "24/02/2027" in page_text(care.get(f"/board/tickets/{ticket.reference}"))  # what counting gave
    response = post_on_ticket(care, ticket.reference, "extend", "extend", days="10", reason="Cần xác minh thêm.")
    assert response.status_code == 303
    db.session.refresh(ticket)
    assert local(ticket.due_at) == date(2027, 2, 23)  # was 10 March
    page = page_text(care.get(f"/board/tickets/{ticket.reference}"))
    assert "26/02/2027" in page and "23/02/2027" in page


# --- 2. no extension once the deadline has passed -----------------------------------------------


def test_an_extension_is_refused_once_the_deadline_has_passed(app, clock):
    late = new_ticket("question", email="tre@example.vn", now=clock.now() - timedelta(days=15))
    due_at = late.due_at
    care = staff_client(app, make_staff("care"), clock)
    page = page_text(care.get(f"/board/tickets/{late.reference}"))
    assert 'name="extend-days"' not in page and "(quá hạn)" in page
    response = post_on_ticket(care, late.reference, "extend", "extend", days="5", reason="Cần thêm thời gian")
    assert response.status_code == 409
    assert "không thể dời" in page_text(response)
    db.session.refresh(late)
    assert (late.due_at, late.extended_at) == (due_at, None)
    assert not [m for m in outbox() if m.purpose == "ticket_ticket_extended"]
    # The last second of the last day still counts as on time.
    on_time = new_ticket("question", email="kip@example.vn", now=clock.now() - timedelta(days=20))
    services.extend_deadline(on_time, make_staff("care", email="lan@khoingo.net"), 3, "Cần thêm thời gian",
                             on_time.due_at)
    with pytest.raises(services.TicketRuleError):
        services.extend_deadline(late, make_staff("care", email="mai@khoingo.net"), 3, "Cần thêm thời gian",
                                 due_at + timedelta(seconds=1))


# --- 3. both clocks escalated, each once; the receipt tells the procedure -------------------------


def test_a_missed_acknowledgement_is_escalated_once_to_the_assignee_and_the_board(app, runner, clock):
    carer = make_staff("care", email="lan@khoingo.net")
    director = make_staff("board", email="giamdoc@khoingo.net")
    ticket = new_ticket("access", email="hoi@example.vn", now=vn(2026, 11, 25))  # acknowledge by Friday 27th
    answered = new_ticket("question", email="da.tra.loi@example.vn", now=vn(2026, 11, 25))
    services.add_staff_entry(answered, carer, "Chúng tôi đã nhận yêu cầu.", True, vn(2026, 11, 26))
    services.change_status(answered, carer, TicketStatus.RESOLVED, vn(2026, 11, 26))
    db.session.commit()
    clock.current = vn(2026, 11, 28).astimezone(timezone.utc)
    assert runner.invoke(args=["worker", "--once"]).exit_code == 0
    db.session.expire_all()
    ticket, answered = db.session.get(Ticket, ticket.id), db.session.get(Ticket, answered.id)
    assert (ticket.acknowledge_escalated_at, ticket.escalated_at, ticket.department) == (clock.current, None, "care")
    assert answered.acknowledge_escalated_at is None
    assert "acknowledgement_late" in events(ticket)
    assert audit_actions("ticket.acknowledgement") == ["ticket.acknowledgement_escalated"]
    alerts = [m for m in outbox() if m.purpose == "ticket_unacknowledged"]
    assert sorted(m.recipient for m in alerts) == [director.email, carer.email]
    assert all(ticket.reference in m.body_text and m.status == "sent" for m in alerts)
    clock.advance(hours=1)
    runner.invoke(args=["worker", "--once"])
    assert len([m for m in outbox() if m.purpose == "ticket_unacknowledged"]) == 2
    # The fulfilment deadline is escalated on its own, once, too.
    clock.current = ticket.due_at + timedelta(minutes=1)
    runner.invoke(args=["worker", "--once"])
    runner.invoke(args=["worker", "--once"])
    db.session.expire_all()
    assert db.session.get(Ticket, ticket.id).escalated_at == clock.current
    assert len([m for m in outbox() if m.purpose == "ticket_overdue"]) == 2
    assert len([m for m in outbox() if m.purpose == "ticket_unacknowledged"]) == 2


def test_the_receipt_tells_the_procedure_and_its_dates(app):
    filed = vn(2026, 11, 25)  # a Wednesday
    new_ticket("correction", email="en@example.vn", locale="en", now=filed)
    (receipt,) = outbox("en@example.vn")
    body = receipt.body_text
    assert "change the data in our records and tell you what was changed" in body
    assert "confirm it by 27 Nov 2026 and answer by 5 Dec 2026" in body
    assert "the law allows us until 10 Dec 2026" in body  # 15 days when a processor must act
    assert "one extension of at most 10 days" in body
    assert "change the data in our records" in receipt.body_html
    new_ticket("leak_complaint", email="vi@example.vn", locale="vi", now=filed)
    (receipt,) = outbox("vi@example.vn")
    assert "Ban giám đốc xác minh sự việc" in receipt.body_text and "10/12/2026" in receipt.body_text
    assert "bên xử lý dữ liệu" not in receipt.body_text  # protection measures have no longer period


# --- 4. reopening and merging never give a later deadline than the request's own ------------------


def test_a_customers_reply_to_a_finished_request_counts_its_deadline_again(app, clock):
    customer = make_customer()
    carer = make_staff("care", email="lan@khoingo.net")
    ticket = new_ticket("correction", customer=customer, email="an.nguyen@example.vn", now=vn(2026, 11, 2))
    services.extend_deadline(ticket, carer, 5, "Cần xác minh", vn(2026, 11, 3))
    services.change_status(ticket, carer, TicketStatus.RESOLVED, vn(2026, 11, 5))
    db.session.commit()
    assert local(ticket.due_at) == date(2026, 11, 17)
    clock.current = vn(2026, 11, 30).astimezone(timezone.utc)
    client = app.test_client()
    sign_in(client, "an.nguyen@example.vn")
    page = page_text(client.get(f"/requests/{ticket.reference}"))
    fields = dict(re.findall(r'name="(csrf_token|submission_key)" type="hidden" value="([^"]+)"', page))
    fields["message"] = "Địa chỉ vẫn chưa được sửa."
    assert client.post(f"/requests/{ticket.reference}/reply", data=fields).status_code == 303
    db.session.refresh(ticket)
    assert ticket.status is TicketStatus.OPEN
    assert (ticket.received_at, local(ticket.due_at)) == (clock.current, date(2026, 12, 10))
    assert (ticket.extended_at, ticket.extension_reason) == (None, None)
    assert events(ticket)[-1] == "reopened" and "ticket.reopened" in audit_actions("ticket.")
    assert services.escalate_overdue(clock.now()) == 0  # neither late nor unanswered
    # Its own extension is available again, within the law counted from the reply.
    services.extend_deadline(ticket, carer, 10, "Cần đối tác xác nhận", clock.now())
    assert local(ticket.due_at) == date(2026, 12, 20)


def test_staff_reopening_gives_no_new_time(app, clock):
    carer = make_staff("care", email="lan@khoingo.net")
    ticket = new_ticket("question", email="hoi@example.vn", now=clock.now() - timedelta(days=20))
    services.change_status(ticket, carer, TicketStatus.RESOLVED, clock.now() - timedelta(days=15))
    db.session.commit()
    due_at = ticket.due_at
    services.change_status(ticket, carer, TicketStatus.OPEN, clock.now())
    db.session.commit()
    assert ticket.due_at == due_at and ticket.is_past_due(clock.now())
    assert services.escalate_overdue(clock.now()) == 1
    assert ticket.escalated_at == clock.now()


def test_a_merged_request_keeps_its_own_earlier_deadline(app):
    carer = make_staff("care", email="lan@khoingo.net")
    first = new_ticket("erasure", email="xoa@example.vn", now=vn(2026, 11, 2))
    services.extend_deadline(first, carer, 20, "Cần đối tác xác nhận", vn(2026, 11, 3))
    db.session.commit()
    assert local(first.due_at) == date(2026, 12, 12)
    merged, created = services.create_ticket(kind="erasure", body="Xin xóa toàn bộ dữ liệu",
                                             requester_email="xoa@example.vn", customer_id=None, locale="vi",
                                             now=vn(2026, 11, 7))
    db.session.commit()
    assert (merged.id, created) == (first.id, False)
    assert local(merged.due_at) == date(2026, 11, 27)  # its own 20 days, not the extended 12 December
    assert events(merged)[-1] == "due_brought_forward"
    notice = [m for m in outbox("xoa@example.vn") if m.purpose == "ticket_ticket_merged"][-1]
    assert "27/11/2026" in notice.body_text
    # A request whose own deadline is later changes nothing.
    services.create_ticket(kind="erasure", body="Nhắc lại", requester_email="xoa@example.vn", customer_id=None,
                           locale="vi", now=vn(2026, 11, 9))
    db.session.commit()
    assert local(merged.due_at) == date(2026, 11, 27)


# --- 5. the company's calendar, both ways -------------------------------------------------------


@pytest.fixture
def admin(app, clock):
    clock.current = vn(2026, 11, 25).astimezone(timezone.utc)
    return staff_client(app, make_staff("admin"), clock)


def add(client, sort: str, day: str, name: str):
    prefix = {"days-off": "day_off", "days-worked": "day_worked"}[sort]
    return client.post(f"/board/settings/{sort}", data={"csrf_token": csrf_token(client, "/board/settings"),
                                                         f"{prefix}-day": day, f"{prefix}-name": name})


def test_a_holiday_and_a_weekend_day_can_be_marked_as_worked(app, admin):
    # The company's own Tết plan: it works the fifth day of Tết and the Saturday after.
    assert add(admin, "days-worked", "2027-02-10", "Làm việc mùng 5").status_code == 303
    assert add(admin, "days-worked", "2027-02-20", "Làm bù Tết").status_code == 303
    db.session.expire_all()
    assert [(o.day, o.is_working_day) for o in db.session.scalars(select(CalendarOverride))] == [
        (date(2027, 2, 10), True), (date(2027, 2, 20), True)]
    filed = new_ticket("question", email="tet@example.vn", now=TET_WEDNESDAY)
    assert local(filed.acknowledge_due_at) == date(2027, 2, 11)  # the public calendar: 12 February
    friday = new_ticket("access", email="bu@example.vn", now=vn(2027, 2, 19))
    assert local(friday.acknowledge_due_at) == date(2027, 2, 22)  # the public calendar: 23 February
    page = page_text(admin.get("/board/settings"))
    assert "Lịch năm 2027" in page
    row = re.search(r'<tr><td><time datetime="2027-02-10">.*?</tr>', page, re.S).group(0)
    assert "Mùng năm Tết Nguyên Đán" in row and "Làm việc mùng 5" in row and "ngày làm việc" in row
    assert re.search(r'datetime="2027-02-20">.*?Làm bù Tết', page, re.S)
    assert re.search(r'datetime="2027-04-30">.*?Ngày Chiến thắng.*?ngày nghỉ', page, re.S)
    # Removed from the right list only, and every change audited.
    token = csrf_token(admin, "/board/settings")
    assert admin.post("/board/settings/days-off/2027-02-20/remove", data={"csrf_token": token}).status_code == 404
    assert admin.post("/board/settings/days-worked/2027-02-20/remove", data={"csrf_token": token}).status_code == 303
    assert audit_actions("settings.day") == ["settings.day_worked_added", "settings.day_worked_added",
                                             "settings.day_worked_removed"]


@pytest.mark.parametrize("sort, day, message", [
    ("days-worked", "2027-02-11", "đã là ngày làm việc"),  # a Thursday after Tết
    ("days-worked", "2027-03-10", "đã là ngày làm việc"),
    ("days-off", "2027-02-13", "đã được đánh dấu là ngày làm việc"),  # marked as worked below
    ("days-worked", "2027-02-13", "đã được đánh dấu là ngày làm việc"),
    ("days-worked", "", "Vui lòng nhập ngày"),
])
def test_a_day_worked_that_makes_no_sense_is_refused(admin, sort, day, message):
    assert add(admin, "days-worked", "2027-02-13", "Làm bù").status_code == 303  # a Saturday
    before = [(o.day, o.is_working_day, o.name) for o in db.session.scalars(select(CalendarOverride))]
    response = add(admin, sort, day, "Thử")
    assert response.status_code == 400 and message in page_text(response)
    db.session.expire_all()
    assert [(o.day, o.is_working_day, o.name) for o in db.session.scalars(select(CalendarOverride))] == before


def test_days_off_of_the_old_table_become_overrides(tmp_path, clock):
    with separate_database(tmp_path, "clocks") as url:
        app = make_test_app(tmp_path, DATABASE_URL=url)
        with app.app_context():
            upgrade(revision="0005")
            filed = clock.now().replace(tzinfo=None)
            with db.engine.begin() as connection:
                connection.execute(text("INSERT INTO days_off (day, name) VALUES ('2026-12-31', 'Nghỉ cuối năm')"))
                connection.execute(text(
                    "INSERT INTO tickets (id, kind, status, department, priority, requester_email, requester_locale, "
                    "created_at, acknowledge_due_at, due_at, updated_at, version) VALUES (1, 'question', 'open', "
                    "'care', 'normal', 'a@example.vn', 'vi', :filed, :later, :later, :filed, 1)"),
                    {"filed": filed, "later": filed + timedelta(days=10)})
            upgrade()
            (override,) = db.session.scalars(select(CalendarOverride)).all()
            assert (override.day, override.is_working_day, override.name) == (date(2026, 12, 31), False,
                                                                                "Nghỉ cuối năm")
            assert db.session.get(Ticket, 1).received_at == clock.now()
            db.session.add(CalendarOverride(day=date(2027, 2, 13), is_working_day=True, name="Làm bù"))
            db.session.commit()
            db.session.remove()
            downgrade(revision="0005")
            with db.engine.connect() as connection:
                assert connection.execute(text("SELECT name FROM days_off")).scalars().all() == ["Nghỉ cuối năm"]
            db.engine.dispose()


# --- 6. the longer periods -------------------------------------------------------------------------


def test_the_longer_period_applies_once_with_a_reason_within_the_law(app):
    carer = make_staff("care", email="lan@khoingo.net")
    filed = vn(2026, 11, 2)
    ticket = new_ticket("correction", email="sua@example.vn", now=filed)
    with pytest.raises(services.TicketRuleError):
        services.apply_longer_period(ticket, carer, "  ", filed)
    services.apply_longer_period(ticket, carer, "Đơn vị bảo hành phải sửa dữ liệu", filed)
    assert local(ticket.due_at) == date(2026, 11, 17)  # 15 days, not 10
    with pytest.raises(services.TicketRuleError):
        services.apply_longer_period(ticket, carer, "Lần nữa", filed)
    assert ticket.longer_period_reason == "Đơn vị bảo hành phải sửa dữ liệu"
    services.extend_deadline(ticket, carer, 10, "Cần đối tác xác nhận", filed)
    assert local(ticket.due_at) == date(2026, 11, 27)  # 15 + the law's 10-day extension
    assert events(ticket)[-2:] == ["longer_period", "due_changed"]
    assert audit_actions("ticket.longer") == ["ticket.longer_period"]
    # A kind without a longer period, and a request already late, are refused.
    question = new_ticket("question", email="hoi@example.vn", now=filed)
    with pytest.raises(services.TicketRuleError):
        services.apply_longer_period(question, carer, "Bên thứ ba", filed)
    erasure = new_ticket("erasure", email="xoa@example.vn", now=filed)
    with pytest.raises(services.TicketRuleError):
        services.apply_longer_period(erasure, carer, "Bên thứ ba", erasure.due_at + timedelta(seconds=1))


def test_an_extension_then_the_longer_period_stay_within_the_law_in_working_days(app):
    count_in_working_days()
    carer = make_staff("care", email="lan@khoingo.net")
    ticket = new_ticket("erasure", email="xoa@example.vn", now=TET_WEDNESDAY)
    assert local(ticket.due_at) == date(2027, 2, 23)  # 20 working days would be 10 March
    services.extend_deadline(ticket, carer, 20, "Cần đối tác xác nhận", TET_WEDNESDAY)
    services.apply_longer_period(ticket, carer, "Đối tác lưu trữ phải xoá", TET_WEDNESDAY)
    assert local(ticket.due_at) == date(2027, 3, 25)  # 30 + 20 calendar days from receipt
    assert get_kind("erasure").longer_days == 30


def test_staff_apply_the_longer_period_on_the_ticket_page(app, clock):
    ticket = new_ticket("restriction", email="han.che@example.vn", locale="en", now=clock.now())
    care = staff_client(app, make_staff("care"), clock)
    page = page_text(care.get(f"/board/tickets/{ticket.reference}"))
    assert 'name="longer-reason"' in page
    assert post_on_ticket(care, ticket.reference, "longer-period", "longer", reason="").status_code == 400
    response = post_on_ticket(care, ticket.reference, "longer-period", "longer",
                              reason="Công ty khảo sát phải ngừng xử lý.")
    assert response.status_code == 303
    db.session.refresh(ticket)
    assert local(ticket.due_at) == local(clock.now()) + timedelta(days=20)
    (mail,) = [m for m in outbox("han.che@example.vn") if m.purpose == "ticket_ticket_longer_period"]
    assert "Công ty khảo sát phải ngừng xử lý." in mail.body_text and ticket.reference in mail.subject
    assert 'name="longer-reason"' not in page_text(care.get(f"/board/tickets/{ticket.reference}"))
    requester = app.test_client()
    sign_in(requester, "han.che@example.vn")
    assert "Công ty khảo sát phải ngừng xử lý." in page_text(requester.get(f"/requests/{ticket.reference}"))
    # Someone who may not work the ticket gets nothing.
    admin = staff_client(app, make_staff("admin"), clock)
    due_at = ticket.due_at
    assert post_on_ticket(admin, ticket.reference, "longer-period", "longer", reason="x" * 5).status_code == 404
    leak = new_ticket("leak_complaint", email="lo@example.vn", now=clock.now())
    assert post_on_ticket(care, leak.reference, "longer-period", "longer", reason="Bên thứ ba").status_code == 404
    db.session.refresh(ticket)
    assert ticket.due_at == due_at
