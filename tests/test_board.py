"""The admin board through HTTP: queue views per role, filters, search, keyset pages, the ticket
page and its actions (reply, note, update with optimistic locking, take, extension, linking)."""

from __future__ import annotations

import re
import threading
from datetime import datetime, timedelta, timezone
from html import unescape

import pytest
from sqlalchemy import func, select

from portal.account.models import ContactPoint
from portal.audit.models import AuditRecord, CustomerDataView
from portal.db import db
from portal.enums import Channel
from portal.outbox.models import OutboxMessage
from portal.tickets import services
from portal.tickets.board.queries import PAGE_SIZE, decode_cursor, encode_cursor
from portal.tickets.models import Ticket, TicketEntry
from tests.factories import make_customer, make_staff, new_ticket, pickup_everywhere
from tests.helpers import counted_statements, csrf_token, outbox, staff_client

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'
REFERENCE = re.compile(r"KN-\d{4}-\d{6}")


# --- helpers ---------------------------------------------------------------------------------------


def references(page: str) -> list[str]:
    """The references listed in a queue page's table, in order."""
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in page else ""
    return re.findall(r'href="/board/tickets/(KN-\d{4}-\d{6})"', body)


def listed(client, path: str) -> set[str]:
    response = client.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)
    return set(references(response.get_data(as_text=True)))


def hidden_fields(page: str, prefix: str) -> dict:
    return {f"{prefix}-{name}": value for name, value in
            re.findall(rf'name="{prefix}-(csrf_token|submission_key|version)" type="hidden" value="([^"]*)"', page)}


def post_on_ticket(client, reference: str, action: str, page: str | None = None, **fields):
    """Fill in one of the ticket page's forms as the page drew it, and post it."""
    page = page or client.get(f"/board/tickets/{reference}").get_data(as_text=True)
    prefix = {"reply": "reply", "update": "update", "extend": "extend", "take": "take", "link": "link"}[action]
    data = hidden_fields(page, prefix)
    if f"{prefix}-csrf_token" not in data:  # a form the page does not offer: post it with a valid token anyway
        data["csrf_token"] = csrf_token(client, "/board/")
    data.update({f"{prefix}-{name}": value for name, value in fields.items()})
    return client.post(f"/board/tickets/{reference}/{action}", data=data)


@pytest.fixture
def team(app):
    """Two care members, a sales member, a board member and an administrator."""
    return {
        "care": make_staff("care", name="Lê Thị Care"),
        "care2": make_staff("care", email="care2@khoingo.net", name="Phạm Văn Care Hai"),
        "sales": make_staff("sales", name="Trần Văn Sales"),
        "board": make_staff("board", name="Ngô Khôi Board"),
        "admin": make_staff("admin", name="Quản Trị"),
    }


@pytest.fixture
def tickets(app, team):
    """A little of everything, in pick-up mode so assignment is explicit."""
    pickup_everywhere()
    past = datetime.now(timezone.utc) - timedelta(days=40)
    customer = make_customer()
    made = {
        "care_mine": new_ticket(customer=customer, assignee_id=team["care"].id),
        "care_other": new_ticket("access", email="b@example.vn", assignee_id=team["care2"].id),
        "care_free": new_ticket("restriction", email="c@example.vn"),
        "care_late": new_ticket("other", email="d@example.vn", now=past, status="open"),
        "care_done": new_ticket("question", email="e@example.vn", status="resolved"),
        "sales": new_ticket("consent_withdrawal", email="f@example.vn", assignee_id=team["sales"].id),
        "board": new_ticket("leak_complaint", email="leak@example.vn",
                            customer=make_customer("leak@example.vn", "Bùi Lộ", phone="0912 000 111")),
        # A sales ticket assigned to the sales member, escalated to the board when it went overdue.
        "escalated": new_ticket("consent_withdrawal", email="g@example.vn", now=past,
                                assignee_id=team["sales"].id, department="board", escalated_at=past),
    }
    # make_customer gives every customer the same phone: give the leak customer their own.
    phone = db.session.scalars(select(ContactPoint).where(ContactPoint.customer_id == made["board"].customer_id,
                                                          ContactPoint.channel == Channel.PHONE.value)).one()
    phone.value_normalized = "+84912000111"
    db.session.commit()
    return {name: ticket.reference for name, ticket in made.items()}


