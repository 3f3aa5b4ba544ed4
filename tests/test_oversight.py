"""Insider-leak alerts and the board's pages on staff access: a member shown the data of far more
customers than usual in a day raises one alert, e-mailed to every active board member; the board
reads the alerts, each member's counts and each member's access history, and that reading is itself
logged for the customers it names."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import insert, select

from portal.account.models import Customer
from portal.audit.models import AuditRecord, CustomerDataView
from portal.db import db
from portal.enums import ViewedPage
from portal.jobs import run_due_jobs
from portal.local_time import local_date
from portal.oversight import services
from portal.oversight.models import OversightAlert
from portal.settings.insider_alerts import save_insider_thresholds
from tests.factories import make_customer, make_staff, new_ticket
from tests.helpers import count, counted_statements, outbox, page_text, staff_client

NOON = datetime(2026, 11, 30, 5, 0, tzinfo=timezone.utc)  # a Monday, 12:00 in Hồ Chí Minh City


@pytest.fixture
def team(app, clock):
    clock.current = NOON
    return {"care": make_staff("care", name="Lê Thị Chăm"),
            "board": make_staff("board", name="Ngô Khôi Ban", email="ban@khoingo.net"),
            "board2": make_staff("board", name="Phạm Giám Đốc", email="giamdoc@khoingo.net"),
            "gone": make_staff("board", name="Cựu Giám Đốc", email="cu@khoingo.net")}


def customers(number: int) -> list[int]:
    """``number`` customer records (names only), their ids."""
    start = db.session.scalar(select(db.func.count()).select_from(Customer))
    rows = [Customer(full_name=f"Khách hàng {start + n}", source="staff") for n in range(number)]
    db.session.add_all(rows)
    db.session.commit()
    return [row.id for row in rows]


def shown(member, customer_ids, when, page=ViewedPage.RECORD) -> None:
    """Log that ``member`` was shown each of ``customer_ids`` at ``when``."""
    db.session.execute(insert(CustomerDataView), [
        {"customer_id": customer, "staff_id": member.id, "staff_name": member.full_name, "staff_role": member.role,
         "page": page, "viewed_at": when, "viewed_on": local_date(when)} for customer in customer_ids])
    db.session.commit()


def usual_days(member, pool, per_day: int, days: list[int], now) -> None:
    """``per_day`` different customers (twice each) on each of ``days`` days ago."""
    for back in days:
        when = now - timedelta(days=back)
        shown(member, pool[:per_day], when)
        shown(member, pool[:per_day], when + timedelta(minutes=5))


def alerts() -> list[OversightAlert]:
    db.session.expire_all()
    return list(db.session.scalars(select(OversightAlert).order_by(OversightAlert.id)))


# --- the signal -----------------------------------------------------------------------------------


def test_a_day_far_above_the_usual_raises_one_alert_emailed_to_every_active_board_member(app, clock, team):
    care, now = team["care"], clock.now()
    team["gone"].is_active = False
    db.session.commit()
    pool = customers(70)
    usual_days(care, pool, 10, [1, 3, 8], now)  # usual: 10 a day, on the three days worked
    usual_days(care, pool, 30, [31, 45], now)  # too long ago to count
    shown(care, pool[:60], now - timedelta(hours=1))  # today: 60 different customers
    shown(care, pool[:5], now - timedelta(minutes=30))  # the same ones again count once
    assert run_due_jobs(now) >= 1
    [alert] = alerts()
    assert (alert.staff_id, alert.day, alert.distinct_customers, alert.usual) == (care.id, local_date(now), 60, 10.0)
    assert (alert.threshold_customers, alert.threshold_factor) == (50, 3.0)
    sent = {message.recipient: message for message in outbox() if message.purpose == "oversight_alert"}
    assert set(sent) == {"ban@khoingo.net", "giamdoc@khoingo.net"}  # not the deactivated member
    body = sent["ban@khoingo.net"].body_text
    assert "Lê Thị Chăm" in sent["ban@khoingo.net"].subject and "60" in body and "10" in body
    assert f"/board/oversight/members/{care.id}" in body and "/board/oversight\n" in body + "\n"
    audit = db.session.scalars(select(AuditRecord).where(AuditRecord.action == "oversight.alert_raised")).one()
    assert audit.actor == "system" and audit.target == f"staff:{care.id}" and audit.data["customers"] == 60

    # later the same day, more customers: still one alert, no new e-mail
    shown(care, pool[60:70], clock.advance(hours=2))
    run_due_jobs(clock.now())
    run_due_jobs(clock.now())
    assert len(alerts()) == 1
    assert len([m for m in outbox() if m.purpose == "oversight_alert"]) == 2


def test_the_usual_is_the_average_of_the_days_worked_in_the_previous_thirty(app, clock, team):
    care, now = team["care"], clock.now()
    pool = customers(40)
    usual_days(care, pool, 12, [1, 2], now)
    usual_days(care, pool, 30, [30], now)  # the 30th day before today counts
    usual_days(care, pool, 40, [31], now)  # the 31st does not
    shown(care, pool[:40], now - timedelta(days=1), page=ViewedPage.REVIEW)  # a review is not counted
    shown(care, pool[:7], now)
    history = {}
    for staff_id, day, number in db.session.execute(services._daily_counts(local_date(now) - timedelta(days=40),
                                                                          local_date(now))):
        if staff_id == care.id:
            history[day] = number
    assert services.usual_of(history, local_date(now)) == 18.0  # (12 + 12 + 30) / 3
    [line] = [m for m in services.member_counts(now, {"distinct_customers": 50, "factor": 3.0})
              if m.staff_id == care.id]
    assert (line.today, line.usual, line.unusual) == (7, 18.0, False)


def test_both_thresholds_must_be_passed(app, clock, team):
    care, board, now = team["care"], team["board"], clock.now()
    pool = customers(120)
    usual_days(care, pool, 30, [1, 2, 3], now)
    shown(care, pool[:80], now)  # above 50, but not above 3 × 30
    shown(board, pool[:40], now)  # above 3 × 0, but not above 50
    assert services.raise_alerts(now) == 0
    shown(care, pool[80:120], now)  # 120 > 90: now both
    assert services.raise_alerts(now) == 1 and [a.staff_id for a in alerts()] == [care.id]


def test_a_spike_just_before_midnight_is_caught_after_it_and_the_settings_apply(app, clock, team):
    care = team["care"]
    save_insider_thresholds(3, 2.0, None, clock.now())
    db.session.commit()
    late = datetime(2026, 11, 30, 16, 55, tzinfo=timezone.utc)  # 23:55 in Hồ Chí Minh City
    shown(care, customers(4), late)
    clock.current = late + timedelta(minutes=10)  # 00:05 the next local day
    assert services.raise_alerts(clock.now()) == 1
    [alert] = alerts()
    assert alert.day == local_date(late) and alert.threshold_customers == 3 and alert.threshold_factor == 2.0
    assert services.raise_alerts(clock.now()) == 0


def test_views_through_the_real_pages_are_counted(app, clock, team):
    save_insider_thresholds(2, 1.0, None, clock.now())
    db.session.commit()
    client = staff_client(app, team["care"], clock)
    for number in range(3):
        record = make_customer(f"khach{number}@example.vn", f"Khách {number}", order=f"DH-{number}")
        assert client.get(f"/board/customers/{record.id}").status_code == 200
    assert services.raise_alerts(clock.now()) == 1
    assert alerts()[0].distinct_customers == 3


# --- the board's pages ----------------------------------------------------------------------------


def test_the_oversight_page_lists_alerts_and_each_members_counts(app, clock, team):
    care, now = team["care"], clock.now()
    pool = customers(70)
    usual_days(care, pool, 10, [1, 2], now)
    shown(care, pool[:60], now)
    services.raise_alerts(now)
    db.session.commit()
    page = page_text(staff_client(app, team["board"], clock, in_english=True).get("/board/oversight"))
    alerts_table = re.search(r'id="h-alerts".*?</section>', page, re.S).group(0)
    assert "Lê Thị Chăm" in alerts_table and "<td>60</td>" in alerts_table
    assert f'href="/board/oversight/members/{care.id}"' in alerts_table
    members = re.search(r'id="h-members".*?</section>', page, re.S).group(0)
    row = re.search(r'<tr class="unusual">.*?</tr>', members, re.S).group(0)
    assert "Lê Thị Chăm" in row and "60" in row and "unusual" in row and "<td>10</td>" in row
    assert "Ngô Khôi Ban" in members  # every member who sees customers' data is listed, even at 0


def test_a_members_history_names_the_customers_by_day_and_logs_the_review(app, clock, team):
    care, board, now = team["care"], team["board"], clock.now()
    an = make_customer("an@example.vn", "Nguyễn Văn An", order="DH-AN")
    binh = make_customer("binh@example.vn", "Trần Thị Bình", order="DH-BINH")
    ticket = new_ticket(customer=an, email="an@example.vn", now=now)
    db.session.execute(insert(CustomerDataView), [
        {"customer_id": an.id, "staff_id": care.id, "staff_name": care.full_name, "staff_role": "care",
         "page": ViewedPage.TICKET, "ticket_id": ticket.id, "ticket_reference": ticket.reference,
         "viewed_at": now, "viewed_on": local_date(now)}])
    db.session.commit()
    shown(care, [an.id], now - timedelta(minutes=3), page=ViewedPage.QUEUE)
    shown(care, [binh.id], now - timedelta(days=2), page=ViewedPage.SEARCH)
    shown(care, [binh.id], now - timedelta(days=2, minutes=1))
    before = count(CustomerDataView)
    page = page_text(staff_client(app, board, clock, in_english=True).get(f"/board/oversight/members/{care.id}"))
    assert "Lê Thị Chăm" in page
    today = page.index(local_date(now).isoformat())
    assert today < page.index((local_date(now) - timedelta(days=2)).isoformat())  # newest day first
    an_line = re.search(r"<tr><td>Nguyễn Văn An.*?</tr>", page, re.S).group(0)
    assert ticket.reference in an_line and "a list of requests" in an_line and "<td>2</td>" in an_line
    assert f'href="/board/tickets/{ticket.reference}"' in an_line
    assert "Trần Thị Bình" in page and "a search, the customer&#39;s record" in page
    assert "your record" not in page
    db.session.expire_all()
    reviews = list(db.session.scalars(select(CustomerDataView).where(CustomerDataView.page == ViewedPage.REVIEW)))
    assert count(CustomerDataView) == before + 2
    assert {(r.customer_id, r.staff_id) for r in reviews} == {(an.id, board.id), (binh.id, board.id)}
    audit = db.session.scalars(select(AuditRecord).where(AuditRecord.action == "oversight.history_viewed")).one()
    assert audit.actor == f"staff:{board.id}" and audit.target == f"staff:{care.id}"


def test_the_history_is_paged_and_each_page_logs_only_the_customers_it_names(app, clock, team):
    care, board, now = team["care"], team["board"], clock.now()
    pool = customers(150)
    shown(care, pool, now - timedelta(days=1))
    shown(care, pool[:10], now)
    client = staff_client(app, board, clock, in_english=True)
    first = page_text(client.get(f"/board/oversight/members/{care.id}"))
    assert len(re.findall(r"<tr><td>Khách hàng", first)) == services.LINES_PER_PAGE
    older = re.search(r'href="(/board/oversight/members/\d+\?before=[^"]+)">Older', first).group(1)
    reviewed = count(CustomerDataView, CustomerDataView.page == ViewedPage.REVIEW)
    assert reviewed == services.LINES_PER_PAGE
    second = page_text(client.get(older.replace("&amp;", "&")))
    assert len(re.findall(r"<tr><td>Khách hàng", second)) == 160 - services.LINES_PER_PAGE
    assert "Older" not in second
    assert count(CustomerDataView, CustomerDataView.page == ViewedPage.REVIEW) == 160
    assert client.get(f"/board/oversight/members/{care.id}?before=yesterday").status_code == 404
    assert client.get("/board/oversight/members/999999").status_code == 404


def test_the_pages_cost_the_same_few_statements_whatever_the_size_of_the_data(app, clock, team):
    care, now = team["care"], clock.now()
    client = staff_client(app, team["board"], clock, in_english=True)
    pool = customers(30)

    def measure():
        counts = []
        for path in ("/board/oversight", f"/board/oversight/members/{care.id}"):
            client.get(path)
            with counted_statements() as statements:
                assert client.get(path).status_code == 200
            counts.append(len(statements))
        return counts

    shown(care, pool[:2], now)
    small = measure()
    usual_days(care, pool, 30, list(range(1, 30)), now)
    for number in range(10):
        member = make_staff("care", email=f"cham{number}@khoingo.net", name=f"Chăm {number}")
        usual_days(member, pool, 20, list(range(0, 30, 2)), now)
    services.raise_alerts(now)
    db.session.commit()
    assert measure() == small and max(small) <= 6, small


@pytest.mark.parametrize("role", ["sales", "care", "admin"])
def test_only_the_board_reaches_the_oversight_pages(app, clock, team, role):
    client = staff_client(app, make_staff(role, email=f"{role}.x@khoingo.net"), clock)
    assert client.get("/board/oversight").status_code == 404
    assert client.get(f"/board/oversight/members/{team['care'].id}").status_code == 404
    assert 'href="/board/oversight"' not in page_text(client.get("/staff/"))
    assert count(CustomerDataView, CustomerDataView.page == ViewedPage.REVIEW) == 0


def test_of_two_workers_raising_the_same_alert_one_stores_and_mails_it(app, clock, team):
    care, now = team["care"], clock.now()
    thresholds = {"distinct_customers": 50, "factor": 3.0}
    assert services._raise(care.id, local_date(now), 60, 0.0, thresholds, now) is True
    assert services._raise(care.id, local_date(now), 61, 0.0, thresholds, now) is False
    db.session.commit()
    assert [(a.distinct_customers, a.usual) for a in alerts()] == [(60, 0.0)]
    assert len([m for m in outbox() if m.purpose == "oversight_alert"]) == 3  # the three active board members
