"""Who looked at a customer's data: every staff page that shows it is logged (the ticket page, and
queue and search pages for each customer they name), with one statement per page; My data shows
one line per person per local day with a count and the pages or requests, a page of days at a time.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from html import unescape

from flask_babel import force_locale
from flask_migrate import downgrade, upgrade
from sqlalchemy import select, text

from portal.audit.access_log import DAYS_PER_PAGE, log_customer_views
from portal.audit.models import CustomerDataView
from portal.db import db
from portal.enums import Role, ViewedPage
from portal.staff.models import StaffMember
from portal.staff.services import change_role
from tests.factories import make_customer, make_staff, new_ticket, pickup_everywhere
from tests.helpers import counted_statements, make_test_app, separate_database, sign_in, staff_client

VN = timezone(timedelta(hours=7))


def customer_client(app, email: str):
    """A customer signed in by link, reading the pages in English."""
    client = app.test_client()
    sign_in(client, email)
    with client.session_transaction() as browser_session:
        browser_session["locale"] = "en"
    return client


def views() -> list[CustomerDataView]:
    db.session.expire_all()
    return list(db.session.scalars(select(CustomerDataView).order_by(CustomerDataView.id)))


def history_rows(client, path: str = "/my-data") -> list[list[str]]:
    """The rows of My data's access history, as the cells' texts."""
    page = client.get(path).get_data(as_text=True)
    table = re.search(r'<table class="access-history">.*?<tbody>(.*?)</tbody>', page, re.S)
    if table is None:
        return []
    return [[" ".join(unescape(re.sub(r"<[^>]+>", " ", cell)).split())
             for cell in re.findall(r"<td>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", table.group(1), re.S)]


def title(member) -> str:
    with force_locale("en"):
        return str(member.title)


def people(app, clock) -> dict:
    """Two customers with a ticket each in customer care, a ticket from an address we hold no
    record of, a care member, a board member and the administrator."""
    pickup_everywhere()
    an = make_customer("an@example.vn", "Nguyễn Văn An", order="DH-AN", phone="0903 111 222",
                       phone_normalized="+84903111222")
    binh = make_customer("binh@example.vn", "Trần Thị Bình", order="DH-BINH", phone="0903 333 444",
                         phone_normalized="+84903333444")
    return {
        "an": an, "binh": binh,
        "an_ticket": new_ticket(customer=an, email="an@example.vn", now=clock.now()),
        "binh_ticket": new_ticket(customer=binh, email="binh@example.vn", now=clock.now()),
        "stranger_ticket": new_ticket(email="la@example.vn", now=clock.now()),
        "care": make_staff("care", name="Lê Thị Chăm"),
        "board": make_staff("board", name="Ngô Khôi Ban"),
        "admin": make_staff("admin", name="Quản Trị Viên"),
    }


# --- what is logged ---------------------------------------------------------------------------------


def test_queue_and_search_pages_log_each_customer_they_name(app, clock):
    world = people(app, clock)
    care = staff_client(app, world["care"], clock)

    page = care.get("/board/?view=department").get_data(as_text=True)
    assert "Nguyễn Văn An" in page and "Trần Thị Bình" in page and "la@example.vn" in page
    logged = views()
    assert sorted(view.customer_id for view in logged) == sorted([world["an"].id, world["binh"].id])
    for view in logged:
        assert (view.page, view.staff_id, view.ticket_id) == (ViewedPage.QUEUE, world["care"].id, None)
        assert (view.staff_name, view.staff_role) == ("Lê Thị Chăm", Role.CARE)
        assert view.viewed_at == clock.now() and view.viewed_on == clock.now().astimezone(VN).date()

    clock.advance(seconds=20)
    for search in ("an@example.vn", "0903111222", world["an_ticket"].reference):
        assert "Nguyễn Văn An" in care.get("/board/", query_string={"q": search}).get_data(as_text=True)
    searched = views()[2:]
    assert [(view.customer_id, view.page) for view in searched] == [(world["an"].id, ViewedPage.SEARCH)] * 3

    # A search that finds nobody, and a page of tickets from addresses without a record, name nobody.
    care.get("/board/", query_string={"q": "nobody@example.vn"})
    care.get("/board/", query_string={"q": world["stranger_ticket"].reference})
    assert len(views()) == 5


def test_the_ticket_page_logs_its_customer_with_the_request(app, clock):
    world = people(app, clock)
    care = staff_client(app, world["care"], clock)
    care.get(f"/board/tickets/{world['an_ticket'].reference}")
    (view,) = views()
    assert (view.customer_id, view.page, view.ticket_id, view.ticket_reference) == (
        world["an"].id, ViewedPage.TICKET, world["an_ticket"].id, world["an_ticket"].reference)


def test_the_administrator_is_shown_no_customer_and_logs_nothing(app, clock):
    world = people(app, clock)
    admin = staff_client(app, world["admin"], clock)
    for path in ("/board/?view=all&status=any", "/board/?view=unassigned", f"/board/?q={world['an_ticket'].reference}",
                 f"/board/tickets/{world['an_ticket'].reference}", "/staff/"):
        page = admin.get(path).get_data(as_text=True)
        assert "Nguyễn Văn An" not in page and "an@example.vn" not in page, path
    assert views() == []


def test_a_queue_page_logs_all_its_customers_with_one_statement(app, clock):
    """However many customers a page names, logging them is one INSERT: the page costs the same
    with 3 customers as with 40, and one statement more than a page that names nobody."""
    pickup_everywhere()
    board = make_staff("board")
    client = staff_client(app, board, clock)

    def statements(path: str) -> list[str]:
        client.get(path)
        with counted_statements() as seen:
            assert client.get(path).status_code == 200
        return seen

    new_ticket(email="la@example.vn", now=clock.now())
    nobody = statements("/board/?view=all")
    for number in range(3):
        customer = make_customer(f"k{number}@example.vn", f"Khách {number}", order=f"DH-{number}")
        new_ticket(customer=customer, email=f"k{number}@example.vn", now=clock.now())
    few = statements("/board/?view=all")
    for number in range(3, 40):
        customer = make_customer(f"k{number}@example.vn", f"Khách {number}", order=f"DH-{number}")
        new_ticket(customer=customer, email=f"k{number}@example.vn", now=clock.now())
    many = statements("/board/?view=all")
    inserts = [statement for statement in many if "INSERT INTO customer_data_views" in statement]
    assert len(inserts) == 1
    assert len(many) == len(few) == len(nobody) + 1
    assert len(views()) == 2 * 3 + 2 * 40  # each page shown twice (the first warms the caches)


# --- what the customer reads -----------------------------------------------------------------------


def test_seven_openings_in_two_minutes_are_one_line_with_a_count(app, clock):
    world = people(app, clock)
    clock.current = datetime(2027, 3, 3, 2, 0, tzinfo=timezone.utc)  # 09:00 in Vietnam
    care = staff_client(app, world["care"], clock)
    board = staff_client(app, world["board"], clock)
    reference = world["an_ticket"].reference
    for _ in range(7):
        care.get(f"/board/tickets/{reference}")
        clock.advance(seconds=15)
    care.get("/board/?view=department")
    care.get("/board/?q=an@example.vn")
    clock.advance(seconds=15)
    board.get(f"/board/tickets/{reference}")
    assert len(views()) == 7 + 2 + 1 + 1  # the queue page named both customers

    rows = history_rows(customer_client(app, "an@example.vn"))
    assert rows == [
        ["3 Mar 2027", "Ngô Khôi Ban", title(Role.BOARD), "1 time", f"request {reference}"],
        ["3 Mar 2027", "Lê Thị Chăm", title(Role.CARE), "9 times",
         f"request {reference}; {title(ViewedPage.QUEUE)}; {title(ViewedPage.SEARCH)}"],
    ]
    # The other customer was shown on the queue page only, by the care member.
    assert history_rows(customer_client(app, "binh@example.vn")) == [
        ["3 Mar 2027", "Lê Thị Chăm", title(Role.CARE), "1 time", title(ViewedPage.QUEUE)]]


def test_an_incident_page_and_a_review_of_staff_access_are_named_on_my_data(app, clock):
    world = people(app, clock)
    clock.current = datetime(2027, 3, 3, 2, 0, tzinfo=timezone.utc)
    customer_id = world["an_ticket"].customer_id
    log_customer_views(world["board"], [customer_id], ViewedPage.INCIDENT, clock.now())
    log_customer_views(world["board"], [customer_id], ViewedPage.REVIEW, clock.now())
    db.session.commit()
    assert history_rows(customer_client(app, "an@example.vn")) == [
        ["3 Mar 2027", "Ngô Khôi Ban", title(Role.BOARD), "2 times",
         f"{title(ViewedPage.INCIDENT)}; {title(ViewedPage.REVIEW)}"]]


def test_a_day_is_a_day_in_vietnam(app, clock):
    world = people(app, clock)
    reference = world["an_ticket"].reference
    for moment in (datetime(2027, 3, 3, 0, 30, tzinfo=timezone.utc),   # 07:30 on the 3rd in Vietnam
                   datetime(2027, 3, 3, 16, 59, tzinfo=timezone.utc),  # 23:59 on the 3rd
                   datetime(2027, 3, 3, 17, 1, tzinfo=timezone.utc)):  # 00:01 on the 4th
        clock.current = moment
        staff_client(app, world["care"], clock).get(f"/board/tickets/{reference}")
    rows = history_rows(customer_client(app, "an@example.vn"))
    assert [(row[0], row[3]) for row in rows] == [("4 Mar 2027", "1 time"), ("3 Mar 2027", "2 times")]


def test_name_and_role_are_those_of_the_day_of_the_view(app, clock):
    world = people(app, clock)
    reference = world["an_ticket"].reference
    clock.current = datetime(2027, 3, 3, 2, 0, tzinfo=timezone.utc)
    staff_client(app, world["care"], clock).get(f"/board/tickets/{reference}")
    member = db.session.get(StaffMember, world["care"].id)
    change_role(member, Role.BOARD, db.session.get(StaffMember, world["admin"].id), clock.now())
    member.full_name = "Lê Thị Chăm (Ban giám đốc)"
    db.session.commit()
    clock.current = datetime(2027, 3, 4, 2, 0, tzinfo=timezone.utc)
    staff_client(app, member, clock).get(f"/board/tickets/{reference}")
    rows = history_rows(customer_client(app, "an@example.vn"))
    assert [row[:3] for row in rows] == [["4 Mar 2027", "Lê Thị Chăm (Ban giám đốc)", title(Role.BOARD)],
                                         ["3 Mar 2027", "Lê Thị Chăm", title(Role.CARE)]]


def test_the_history_is_paged_by_days(app, clock):
    world = people(app, clock)
    first_day = datetime(2027, 1, 1, 3, 0, tzinfo=timezone.utc)
    for number in range(DAYS_PER_PAGE + 6):
        for minute in range(3):  # a few views a day, by the same member: still one line
            log_customer_views(world["care"], [world["an"].id], ViewedPage.QUEUE,
                               first_day + timedelta(days=number, minutes=minute))
    db.session.commit()
    customer = customer_client(app, "an@example.vn")

    page = customer.get("/my-data").get_data(as_text=True)
    rows = history_rows(customer)
    assert [row[0] for row in rows] == [f"{day} Jan 2027" for day in range(20, 6, -1)]
    assert all(row[3] == "3 times" for row in rows)
    older = re.search(r'href="([^"]+)" rel="next"', page)
    assert older is not None and "Newest days" not in page
    older_path = unescape(older.group(1))
    assert older_path.startswith("/my-data?views_before=2027-01-07")

    page = customer.get(older_path).get_data(as_text=True)
    assert [row[0] for row in history_rows(customer, older_path)] == [f"{day} Jan 2027" for day in range(6, 0, -1)]
    assert 'rel="next"' not in page and "Newest days" in page
    assert "No older views." in customer.get("/my-data?views_before=2027-01-01").get_data(as_text=True)

    for bad in ("yesterday", "2027-13-01", "9" * 40):
        page = customer.get("/my-data", query_string={"views_before": bad}).get_data(as_text=True)
        assert "That page link is not valid. Here are the newest days." in page
        assert [row[0] for row in history_rows(customer)][0] == "20 Jan 2027"


def test_a_customer_sees_only_who_looked_at_their_own_data(app, clock):
    world = people(app, clock)
    care = staff_client(app, world["care"], clock)
    care.get(f"/board/tickets/{world['an_ticket'].reference}")
    page = customer_client(app, "binh@example.vn").get("/my-data").get_data(as_text=True)
    assert world["an_ticket"].reference not in page and "Lê Thị Chăm" not in page
    assert "Nobody has opened your data through the portal yet." in page


# --- the migration ------------------------------------------------------------------------------------


def test_views_logged_before_the_upgrade_are_filled_in(tmp_path, clock):
    """Migration 0006 names the page, the member and role, the request and the local day of every view
    logged before it (all of them ticket pages)."""
    with separate_database(tmp_path, "access_log") as url:
        app = make_test_app(tmp_path, DATABASE_URL=url)
        with app.app_context():
            upgrade(revision="0005")
            viewed = datetime(2026, 11, 30, 17, 30, tzinfo=timezone.utc).replace(tzinfo=None)  # 00:30 local, 1 Dec
            created = datetime(2026, 11, 2, 8, 0)
            with db.engine.begin() as connection:
                connection.execute(text(
                    "INSERT INTO staff_members (id, email, full_name, role, is_active, failed_sign_in_count, "
                    "created_at) VALUES (7, 'lan@khoingo.net', 'Lan', 'care', :yes, 0, :at)"),
                    {"yes": True, "at": created})
                connection.execute(text(
                    "INSERT INTO customers (id, full_name, notes, source, created_at) "
                    "VALUES (3, 'An', '', 'web_form', :at)"), {"at": created})
                connection.execute(text(
                    "INSERT INTO tickets (id, kind, status, department, priority, customer_id, requester_email, "
                    "requester_locale, created_at, acknowledge_due_at, due_at, updated_at, version) VALUES "
                    "(42, 'question', 'open', 'care', 'normal', 3, 'an@example.vn', 'vi', :at, :at, :at, :at, 1)"),
                    {"at": created})
                connection.execute(text(
                    "INSERT INTO customer_data_views (id, customer_id, staff_id, ticket_id, viewed_at) "
                    "VALUES (1, 3, 7, 42, :at)"), {"at": viewed})
            upgrade()
            (view,) = views()
            assert (view.page, view.staff_name, view.staff_role, view.ticket_reference, view.viewed_on) == (
                ViewedPage.TICKET, "Lan", Role.CARE, "KN-2026-000042", date(2026, 12, 1))
            db.session.remove()
            downgrade(revision="0005")
            with db.engine.connect() as connection:
                assert connection.execute(text("SELECT id FROM customer_data_views")).scalars().all() == [1]
            db.engine.dispose()