# --- queue views per role ----------------------------------------------------------------------------


def test_care_member_sees_their_views(app, team, tickets):
    client = staff_client(app, team["care"])
    t = tickets
    assert listed(client, "/board/?view=mine") == {t["care_mine"]}
    assert listed(client, "/board/?view=department") == {t["care_mine"], t["care_other"], t["care_free"],
                                                         t["care_late"]}
    assert listed(client, "/board/") == listed(client, "/board/?view=department")  # the default view
    assert listed(client, "/board/?view=unassigned") == {t["care_free"], t["care_late"]}
    assert listed(client, "/board/?view=overdue") == {t["care_late"]}
    # "All queues" is for the board and admin: a care member asking for it gets their department.
    page = client.get("/board/?view=all").get_data(as_text=True)
    assert set(references(page)) == listed(client, "/board/?view=department")
    assert 'href="/board/?view=all"' not in page


def test_sales_member_never_sees_a_board_ticket(app, team, tickets):
    client = staff_client(app, team["sales"])
    board_only = tickets["board"]
    seen = set()
    for view in ("mine", "department", "unassigned", "overdue", "all"):
        for status in ("open_all", "any"):
            seen |= listed(client, f"/board/?view={view}&status={status}")
    for query in (board_only, "leak@example.vn", "0912000111", "+84 912 000 111"):
        seen |= listed(client, f"/board/?q={query}")
    seen |= listed(client, "/board/?department=board&status=any")
    assert board_only not in seen
    assert tickets["escalated"] in seen  # on the board's queue now, but still assigned to them
    assert client.get(f"/board/tickets/{board_only}").status_code == 404
    assert client.get(f"/board/tickets/{tickets['escalated']}").status_code == 200
    assert post_on_ticket(client, board_only, "reply", page="", message="x" * 5).status_code == 404
    assert post_on_ticket(client, board_only, "take", page="").status_code == 404


def test_board_and_admin_see_every_queue(app, team, tickets):
    unfinished = {ref for name, ref in tickets.items() if name != "care_done"}
    for role in ("board", "admin"):
        client = staff_client(app, team[role])
        assert listed(client, "/board/?view=all") == unfinished
        assert listed(client, "/board/?view=all&status=any") == set(tickets.values())
    board = staff_client(app, team["board"])
    assert listed(board, "/board/?view=department") == {tickets["board"], tickets["escalated"]}
    assert listed(board, "/board/?view=overdue") == {tickets["care_late"], tickets["escalated"]}


def test_admin_lists_without_customer_data_and_searches_by_reference_only(app, team, tickets):
    client = staff_client(app, team["admin"])
    page = client.get("/board/?view=all").get_data(as_text=True)
    assert "Nguyễn Văn An" not in page and "b@example.vn" not in page
    assert listed(client, f"/board/?q={tickets['board']}") == {tickets["board"]}
    response = client.get("/board/?q=leak@example.vn")
    assert response.status_code == 200
    assert references(response.get_data(as_text=True)) == []
    assert "reference only" in response.get_data(as_text=True) or "mã yêu cầu" in response.get_data(as_text=True)


def test_unknown_view_falls_back_to_the_default(app, team, tickets):
    client = staff_client(app, team["care"])
    assert listed(client, "/board/?view=everything") == listed(client, "/board/?view=department")


# --- filters and search --------------------------------------------------------------------------------


