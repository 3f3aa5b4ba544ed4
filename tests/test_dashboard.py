"""The board's dashboard: who may open it, its figures on a small known dataset, and its cost."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

from portal.db import db
from portal.tickets import services
from portal.tickets.board import figures as board_figures
from portal.tickets.settings import save_queue_setting
from tests.factories import make_staff
from tests.helpers import counted_statements, sign_in_staff

NOW = datetime(2026, 11, 25, 5, 0, tzinfo=timezone.utc)  # noon in Ho Chi Minh City


def filed(kind="question", *, days_ago: float, status="new", answered_after=None, resolved_after=None,
          department=None, email=None):
    created = NOW - timedelta(days=days_ago)
    ticket, _ = services.create_ticket(kind=kind, body="x", requester_email=email or f"{days_ago}-{kind}@example.vn",
                                       customer_id=None, locale="vi", now=created)
    ticket.status = status
    if answered_after is not None:
        ticket.first_response_at = created + answered_after
    if resolved_after is not None:
        ticket.resolved_at = created + resolved_after
    if department:
        ticket.department = department
    return ticket


@pytest.fixture
def known(app, clock):
    """Seven requests whose figures are worked out by hand below."""
    clock.current = NOW
    save_queue_setting("assignment", {"board": "pickup", "sales": "pickup", "care": "pickup"}, None, NOW)
    filed(days_ago=10, status="resolved", answered_after=timedelta(hours=2), resolved_after=timedelta(days=3))
    filed("access", days_ago=5, status="resolved", answered_after=timedelta(hours=4),
          resolved_after=timedelta(days=1))
    filed("restriction", days_ago=3, status="open", answered_after=timedelta(hours=10))
    filed("other", days_ago=1, status="new")
    filed("leak_complaint", days_ago=25, status="new")  # board; past both clocks
    filed("consent_withdrawal", days_ago=2, status="waiting", answered_after=timedelta(hours=1))  # sales
    # Outside the 30-day window: counts as open and overdue, but not in the medians.
    filed("erasure", days_ago=45, status="open", answered_after=timedelta(hours=100))
    db.session.commit()


def test_figures_for_a_known_dataset(app, known):
    figures = board_figures.figures(NOW)
    assert figures.open_counts == {("care", "open"): 2, ("care", "new"): 1, ("board", "new"): 1,
                                   ("sales", "waiting"): 1}
    assert figures.open_total == 5
    assert figures.overdue_by_department == {"board": 1, "care": 1}
    assert figures.unacknowledged_late == 1
    # First answers in the window: 1 h, 2 h, 4 h, 10 h → median 3 h; 4 of the 6 filed were answered.
    assert figures.first_response.seconds == pytest.approx(3 * 3600)
    assert (figures.first_response.count, figures.first_response.out_of) == (4, 6)
    # Resolutions: 1 day and 3 days → median 2 days.
    assert figures.resolution.seconds == pytest.approx(2 * 86400)
    assert (figures.resolution.count, figures.resolution.out_of) == (2, 6)
    per_day = dict(figures.filed_per_day)
    assert sum(per_day.values()) == 6 and len(per_day) == 31
    assert per_day[(NOW - timedelta(days=1)).date()] == 1


def test_dashboard_page_shows_the_figures(app, known, clock):
    client = app.test_client()
    sign_in_staff(client, make_staff("board"), clock=clock)
    response = client.get("/board/dashboard")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    kpis = re.findall(r'<span class="kpi-value">(\d+)</span>', page)
    assert kpis == ["5", "2", "1"]
    assert "<svg" in page and "<rect" in page
    assert "style=" not in page and "<style" not in page  # the CSP allows neither
    rows = dict(re.findall(r'<tr><th scope="row">([^<]+)</th>((?:<td>\d+</td>)+)</tr>', page))
    assert [re.findall(r"\d+", cells) for cells in rows.values()] == [["1", "0", "0", "1"], ["0", "0", "1", "1"],
                                                                      ["1", "2", "0", "3"]]
    assert re.search(r"\(4\D+6\D", page) and re.search(r"\(2\D+6\D", page)  # answered / resolved of filed


@pytest.mark.parametrize("role,status", [("board", 200), ("admin", 200), ("care", 404), ("sales", 404)])
def test_who_may_open_the_dashboard(app, clock, role, status):
    client = app.test_client()
    sign_in_staff(client, make_staff(role), clock=clock)
    assert client.get("/board/dashboard").status_code == status
    nav = client.get("/board/").get_data(as_text=True)
    assert ('href="/board/dashboard"' in nav) == (status == 200)


def test_dashboard_statements_do_not_grow_with_the_data(app, clock):
    clock.current = NOW
    client = app.test_client()
    sign_in_staff(client, make_staff("board"), clock=clock)

    def measure():
        client.get("/board/dashboard")
        with counted_statements() as statements:
            assert client.get("/board/dashboard").status_code == 200
        return len(statements)

    filed(days_ago=3)
    db.session.commit()
    small = measure()
    for number in range(40):
        filed(days_ago=number % 35, status="open", answered_after=timedelta(hours=number), email=f"m{number}@x.vn")
    db.session.commit()
    assert measure() == small
