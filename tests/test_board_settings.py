"""Queue settings: only an administrator edits them, the law's ceilings hold, every change is
audited, and a change applies to requests filed afterwards only."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from portal.audit.models import AuditRecord
from portal.db import db
from portal.enums import Department
from portal.settings.insider_alerts import insider_thresholds
from portal.settings.models import CalendarOverride, Setting
from portal.tickets import due, services
from portal.tickets.kinds import all_kinds
from portal.tickets.models import Ticket
from portal.tickets.settings import FIRST_RESPONSE, queue_setting
from tests.factories import make_staff
from tests.helpers import csrf_token, staff_client

VN = timezone(timedelta(hours=7))
XSS = '<script>alert("x")</script>'


@pytest.fixture
def admin_client(app, clock):
    clock.current = datetime(2026, 11, 25, 3, 0, tzinfo=timezone.utc)  # Wednesday, 10:00 in HCMC
    return staff_client(app, make_staff("admin"), clock)


def settings_data(client, **overrides) -> dict:
    """The settings form as the page fills it in from the current settings, with ``overrides``."""
    routing, clocks, assignment = queue_setting("routing"), queue_setting("clocks"), queue_setting("assignment")
    data = {"csrf_token": csrf_token(client, "/board/settings"),
            "acknowledge_working_days": str(clocks["acknowledge_working_days"])}
    if clocks["fulfil_in_working_days"]:
        data["fulfil_in_working_days"] = "y"
    for kind in all_kinds():
        data[f"department_{kind}"] = routing[kind]["department"]
        data[f"priority_{kind}"] = routing[kind]["priority"]
        data[f"fulfil_{kind}"] = str(clocks["fulfil_days"][kind])
        data[f"extension_{kind}"] = str(clocks["extension_days"][kind])
    for department in Department:
        data[f"assignment_{department.value}"] = assignment[department.value]
    for kind, hours in queue_setting(FIRST_RESPONSE)["hours"].items():
        data[f"first_response_{kind}"] = str(hours)
    thresholds = insider_thresholds()
    data["insider_customers"] = str(thresholds["distinct_customers"])
    data["insider_factor"] = f"{thresholds['factor']:g}"
    data.update(overrides)
    return data


def file_question(now, email="hoi@example.vn", kind="question") -> Ticket:
    ticket, _ = services.create_ticket(kind=kind, body="Câu hỏi", requester_email=email, customer_id=None,
                                       locale="vi", now=now)
    db.session.commit()
    return ticket


@pytest.mark.parametrize("role", ["board", "care", "sales"])
def test_only_an_administrator_edits_settings(app, clock, role):
    client = staff_client(app, make_staff(role), clock)
    assert client.get("/board/settings").status_code == 404
    token = csrf_token(client, "/board/")
    assert client.post("/board/settings", data={"csrf_token": token}).status_code == 404
    assert client.post("/board/settings/days-off", data={"csrf_token": token}).status_code == 404
    assert client.post("/board/settings/days-worked", data={"csrf_token": token}).status_code == 404
    assert 'href="/board/settings"' not in client.get("/board/").get_data(as_text=True)


def test_the_page_shows_the_current_settings_and_the_legal_ceilings(admin_client):
    page = admin_client.get("/board/settings").get_data(as_text=True)
    assert re.search(r'<select[^>]*name="department_leak_complaint"[^>]*>.*?<option selected value="board">', page,
                     re.S)
    assert re.search(r'name="fulfil_erasure"[^>]*value="20"', page)
    assert "≤ 20" in page


def test_changes_apply_to_new_requests_only_and_are_audited(app, admin_client, clock):
    before = file_question(clock.now(), email="truoc@example.vn")
    assert (before.department, before.priority) == ("care", "normal")
    old_due = before.due_at
    response = admin_client.post("/board/settings", data=settings_data(
        admin_client, department_question="sales", priority_question="high", fulfil_question="7",
        extension_question="5", assignment_sales="pickup"))
    assert response.status_code == 303
    after = file_question(clock.now(), email="sau@example.vn")
    assert (after.department, after.priority, after.assignee_id) == ("sales", "high", None)
    assert after.due_at == due.fulfil_due(clock.now(), 7)
    db.session.refresh(before)
    assert (before.department, before.priority, before.due_at) == ("care", "normal", old_due)
    assert queue_setting("clocks")["extension_days"]["question"] == 5
    actions = {(r.action, r.target) for r in db.session.scalars(select(AuditRecord))
               if r.action == "settings.changed"}
    assert actions == {("settings.changed", "setting:routing"), ("settings.changed", "setting:clocks"),
                       ("settings.changed", "setting:assignment")}
    routing_record = db.session.scalars(select(AuditRecord).where(AuditRecord.target == "setting:routing")).one()
    assert routing_record.data["old"]["question"]["department"] == "care"
    assert routing_record.data["new"]["question"]["department"] == "sales"


def test_saving_unchanged_settings_changes_nothing(admin_client):
    assert admin_client.post("/board/settings", data=settings_data(admin_client)).status_code == 303
    assert db.session.scalars(select(Setting)).all() == []


@pytest.mark.parametrize("field,value", [
    ("fulfil_question", "11"), ("fulfil_erasure", "21"), ("extension_access", "11"), ("fulfil_question", "0"),
    ("acknowledge_working_days", "3"), ("fulfil_question", "ten"), ("department_question", "accounting"),
    ("priority_question", "urgent"), ("assignment_care", "random"),
])
def test_settings_beyond_the_law_or_unknown_are_refused(admin_client, field, value):
    response = admin_client.post("/board/settings", data=settings_data(admin_client, **{field: value}))
    assert response.status_code == 400
    assert 'aria-invalid="true"' in response.get_data(as_text=True)
    assert db.session.scalars(select(Setting)).all() == []


def test_fulfilment_in_working_days(app, admin_client, clock):
    assert admin_client.post("/board/settings", data=settings_data(
        admin_client, fulfil_in_working_days="y")).status_code == 303
    assert queue_setting("clocks")["fulfil_in_working_days"] is True
    ticket = file_question(clock.now())
    assert ticket.due_at == due.fulfil_due(clock.now(), 10, in_working_days=True)


def test_days_off_are_added_and_removed_and_move_new_deadlines(app, admin_client, clock):
    # Filed Wednesday 25 November: acknowledgement due Friday 27th; with the 26th off, Monday 30th.
    token = csrf_token(admin_client, "/board/settings")
    response = admin_client.post("/board/settings/days-off", data={
        "csrf_token": token, "day_off-day": "2026-11-26", "day_off-name": f"Nghỉ bù {XSS}"})
    assert response.status_code == 303
    page = admin_client.get("/board/settings").get_data(as_text=True)
    assert "Nghỉ bù &lt;script&gt;" in page and XSS not in page
    ticket = file_question(clock.now())
    assert ticket.acknowledge_due_at.astimezone(VN).date() == date(2026, 11, 30)
    # The same day twice is refused with a message.
    response = admin_client.post("/board/settings/days-off", data={
        "csrf_token": token, "day_off-day": "2026-11-26", "day_off-name": "Again"})
    assert response.status_code == 400 and 'aria-invalid="true"' in response.get_data(as_text=True)
    # Removing it applies to later requests; the earlier request keeps its date.
    assert admin_client.post("/board/settings/days-off/2026-11-26/remove",
                             data={"csrf_token": token}).status_code == 303
    assert db.session.scalars(select(CalendarOverride)).all() == []
    later = file_question(clock.now(), email="later@example.vn", kind="access")
    assert later.acknowledge_due_at.astimezone(VN).date() == date(2026, 11, 27)
    db.session.refresh(ticket)
    assert ticket.acknowledge_due_at.astimezone(VN).date() == date(2026, 11, 30)
    actions = [r.action for r in db.session.scalars(select(AuditRecord).order_by(AuditRecord.id))
               if r.action.startswith("settings.")]
    assert actions == ["settings.day_off_added", "settings.day_off_removed"]


@pytest.mark.parametrize("data", [{"day_off-day": "", "day_off-name": "x"},
                                  {"day_off-day": "2026-13-01", "day_off-name": "x"},
                                  {"day_off-day": "2026-12-01", "day_off-name": ""}])
def test_bad_days_off_are_refused(admin_client, data):
    data = {"csrf_token": csrf_token(admin_client, "/board/settings"), **data}
    assert admin_client.post("/board/settings/days-off", data=data).status_code == 400
    assert db.session.scalars(select(CalendarOverride)).all() == []


def test_removing_an_unknown_day_off_is_not_found(admin_client):
    token = csrf_token(admin_client, "/board/settings")
    for day in ("2026-12-01", "yesterday"):
        assert admin_client.post(f"/board/settings/days-off/{day}/remove", data={"csrf_token": token}).status_code \
            == 404


def test_settings_posts_need_the_csrf_token(admin_client):
    data = settings_data(admin_client, department_question="sales")
    del data["csrf_token"]
    assert admin_client.post("/board/settings", data=data).status_code == 400
    assert admin_client.post("/board/settings/days-off", data={"day_off-day": "2026-12-01",
                                                                "day_off-name": "x"}).status_code == 400
    assert db.session.scalars(select(Setting)).all() == [] and db.session.scalars(select(CalendarOverride)).all() == []


# --- the first answer to complaints, and the insider-leak alert ------------------------------------


def test_the_first_answer_promise_is_edited_in_hours_and_applies_to_complaints_filed_afterwards(
        app, admin_client, clock):
    page = admin_client.get("/board/settings").get_data(as_text=True)
    assert re.search(r'name="first_response_leak_complaint"[^>]*value="24"', page)
    assert re.search(r'name="first_response_misuse_report"[^>]*value="24"', page)
    before = file_question(clock.now(), email="truoc@example.vn", kind="leak_complaint")
    assert before.acknowledge_due_at == clock.now() + timedelta(hours=24)
    response = admin_client.post("/board/settings", data=settings_data(admin_client, first_response_leak_complaint="6"))
    assert response.status_code == 303
    after = file_question(clock.now(), email="sau@example.vn", kind="leak_complaint")
    assert after.acknowledge_due_at == clock.now() + timedelta(hours=6)
    misuse = file_question(clock.now(), email="sau@example.vn", kind="misuse_report")
    assert misuse.acknowledge_due_at == clock.now() + timedelta(hours=24)
    db.session.refresh(before)
    assert before.acknowledge_due_at == clock.now() + timedelta(hours=24)
    record = db.session.scalars(select(AuditRecord).where(AuditRecord.target == "setting:first_response")).one()
    assert record.actor.startswith("staff:")
    assert record.data["old"]["hours"]["leak_complaint"] == 24 and record.data["new"]["hours"]["leak_complaint"] == 6
    # 48 hours would be later than the law's two working days here: the law's acknowledgement still holds
    admin_client.post("/board/settings", data=settings_data(admin_client, first_response_leak_complaint="48"))
    later = file_question(clock.now(), email="sau@example.vn", kind="leak_complaint")
    assert later.acknowledge_due_at <= clock.now() + timedelta(hours=48)


def test_the_insider_alert_thresholds_are_saved_and_audited(admin_client):
    page = admin_client.get("/board/settings").get_data(as_text=True)
    assert re.search(r'name="insider_customers"[^>]*value="50"', page) and re.search(
        r'name="insider_factor"[^>]*value="3"', page)
    response = admin_client.post("/board/settings", data=settings_data(
        admin_client, insider_customers="80", insider_factor="2,5"))
    assert response.status_code == 303
    assert insider_thresholds() == {"distinct_customers": 80, "factor": 2.5}
    record = db.session.scalars(select(AuditRecord).where(AuditRecord.target == "setting:insider_alerts")).one()
    assert record.data["old"] == {"distinct_customers": 50, "factor": 3.0}
    assert record.data["new"] == {"distinct_customers": 80, "factor": 2.5}
    assert [s.key for s in db.session.scalars(select(Setting))] == ["insider_alerts"]
    page = admin_client.get("/board/settings").get_data(as_text=True)
    assert re.search(r'name="insider_factor"[^>]*value="2.5"', page)


@pytest.mark.parametrize("field,value,message", [
    ("first_response_leak_complaint", "0", "Between 1 and 48 hours."),
    ("first_response_misuse_report", "49", "Between 1 and 48 hours."),
    ("first_response_leak_complaint", "", "Enter a number of hours."),
    ("insider_customers", "0", "Between 1 and 10000 customers."),
    ("insider_customers", "many", "Not a valid integer value."),
    ("insider_factor", "0.5", "Enter a number from 1 to 20, with at most one decimal"),
    ("insider_factor", "21", "Enter a number from 1 to 20, with at most one decimal"),
    ("insider_factor", "2.55", "Enter a number from 1 to 20, with at most one decimal"),
    ("insider_factor", "three", "Enter a number from 1 to 20, with at most one decimal"),
    ("insider_factor", "", "Enter a number of times."),
])
def test_bad_first_answer_hours_or_alert_thresholds_save_nothing(admin_client, field, value, message):
    with admin_client.session_transaction() as browser_session:
        browser_session["locale"] = "en"
    data = settings_data(admin_client, **{field: value}, fulfil_question="7")  # a good change beside the bad one
    response = admin_client.post("/board/settings", data=data)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'aria-invalid="true"' in page and message in page
    assert db.session.scalars(select(Setting)).all() == []