def test_filters(app, team, tickets):
    client = staff_client(app, team["board"])
    t = tickets
    assert listed(client, "/board/?view=all&kind=access") == {t["care_other"]}
    assert listed(client, "/board/?view=all&status=resolved") == {t["care_done"]}
    assert listed(client, "/board/?view=all&department=sales") == {t["sales"]}
    assert listed(client, f"/board/?view=all&assignee={team['care2'].id}") == {t["care_other"]}
    assert listed(client, "/board/?view=all&assignee=none") == {t["care_free"], t["care_late"], t["board"]}
    yesterday = (datetime.now(timezone.utc) - timedelta(days=1)).date().isoformat()
    assert listed(client, f"/board/?view=all&due_by={yesterday}") == {t["care_late"], t["escalated"]}
    # Filters combine, and a filter that makes no sense is ignored with a message.
    assert listed(client, "/board/?view=all&kind=access&department=sales") == set()
    response = client.get("/board/?view=all&kind=bogus&due_by=not-a-date")
    assert response.status_code == 200
    assert set(references(response.get_data(as_text=True))) == listed(client, "/board/?view=all")


def test_search_by_reference_email_and_phone(app, team, tickets):
    client = staff_client(app, team["care"])
    t = tickets
    assert listed(client, f"/board/?q={t['care_done']}") == {t["care_done"]}  # finished tickets too
    assert listed(client, f"/board/?q={t['care_done'].lower()}") == {t["care_done"]}
    wrong_year = re.sub(r"KN-\d{4}", "KN-2019", t["care_done"])
    assert listed(client, f"/board/?q={wrong_year}") == set()
    # By the address that filed it, and by the customer's own e-mail contact point.
    assert listed(client, "/board/?q=B@Example.vn") == {t["care_other"]}
    customer_ticket = db.session.scalars(select(Ticket).where(Ticket.requester_email == "khach@example.vn")).one()
    db.session.add(ContactPoint(customer_id=customer_ticket.customer_id, channel="email", kind="company",
                                value="An.Work@Congty.vn", value_normalized="an.work@congty.vn", source="staff"))
    db.session.commit()
    assert listed(client, "/board/?q=an.work@congty.vn") == {t["care_mine"]}
    # By phone, however it is written.
    for phone in ("0903123456", "0903 123 456", "+84 903 123 456", "(090) 312-3456"):
        assert listed(client, f"/board/?q={phone}") == {t["care_mine"]}, phone
    # Only what the member may see: the leak customer's phone finds nothing for care.
    assert listed(client, "/board/?q=0912000111") == set()


def test_unreadable_search_gets_a_clear_message(app, team, tickets):
    client = staff_client(app, team["care"])
    response = client.get("/board/?q=hello+world")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert references(page) == []
    assert "KN-2026-000123" in page  # the message shows what a reference looks like


# --- keyset pagination --------------------------------------------------------------------------------


def make_many(count: int, *, start: datetime | None = None, same_due_every: int = 3) -> list[str]:
    """``count`` care tickets in several unfinished statuses, many with the same deadline."""
    start = start or datetime.now(timezone.utc) - timedelta(days=5)
    statuses = ("new", "open", "waiting")
    made = []
    for number in range(count):
        filed = start + timedelta(hours=number // same_due_every)
        ticket, _ = services.create_ticket(kind="question", body="x", requester_email=f"k{number}@example.vn",
                                           customer_id=None, locale="vi", now=filed)
        ticket.status = statuses[number % 3]
        made.append(ticket)
    db.session.commit()
    return [ticket.reference for ticket in made]


def walk_pages(client, path: str) -> tuple[list[str], int]:
    seen, pages = [], 0
    while path:
        page = client.get(path).get_data(as_text=True)
        pages += 1
        seen += references(page)
        match = re.search(r'href="([^"]+)" rel="next"', page)
        path = unescape(match.group(1)) if match else None
    return seen, pages


@pytest.mark.parametrize("view", ["department", "all", "unassigned"])
def test_keyset_pages_list_every_ticket_exactly_once(app, view):
    pickup_everywhere()
    made = make_many(2 * PAGE_SIZE + 7)
    client = staff_client(app, make_staff("board"))
    query = "&department=care" if view != "department" else ""
    if view == "department":
        db.session.execute(Ticket.__table__.update().values(department="board"))
        db.session.commit()
    seen, pages = walk_pages(client, f"/board/?view={view}{query}")
    assert pages == 3
    assert len(seen) == len(made) and set(seen) == set(made)
    due = {t.id: (t.due_at, t.id) for t in db.session.scalars(select(Ticket))}
    order = [due[int(ref.rsplit("-", 1)[1])] for ref in seen]
    assert order == sorted(order)


def test_bad_cursor_shows_the_first_page_with_a_message(app, team):
    made = make_many(5)
    client = staff_client(app, team["care"])
    for cursor in ("garbage!", "MTIz", encode_cursor(datetime.now(timezone.utc), 1)[:-2] + "**", "x" * 300):
        response = client.get(f"/board/?after={cursor}")
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        assert set(references(page)) == set(made)
        assert 'class="notice notice-error"' in page, cursor


def test_cursor_round_trip_and_validation():
    moment = datetime(2026, 11, 25, 16, 59, 59, 123456, tzinfo=timezone.utc)
    assert decode_cursor(encode_cursor(moment, 42)) == (moment, 42, 0)  # the position's priority rank last
    for bad in ("", "%%%", "MTIz", "YWJjLmRlZg", "x" * 65):
        with pytest.raises(ValueError):
            decode_cursor(bad)


QUEUE_PAGES = ["/board/?view=mine", "/board/?view=department", "/board/?view=unassigned", "/board/?view=overdue",
               "/board/?view=all", "/board/?view=all&kind=question&department=care&due_by=2099-01-01",
               "/board/?q=k1@example.vn", "/board/?q=0903123456", "/board/?view=all&status=any"]


def test_statements_per_queue_page_do_not_grow_with_the_data(app, clock):
    """The issue's figure, counted: a queue page costs the same number of SQL statements with 5
    tickets as with 60 (and with two pages of them)."""
    make_staff("care", email="c1@khoingo.net")
    board = make_staff("board")
    client = staff_client(app, board, clock=clock)

    def measure(paths):
        counts = {}
        for path in paths:
            client.get(path)
            with counted_statements() as statements:
                assert client.get(path).status_code == 200
            counts[path] = len(statements)
        return counts

    make_many(5, start=clock.now() - timedelta(days=20))
    small = measure(QUEUE_PAGES)
    make_many(55, start=clock.now() - timedelta(days=20))
    large = measure(QUEUE_PAGES)
    assert small == large
    assert max(large.values()) <= 6, large
    first_page = client.get("/board/?view=all&status=any").get_data(as_text=True)
    next_link = re.search(r'href="([^"]+)" rel="next"', first_page)
    assert next_link is not None
    page_two = measure([unescape(next_link.group(1))])
    assert list(page_two.values()) == [large["/board/?view=all&status=any"]]


def test_statements_per_ticket_page_do_not_grow_with_the_thread(app, clock):
    customer = make_customer()
    care = make_staff("care")
    ticket = new_ticket(customer=customer, now=clock.now())
    client = staff_client(app, care, clock=clock)
    reference = ticket.reference

    def measure():
        client.get(f"/board/tickets/{reference}")
        with counted_statements() as statements:
            assert client.get(f"/board/tickets/{reference}").status_code == 200
        return len(statements)

    short = measure()
    ticket = db.session.get(Ticket, ticket.id)
    for number in range(20):
        services.add_staff_entry(ticket, db.session.get(type(care), care.id), f"note {number}", False, clock.now())
    db.session.commit()
    assert measure() == short


# --- the ticket page -------------------------------------------------------------------------------------


def test_ticket_page_logs_a_view_of_the_customers_data(app, team, tickets):
    client = staff_client(app, team["care"])
    page = client.get(f"/board/tickets/{tickets['care_mine']}").get_data(as_text=True)
    assert "Nguyễn Văn An" in page and "0903 123 456" in page and "Camera IP 4MP" in page
    views = list(db.session.scalars(select(CustomerDataView)))
    assert len(views) == 1
    ticket = db.session.scalars(select(Ticket).where(Ticket.requester_email == "khach@example.vn")).one()
    assert (views[0].staff_id, views[0].customer_id, views[0].ticket_id) == (team["care"].id, ticket.customer_id,
                                                                            ticket.id)
    # The access log is the record of views: they are not repeated in the audit log.
    assert not db.session.scalars(select(AuditRecord).where(AuditRecord.action == "customer.viewed")).all()
    # A ticket without a customer record shows no customer data and logs nothing.
    client.get(f"/board/tickets/{tickets['care_free']}")
    assert db.session.scalar(select(func.count()).select_from(CustomerDataView)) == 1


def test_admin_sees_routing_and_events_but_no_messages_or_customer_data(app, team, tickets):
    client = staff_client(app, team["admin"])
    response = client.get(f"/board/tickets/{tickets['care_mine']}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Xin chào" not in page  # the customer's message
    assert "Nguyễn Văn An" not in page and "khach@example.vn" not in page and "0903 123 456" not in page
    assert 'name="reply-message"' not in page and 'name="update-status"' not in page
    assert 'name="update-department"' in page
    assert 'class="thread-event"' in page
    assert db.session.scalar(select(func.count()).select_from(CustomerDataView)) == 0
    assert post_on_ticket(client, tickets["care_mine"], "reply", page=page, message="hello").status_code == 404
    # Admin may route: move the ticket to sales.
    response = post_on_ticket(client, tickets["care_mine"], "update", page=page, department="sales", assignee="")
    assert response.status_code == 303
    assert db.session.scalars(select(Ticket).where(Ticket.requester_email == "khach@example.vn")).one().department \
        == "sales"


def test_reply_is_emailed_and_an_internal_note_is_not(app, team, tickets):
    client = staff_client(app, team["care"])
    reference = tickets["care_mine"]
    before = len(outbox("khach@example.vn"))
    response = post_on_ticket(client, reference, "reply", message="Chúng tôi đã nhận yêu cầu.", visibility="public")
    assert response.status_code == 303
    mails = outbox("khach@example.vn")
    assert len(mails) == before + 1 and "Chúng tôi đã nhận yêu cầu." in mails[-1].body_text
    response = post_on_ticket(client, reference, "reply", message="Khách hàng khó tính, gọi lại sau.",
                              visibility="internal")
    assert response.status_code == 303
    assert len(outbox("khach@example.vn")) == before + 1
    page = client.get(f"/board/tickets/{reference}").get_data(as_text=True)
    note = page.split("Khách hàng khó tính", 1)[0].rsplit("<li", 1)[1]
    assert "internal" in note  # marked as internal in the thread
    ticket = db.session.scalars(select(Ticket).where(Ticket.requester_email == "khach@example.vn")).one()
    assert ticket.status == "open" and ticket.first_response_at is not None


def test_same_reply_posted_twice_is_stored_once(app, team, tickets):
    client = staff_client(app, team["care"])
    reference = tickets["care_mine"]
    page = client.get(f"/board/tickets/{reference}").get_data(as_text=True)
    first = post_on_ticket(client, reference, "reply", page=page, message="Một lần thôi.", visibility="public")
    second = post_on_ticket(client, reference, "reply", page=page, message="Một lần thôi.", visibility="public")
    assert first.status_code == second.status_code == 303
    replies = db.session.scalars(select(TicketEntry).where(TicketEntry.kind == "staff_reply")).all()
    assert len(replies) == 1
    assert len([m for m in outbox("khach@example.vn") if "Một lần thôi." in m.body_text]) == 1


def test_colleagues_change_is_not_overwritten_and_the_typed_text_is_kept(app, team, tickets):
    reference = tickets["care_mine"]
    mine, colleague = staff_client(app, team["care"]), staff_client(app, team["care2"])
    page = mine.get(f"/board/tickets/{reference}").get_data(as_text=True)
    # The colleague sets the request to "waiting on the customer" meanwhile.
    assert post_on_ticket(colleague, reference, "update", status="waiting", assignee=str(team["care"].id),
                          department="care").status_code == 303
    typed = "Lý do tôi đã gõ rất dài & cẩn thận"
    response = post_on_ticket(mine, reference, "update", page=page, status="rejected", reason=typed,
                              assignee=str(team["care"].id), department="care")
    assert response.status_code == 409
    text = response.get_data(as_text=True)
    assert "Lý do tôi đã gõ rất dài &amp; cẩn thận" in text
    assert re.search(r'<option selected value="waiting">', text)  # the current state
    ticket = db.session.scalars(select(Ticket).where(Ticket.requester_email == "khach@example.vn")).one()
    assert ticket.status == "waiting" and ticket.outcome_reason is None
    assert f'name="update-version" type="hidden" value="{ticket.version}"' in text
    # Sending again from the refreshed page applies it.
    response = post_on_ticket(mine, reference, "update", page=text, status="rejected", reason=typed,
                              assignee=str(team["care"].id), department="care")
    assert response.status_code == 303
    db.session.refresh(ticket)
    assert ticket.status == "rejected" and ticket.outcome_reason == typed


def test_public_reply_on_a_changed_ticket_is_held_back_with_the_text_kept(app, team, tickets):
    reference = tickets["care_mine"]
    client = staff_client(app, team["care"])
    page = client.get(f"/board/tickets/{reference}").get_data(as_text=True)
    ticket = db.session.scalars(select(Ticket).where(Ticket.requester_email == "khach@example.vn")).one()
    services.add_customer_message(ticket, "Tôi bổ sung thông tin mới.", datetime.now(timezone.utc))
    db.session.commit()
    response = post_on_ticket(client, reference, "reply", page=page, message="Câu trả lời của tôi", visibility="public")
    assert response.status_code == 409
    text = response.get_data(as_text=True)
    assert "Câu trả lời của tôi" in text and "Tôi bổ sung thông tin mới." in text
    replies = select(func.count()).select_from(TicketEntry).where(TicketEntry.kind == "staff_reply")
    assert db.session.scalar(replies) == 0


def test_rule_errors_are_shown_and_change_nothing(app, team, tickets):
    client = staff_client(app, team["care"])
    reference = tickets["care_mine"]
    response = post_on_ticket(client, reference, "update", status="rejected", reason="  ",
                              assignee=str(team["care"].id), department="care")
    assert response.status_code == 409
    assert "role=\"alert\"" in response.get_data(as_text=True)
    ticket = db.session.scalars(select(Ticket).where(Ticket.requester_email == "khach@example.vn")).one()
    assert ticket.status == "new"
    # A status change and a bad assignee at once: the whole change is refused.
    response = post_on_ticket(client, reference, "update", status="waiting", assignee=str(team["sales"].id),
                              department="care")
    assert response.status_code == 400  # not one of the choices for a care ticket
    db.session.refresh(ticket)
    assert ticket.status == "new"


def test_extension_once_with_reason_emailed(app, team, tickets):
    client = staff_client(app, team["care"])
    reference = tickets["care_mine"]
    ticket = db.session.scalars(select(Ticket).where(Ticket.requester_email == "khach@example.vn")).one()
    old_due = ticket.due_at
    response = post_on_ticket(client, reference, "extend", days="11", reason="Cần bên thứ ba xác minh.")
    assert response.status_code == 409 and "10" in response.get_data(as_text=True)
    response = post_on_ticket(client, reference, "extend", days="5", reason="Cần bên thứ ba xác minh.")
    assert response.status_code == 303
    db.session.refresh(ticket)
    assert ticket.due_at > old_due and ticket.extended_at is not None
    assert any("Cần bên thứ ba xác minh." in m.body_text for m in outbox("khach@example.vn"))
    page = client.get(f"/board/tickets/{reference}").get_data(as_text=True)
    assert 'name="extend-days"' not in page  # once only


def test_take_an_unassigned_ticket(app, team, tickets):
    client = staff_client(app, team["care2"])
    reference = tickets["care_free"]
    page = client.get(f"/board/tickets/{reference}").get_data(as_text=True)
    assert f'action="/board/tickets/{reference}/take"' in page
    assert post_on_ticket(client, reference, "take", page=page).status_code == 303
    ticket = db.session.scalars(select(Ticket).where(Ticket.requester_email == "c@example.vn")).one()
    assert ticket.assignee_id == team["care2"].id
    assert f'action="/board/tickets/{reference}/take"' not in client.get(f"/board/tickets/{reference}").get_data(
        as_text=True)


def test_two_members_take_at_once_and_exactly_one_wins(app, team, tickets):
    reference = tickets["board"]
    members = [team["board"], make_staff("board", email="board2@khoingo.net", name="Thành viên Hai")]
    clients = [staff_client(app, member) for member in members]
    pages = [client.get(f"/board/tickets/{reference}").get_data(as_text=True) for client in clients]
    barrier = threading.Barrier(2)
    results = [None, None]

    def press(number):
        data = hidden_fields(pages[number], "take")
        barrier.wait()
        results[number] = clients[number].post(f"/board/tickets/{reference}/take", data=data)

    threads = [threading.Thread(target=press, args=(number,)) for number in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [r.status_code for r in results] == [303, 303]
    ticket = db.session.scalars(select(Ticket).where(Ticket.kind == "leak_complaint")).one()
    assert ticket.assignee_id in {member.id for member in members}
    taken = db.session.scalars(select(TicketEntry).where(TicketEntry.ticket_id == ticket.id,
                                                         TicketEntry.event == "assigned")).all()
    assert len(taken) == 1
    loser = clients[0] if ticket.assignee_id == members[1].id else clients[1]
    assert "notice-error" in loser.get(f"/board/tickets/{reference}").get_data(as_text=True)


def test_link_a_ticket_to_a_customer_record(app, team, tickets):
    client = staff_client(app, team["care"])
    reference = tickets["care_free"]
    customer = make_customer("c.real@example.vn", "Đinh Thị Cúc")
    response = post_on_ticket(client, reference, "link", customer_id="999999", contact="c.real@example.vn")
    assert response.status_code == 400
    # A right number with a detail that is not on that record (a typo, a guess) opens nothing.
    other = make_customer("someone.else@example.vn", "Người Khác", order="DH-2026-77777")
    for wrong in ("someone.else@example.vn", "0912 000 000", ""):
        response = post_on_ticket(client, reference, "link", customer_id=str(customer.id), contact=wrong)
        assert response.status_code == 400
        response = post_on_ticket(client, reference, "link", customer_id=str(other.id), contact="c.real@example.vn")
        assert response.status_code == 400
    assert db.session.scalars(select(CustomerDataView)).all() == []
    # The phone as the customer says it, in any usual form, or the e-mail address in any case.
    response = post_on_ticket(client, reference, "link", customer_id=str(customer.id), contact="+84 903 123 456")
    assert response.status_code == 303
    page = client.get(f"/board/tickets/{reference}").get_data(as_text=True)
    assert "Đinh Thị Cúc" in page and 'name="link-customer_id"' not in page
    assert db.session.scalars(select(CustomerDataView)).one().customer_id == customer.id


def test_moving_a_ticket_out_of_ones_department_goes_back_to_the_queue(app, team, tickets):
    client = staff_client(app, team["care"])
    response = post_on_ticket(client, tickets["care_free"], "update", status="new", assignee="", department="sales")
    assert response.status_code == 303 and response.headers["Location"].endswith("/board/")
    assert client.get(f"/board/tickets/{tickets['care_free']}").status_code == 404


def test_posts_without_csrf_token_are_refused(app, team, tickets):
    client = staff_client(app, team["care"])
    reference = tickets["care_mine"]
    for action, data in (("reply", {"reply-message": "hello", "reply-visibility": "public"}),
                         ("update", {"update-status": "resolved"}), ("take", {}),
                         ("extend", {"extend-days": "3", "extend-reason": "why"})):
        assert client.post(f"/board/tickets/{reference}/{action}", data=data).status_code == 400
    assert db.session.scalar(select(func.count()).select_from(TicketEntry).where(
        TicketEntry.kind.in_(("staff_reply", "internal_note")))) == 0


def test_xss_in_every_text_field_is_shown_as_text(app, team):
    pickup_everywhere()
    customer = make_customer(name=XSS, notes=XSS, address=XSS)
    ticket = new_ticket(customer=customer, body=XSS)
    reference = ticket.reference
    client = staff_client(app, make_staff("care", email="xss@khoingo.net", name=XSS))
    assert post_on_ticket(client, reference, "reply", message=XSS, visibility="public").status_code == 303
    assert post_on_ticket(client, reference, "reply", message=XSS, visibility="internal").status_code == 303
    assert post_on_ticket(client, reference, "extend", days="2", reason=XSS).status_code == 303
    assert post_on_ticket(client, reference, "update", status="rejected", reason=XSS, assignee="",
                          department="care").status_code == 303
    pages = [client.get(f"/board/tickets/{reference}").get_data(as_text=True),
             client.get("/board/?view=all&status=any").get_data(as_text=True),
             client.get(f"/board/?q={XSS}").get_data(as_text=True)]
    for page in pages:
        assert "<script>" not in page and "<img src=x" not in page
    assert pages[0].count("&lt;script&gt;") >= 5


@pytest.mark.parametrize("path", ["/board/", "/board/tickets/KN-2026-000001", "/board/dashboard", "/board/settings"])
def test_board_pages_need_a_signed_in_staff_member(client, path):
    response = client.get(path)
    assert response.status_code == 302 and "/staff/sign-in" in response.headers["Location"]


def test_malformed_references_are_not_found(app, team, tickets):
    client = staff_client(app, team["board"])
    real = tickets["care_mine"]
    for reference in ("KN-2026-99999999", "nonsense", real.replace("KN-", "KN-1"), real.lower() + "x",
                      re.sub(r"KN-\d{4}", "KN-2000", real)):
        assert client.get(f"/board/tickets/{reference}").status_code == 404, reference


def test_statuses_and_clocks_are_shown_in_vietnam_time(app, team, clock):
    pickup_everywhere()
    # Filed Wednesday 25 November 2026 at 20:00 in Ho Chi Minh City (13:00 UTC).
    clock.current = datetime(2026, 11, 25, 13, 0, tzinfo=timezone.utc)
    ticket = new_ticket(now=clock.now())
    client = staff_client(app, team["care"], clock=clock)
    page = client.get(f"/board/tickets/{ticket.reference}").get_data(as_text=True)
    times = re.findall(r'<time datetime="[^"]+">([^<]+)</time>', page)
    assert re.match(r"20:00 25/11/(20)?26", times[0])  # filed, in local time
    assert re.match(r"23:59 27/11/(20)?26", times[1])  # acknowledgement: two working days, end of the local day
    assert re.match(r"23:59 0?5/12/(20)?26", times[2])  # answer due: ten calendar days
    clock.current = datetime(2026, 12, 6, 3, 0, tzinfo=timezone.utc)
    client = staff_client(app, team["care"], clock=clock)
    page = client.get(f"/board/tickets/{ticket.reference}").get_data(as_text=True)
    assert page.count("clock-late") == 2


def test_queue_marks_late_clocks(app, team, tickets):
    client = staff_client(app, team["care"])
    page = client.get("/board/?view=overdue").get_data(as_text=True)
    assert "clock-late" in page


def test_outbox_rows_come_only_from_committed_changes(app, team, tickets):
    client = staff_client(app, team["care"])
    before = db.session.scalar(select(func.count()).select_from(OutboxMessage))
    post_on_ticket(client, tickets["care_mine"], "update", status="rejected", reason="",
                   assignee=str(team["care"].id), department="care")
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == before
