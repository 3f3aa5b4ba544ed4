"""The staff's way through: told when a customer replies or reopens, "customer replied" in the
queues, a start page with each member's work, queues in order of priority then due date (items 16),
and risky actions that say what they do: the reply's two buttons, a deactivation to confirm, no
acknowledgement date once answered (17)."""

from __future__ import annotations

import base64
import json
import re
from datetime import timedelta
from html import unescape

import pytest
from flask_babel import force_locale
from flask_babel import gettext as babel_gettext
from sqlalchemy import func, select, text

from portal.audit.models import CustomerDataView
from portal.db import db
from portal.enums import Priority, TicketStatus
from portal.staff.models import StaffMember
from portal.tickets import services
from portal.tickets.board import queries
from portal.tickets.board.queries import PAGE_SIZE, Position, QueueQuery, encode_cursor
from portal.tickets.models import Ticket, TicketEntry
from tests.factories import make_customer, make_staff, new_ticket, pickup_everywhere
from tests.helpers import ON_POSTGRESQL, csrf_token, outbox, sign_in, staff_client

LISTED = re.compile(r">(KN-\d{4}-\d{6})</a>")  # a reference as a link's text
HIDDEN = re.compile(r'name="([\w-]+)" type="hidden" value="([^"]*)"')


# --- helpers ---------------------------------------------------------------------------------------


def english_member(role: str, email: str, name: str, **changes) -> StaffMember:
    member = make_staff(role, email=email, name=name)
    member.preferred_locale = "en"
    for key, value in changes.items():
        setattr(member, key, value)
    db.session.commit()
    return member


def customer_replies(app, email: str, reference: str, message: str):
    """The customer signs in by link, opens the request and sends ``message``."""
    client = app.test_client()
    sign_in(client, email)
    page = client.get(f"/requests/{reference}").get_data(as_text=True)
    fields = dict(HIDDEN.findall(page))
    response = client.post(f"/requests/{reference}/reply", data={**fields, "message": message})
    assert response.status_code == 303, response.get_data(as_text=True)
    return client


def fresh(ticket: Ticket) -> Ticket:
    db.session.expire_all()
    return db.session.get(Ticket, ticket.id)


def references(page: str) -> list[str]:
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in page else page
    return re.findall(r'href="/board/tickets/(KN-\d{4}-\d{6})"', body)


def row_of(page: str, reference: str) -> str:
    return next(row for row in re.findall(r"<tr>.*?</tr>", page, re.S) if f">{reference}</a>" in row)


@pytest.fixture
def care_team(app):
    """Two care members (the first and second), an inactive one, a sales and a board member."""
    pickup_everywhere()
    return {
        "lan": english_member("care", "lan@khoingo.net", "Lan Care"),
        "minh": english_member("care", "minh@khoingo.net", "Minh Care"),
        "gone": english_member("care", "gone@khoingo.net", "Gone Care", is_active=False),
        "sales": english_member("sales", "sales@khoingo.net", "Sales Person"),
        "board": english_member("board", "board@khoingo.net", "Board Person"),
    }


@pytest.fixture
def an(app):
    return make_customer("an@example.vn", "Nguyễn Văn An", order="DH-AN")


# --- 16: staff are told when a customer writes ----------------------------------------------------


def test_a_customer_reply_is_emailed_to_the_assignee_only(app, clock, care_team, an):
    ticket = new_ticket(customer=an, email="an@example.vn", now=clock.now(), assignee_id=care_team["lan"].id)
    before = len(outbox())
    customer_replies(app, "an@example.vn", ticket.reference, "Tôi gửi thêm hoá đơn số 77 (riêng tư).")
    sent = outbox()[before:]
    (mail,) = [message for message in sent if message.recipient.endswith("@khoingo.net")]
    assert mail.recipient == "lan@khoingo.net" and mail.purpose == "ticket_customer_wrote"
    assert mail.subject == f"The customer replied: {ticket.reference}"
    assert "Hello Lan Care," in mail.body_text and f"/board/tickets/{ticket.reference}" in mail.body_text
    assert "hoá đơn số 77" not in mail.body_text and "hoá đơn số 77" not in mail.body_html
    assert "Nguyễn Văn An" not in mail.body_text and "an@example.vn" not in mail.body_text


def test_an_unassigned_ticket_tells_every_active_member_of_its_department(app, clock, care_team, an):
    ticket = new_ticket(customer=an, email="an@example.vn", now=clock.now())
    before = len(outbox())
    customer_replies(app, "an@example.vn", ticket.reference, "Có ai đọc không?")
    told = sorted(message.recipient for message in outbox()[before:] if message.recipient.endswith("@khoingo.net"))
    assert told == ["lan@khoingo.net", "minh@khoingo.net"]
    assert "take it from your department's queue" in outbox("lan@khoingo.net")[-1].body_text


def test_an_assignee_who_can_no_longer_sign_in_means_the_department_is_told(app, clock, care_team, an):
    ticket = new_ticket(customer=an, email="an@example.vn", now=clock.now(), assignee_id=care_team["gone"].id)
    before = len(outbox())
    customer_replies(app, "an@example.vn", ticket.reference, "Xin trả lời giúp.")
    told = sorted(message.recipient for message in outbox()[before:] if message.recipient.endswith("@khoingo.net"))
    assert told == ["lan@khoingo.net", "minh@khoingo.net"]


def test_a_reply_to_a_finished_request_reopens_it_and_the_assignee_is_told_so(app, clock, care_team, an):
    ticket = new_ticket(customer=an, email="an@example.vn", now=clock.now(), assignee_id=care_team["lan"].id)
    services.change_status(fresh(ticket), db.session.get(StaffMember, care_team["lan"].id), TicketStatus.RESOLVED,
                           clock.now())
    db.session.commit()
    customer_replies(app, "an@example.vn", ticket.reference, "Vẫn chưa xong, camera vẫn lỗi.")
    assert fresh(ticket).status is TicketStatus.OPEN
    mail = outbox("lan@khoingo.net")[-1]
    assert mail.subject == f"Reopened by the customer: {ticket.reference}"
    assert "which was finished: it is open again" in mail.body_text


def test_staff_e_mails_are_in_the_members_language(app, clock, an):
    pickup_everywhere()
    member = make_staff("care", email="vi@khoingo.net", name="Thảo")  # no choice made: Vietnamese
    ticket = new_ticket(customer=an, email="an@example.vn", now=clock.now(), assignee_id=member.id)
    customer_replies(app, "an@example.vn", ticket.reference, "Cảm ơn.")
    with app.test_request_context(), force_locale("vi"):
        subject = babel_gettext("The customer replied: %(reference)s", reference=ticket.reference)
    assert subject != f"The customer replied: {ticket.reference}"
    assert outbox("vi@khoingo.net")[-1].subject == subject


def test_the_queue_shows_customer_replied_until_someone_answers(app, clock, care_team, an):
    ticket = new_ticket(customer=an, email="an@example.vn", now=clock.now(), assignee_id=care_team["lan"].id)
    other = new_ticket("access", customer=an, email="an@example.vn", now=clock.now(), assignee_id=care_team["lan"].id)
    lan = staff_client(app, care_team["lan"], clock, in_english=True)

    def replied(reference: str) -> bool:
        page = lan.get("/board/?view=mine").get_data(as_text=True)
        return "Customer replied" in row_of(page, reference)

    assert not replied(ticket.reference)
    customer_replies(app, "an@example.vn", ticket.reference, "Thêm thông tin.")
    assert replied(ticket.reference) and not replied(other.reference)
    assert "Customer replied" in lan.get(f"/board/tickets/{ticket.reference}").get_data(as_text=True)

    member = db.session.get(StaffMember, care_team["lan"].id)
    services.add_staff_entry(fresh(ticket), member, "Ghi chú nội bộ", False, clock.now())  # a note answers nobody
    db.session.commit()
    assert replied(ticket.reference)
    services.add_staff_entry(fresh(ticket), member, "Chúng tôi đã nhận.", True, clock.now())
    db.session.commit()
    assert not replied(ticket.reference) and fresh(ticket).customer_replied_at is None

    customer_replies(app, "an@example.vn", ticket.reference, "Còn một việc nữa.")
    assert replied(ticket.reference)
    services.change_status(fresh(ticket), member, TicketStatus.RESOLVED, clock.now())  # the outcome answers
    db.session.commit()
    assert fresh(ticket).customer_replied_at is None


# --- 16: each member's start page ------------------------------------------------------------------


def test_the_start_page_lists_a_members_work_most_urgent_first(app, clock, care_team, an):
    lan = care_team["lan"]
    now = clock.now()
    later = new_ticket(customer=an, email="an@example.vn", now=now, assignee_id=lan.id)
    sooner = new_ticket("access", customer=an, email="an@example.vn", now=now, assignee_id=lan.id,
                        due_at=later.due_at - timedelta(days=3))
    urgent = new_ticket("correction", customer=an, email="an@example.vn", now=now, assignee_id=lan.id,
                        priority=Priority.HIGH)
    colleagues = new_ticket("erasure", customer=an, email="an@example.vn", now=now, assignee_id=care_team["minh"].id)
    waiting = new_ticket("restriction", email="la@example.vn", now=now)  # unassigned, care
    sales = new_ticket("other", email="la2@example.vn", now=now, department="sales")
    customer_replies(app, "an@example.vn", later.reference, "Tôi trả lời đây.")

    client = staff_client(app, lan, clock, in_english=True)
    page = client.get("/staff/").get_data(as_text=True)
    sections = dict(re.findall(r'<h2 id="h-work-(\w+)">.*?</h2>(.*?)</section>', page, re.S))
    assert set(sections) == {"replied", "mine", "unassigned"}
    assert LISTED.findall(sections["replied"]) == [later.reference]
    assert LISTED.findall(sections["mine"]) == [urgent.reference, sooner.reference, later.reference]
    assert LISTED.findall(sections["unassigned"]) == [waiting.reference]
    assert colleagues.reference not in page and sales.reference not in page
    assert 'href="/board/?view=mine"' in page and 'href="/board/?view=unassigned"' in page
    # No customer's data on the start page, so showing it logs nothing.
    assert "Nguyễn Văn An" not in page and "an@example.vn" not in page and "la@example.vn" not in page
    assert db.session.scalars(select(CustomerDataView)).all() == []

    # The unassigned ticket whose customer wrote is waiting for the department, and says so.
    waiting_customer = make_customer("la@example.vn", "Lạ Mặt", order="DH-LA")
    fresh(waiting).customer_id = waiting_customer.id
    db.session.commit()
    customer_replies(app, "la@example.vn", waiting.reference, "Có ai không?")
    page = client.get("/staff/").get_data(as_text=True)
    replied = re.search(r'<h2 id="h-work-replied">.*?</section>', page, re.S).group(0)
    assert LISTED.findall(replied) == [later.reference, waiting.reference]


def test_the_administrators_start_page_shows_what_waits_for_routing_and_no_customer(app, clock, care_team, an):
    admin = english_member("admin", "admin@khoingo.net", "Admin Person")
    unassigned = new_ticket(customer=an, email="an@example.vn", now=clock.now())
    late = new_ticket("access", customer=an, email="an@example.vn", now=clock.now() - timedelta(days=40),
                      assignee_id=care_team["lan"].id)
    page = staff_client(app, admin, clock, in_english=True).get("/staff/").get_data(as_text=True)
    sections = dict(re.findall(r'<h2 id="h-work-(\w+)">.*?</h2>(.*?)</section>', page, re.S))
    assert set(sections) == {"unassigned", "overdue"}
    assert unassigned.reference in sections["unassigned"] and late.reference in sections["overdue"]
    assert "Nguyễn Văn An" not in page and "an@example.vn" not in page
    assert 'href="/staff/admin/members"' in page


# --- 16: priority first, then due date --------------------------------------------------------------


def test_queues_list_high_priority_first_then_by_due_date_across_pages(app, clock):
    """Seventy care tickets in three statuses, 26 of them high priority, their due dates mixed with
    the others'. The department queue lists the 26 first, by due date, then the rest by due date;
    the second page continues exactly where the first stopped."""
    pickup_everywhere()
    start = clock.now() - timedelta(days=5)
    made = []
    for number in range(70):
        ticket, _ = services.create_ticket(kind="question", body="x", requester_email=f"k{number}@example.vn",
                                           customer_id=None, locale="vi", now=start + timedelta(hours=number % 23))
        ticket.priority = Priority.HIGH if number % 7 in (0, 3) or number >= 62 else Priority.NORMAL
        ticket.status = ("new", "open", "waiting")[number % 3]
        made.append(ticket)
    db.session.commit()
    expected = [ticket.reference for ticket in sorted(
        made, key=lambda ticket: (ticket.priority is not Priority.HIGH, ticket.due_at, ticket.id))]
    assert sum(ticket.priority is Priority.HIGH for ticket in made) == 26
    care = make_staff("care")
    client = staff_client(app, care, clock, in_english=True)

    first = client.get("/board/?view=department").get_data(as_text=True)
    assert references(first) == expected[:PAGE_SIZE]
    next_link = unescape(re.search(r'href="([^"]+)" rel="next"', first).group(1))
    second = client.get(next_link).get_data(as_text=True)
    assert references(second) == expected[PAGE_SIZE:]
    assert 'rel="next"' not in second
    assert "High priority first, then by due date." in first


def test_a_cursor_from_before_the_priority_order_starts_again_from_the_first_page(app, clock):
    pickup_everywhere()
    new_ticket(now=clock.now())
    client = staff_client(app, make_staff("care"), clock, in_english=True)
    old = base64.urlsafe_b64encode(b"1700000000000000.5").decode().rstrip("=")  # (due date, id): no rank
    page = client.get(f"/board/?view=department&after={old}").get_data(as_text=True)
    assert "That page link is not valid" in page and len(references(page)) == 1
    rank_out_of_range = encode_cursor(clock.now(), 5, rank=len(queries.PRIORITY_ORDER))
    assert "That page link is not valid" in client.get(f"/board/?after={rank_out_of_range}").get_data(as_text=True)


def _sqlite_branches_sort_nothing(plan) -> list[str]:
    """The index each branch of a page searches, from SQLite's EXPLAIN QUERY PLAN rows (id, parent,
    _, detail), checking that no branch sorts its own rows."""
    coroutines = {row[0] for row in plan if row[3].startswith("CO-ROUTINE branch_")}
    assert coroutines, plan
    assert not [row for row in plan if row[1] in coroutines and "TEMP B-TREE" in row[3]], plan
    return [row[3] for row in plan if row[1] in coroutines]


def _postgresql_branches_sort_nothing(plan: dict) -> list[str]:
    """The same from PostgreSQL's JSON plan: every Limit over the tickets table reads an index in
    order (no Sort between them)."""
    found = []

    def walk(node):
        children = node.get("Plans", [])
        if node["Node Type"] == "Limit" and children and children[0].get("Relation Name") == "tickets":
            assert children[0]["Node Type"] in ("Index Scan", "Index Only Scan"), plan
            found.append(f'{children[0]["Index Name"]} {children[0].get("Index Cond", "")}')
        for child in children:
            walk(child)

    walk(plan["Plan"])
    return found


@pytest.mark.parametrize("view, index", [("department", "ix_tickets_queue"), ("mine", "ix_tickets_assignee"),
                                         ("all", "ix_tickets_status_due"), ("overdue", "ix_tickets_queue")])
def test_each_branch_of_a_queue_page_reads_an_index_in_order(app, clock, view, index):
    """The order (priority, due date, id) costs no sort per branch: an index whose columns run
    (…, status, priority, due_at, id) serves it, from the cursor on."""
    member = make_staff("board" if view == "all" else "care")
    for after in (None, Position(clock.now(), 7, 0), Position(clock.now(), 7, 1)):
        query = QueueQuery(view=view, now=clock.now(), after=after)
        statement = queries.page_statement(member, query).compile(db.engine, compile_kwargs={"literal_binds": True})
        if ON_POSTGRESQL:
            db.session.execute(text("SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off"))
            plan = db.session.execute(text(f"EXPLAIN (FORMAT JSON) {statement}")).scalar()
            plan = json.loads(plan) if isinstance(plan, str) else plan
            searches = _postgresql_branches_sort_nothing(plan[0])
        else:
            searches = _sqlite_branches_sort_nothing(db.session.execute(text(f"EXPLAIN QUERY PLAN {statement}")).all())
        db.session.rollback()
        high_pruned = after is not None and after.rank == 1
        assert len(searches) == (3 if view != "overdue" else 6) * (1 if high_pruned else 2), searches
        assert all("priority" in search and "ix_tickets_" in search for search in searches), searches
        if not ON_POSTGRESQL:  # which of the indexes PostgreSQL picks depends on statistics empty tables lack
            assert any(index in search for search in searches), searches


# --- 17: the reply says what it does -----------------------------------------------------------------


def test_the_reply_form_has_a_button_for_each_thing_it_can_do(app, clock, care_team, an):
    ticket = new_ticket(customer=an, email="an@example.vn", now=clock.now(), assignee_id=care_team["lan"].id)
    lan = staff_client(app, care_team["lan"], clock, in_english=True)
    page = lan.get(f"/board/tickets/{ticket.reference}").get_data(as_text=True)
    form = re.search(r'<section aria-labelledby="h-reply".*?</section>', page, re.S).group(0)
    buttons = re.findall(r'<button type="submit" name="reply-visibility" value="(\w+)"[^>]*>([^<]+)</button>', form)
    assert buttons == [("public", "Send to the customer by e-mail"), ("internal", "Add as internal note (staff only)")]
    assert ">Save<" not in form and "<select" not in form
    assert "E-mailed to an@example.vn and shown on their request page." in form
    assert "Not e-mailed: the customer never sees an internal note." in form


def test_each_button_does_what_it_says(app, clock, care_team, an):
    ticket = new_ticket(customer=an, email="an@example.vn", now=clock.now(), assignee_id=care_team["lan"].id)
    client = staff_client(app, care_team["lan"], clock, in_english=True)

    def press(button: str, message: str):
        page = client.get(f"/board/tickets/{ticket.reference}").get_data(as_text=True)
        fields = {name: value for name, value in HIDDEN.findall(page) if name.startswith("reply-")}
        return client.post(f"/board/tickets/{ticket.reference}/reply",
                           data={**fields, "reply-message": message, "reply-visibility": button})

    before = len(outbox("an@example.vn"))
    assert press("internal", "Chỉ nội bộ: khách đã gọi").status_code == 303
    assert len(outbox("an@example.vn")) == before
    assert press("public", "Chúng tôi đã kiểm tra xong.").status_code == 303
    assert outbox("an@example.vn")[-1].purpose == "ticket_ticket_reply"
    kinds = [entry.kind for entry in db.session.scalars(select(TicketEntry).where(
        TicketEntry.ticket_id == ticket.id, TicketEntry.kind != "event").order_by(TicketEntry.id))]
    assert [str(kind) for kind in kinds] == ["customer_message", "internal_note", "staff_reply"]


def test_a_reply_posted_without_choosing_is_refused_and_the_text_kept(app, clock, care_team, an):
    ticket = new_ticket(customer=an, email="an@example.vn", now=clock.now(), assignee_id=care_team["lan"].id)
    client = staff_client(app, care_team["lan"], clock, in_english=True)
    page = client.get(f"/board/tickets/{ticket.reference}").get_data(as_text=True)
    fields = {name: value for name, value in HIDDEN.findall(page) if name.startswith("reply-")}
    entries = db.session.scalar(select(func.count()).select_from(TicketEntry))
    mails = len(outbox())
    for missing in ({}, {"reply-visibility": "everyone"}):
        response = client.post(f"/board/tickets/{ticket.reference}/reply",
                               data={**fields, "reply-message": "Bản nháp quan trọng", **missing})
        assert response.status_code == 400
        answer = response.get_data(as_text=True)
        assert "Choose what to do with your text: send it to the customer, or add it as an internal note." in answer
        assert "Bản nháp quan trọng" in answer
    assert db.session.scalar(select(func.count()).select_from(TicketEntry)) == entries
    assert len(outbox()) == mails


# --- 17: deactivating a member is confirmed -------------------------------------------------------------


def test_deactivating_a_member_asks_for_confirmation_first(app, clock):
    admin = english_member("admin", "admin@khoingo.net", "Admin Person")
    member = english_member("care", "lan@khoingo.net", "Lan Care")
    client = staff_client(app, admin, clock, in_english=True)
    page = client.get(f"/staff/admin/members/{member.id}").get_data(as_text=True)
    assert f'action="/staff/admin/members/{member.id}/deactivate"' not in page  # no one-click form
    assert re.search(rf'<a class="button button-secondary" href="/staff/admin/members/{member.id}/deactivate">'
                     r"Deactivate…</a>", page)

    confirm = client.get(f"/staff/admin/members/{member.id}/deactivate")
    assert confirm.status_code == 200
    page = confirm.get_data(as_text=True)
    assert "<h1>Deactivate Lan Care?</h1>" in page
    assert "will be signed out everywhere at once" in page and "lan@khoingo.net" in page
    assert re.search(r'<button type="submit" class="button button-danger">Yes, deactivate Lan Care</button>', page)
    assert f'href="/staff/admin/members/{member.id}">Cancel: keep the account active</a>' in page
    db.session.expire_all()
    assert db.session.get(StaffMember, member.id).is_active  # asking changes nothing

    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post(f"/staff/admin/members/{member.id}/deactivate", data={"csrf_token": token})
    assert response.status_code == 303
    db.session.expire_all()
    assert not db.session.get(StaffMember, member.id).is_active
    # Asking again about a member already deactivated leads back to their page.
    response = client.get(f"/staff/admin/members/{member.id}/deactivate")
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/staff/admin/members/{member.id}")


def test_deactivating_oneself_is_said_plainly_and_others_cannot_ask(app, clock):
    admin = english_member("admin", "admin@khoingo.net", "Admin Person")
    english_member("admin", "admin2@khoingo.net", "Other Admin")
    client = staff_client(app, admin, clock, in_english=True)
    page = client.get(f"/staff/admin/members/{admin.id}/deactivate").get_data(as_text=True)
    assert "This is your own account: you will be signed out now." in page
    care = staff_client(app, english_member("care", "lan@khoingo.net", "Lan Care"), clock, in_english=True)
    assert care.get(f"/staff/admin/members/{admin.id}/deactivate").status_code == 404


# --- 17: the acknowledgement date goes once the customer is answered ----------------------------------


def test_no_acknowledgement_date_is_shown_once_the_customer_is_answered(app, clock, care_team, an):
    ticket = new_ticket(customer=an, email="an@example.vn", now=clock.now(), assignee_id=care_team["lan"].id)
    customer = app.test_client()
    sign_in(customer, "an@example.vn")
    with customer.session_transaction() as browser_session:
        browser_session["locale"] = "en"
    staff = staff_client(app, care_team["lan"], clock, in_english=True)
    assert "We confirm it by" in customer.get(f"/requests/{ticket.reference}").get_data(as_text=True)
    assert "Acknowledge by" in staff.get(f"/board/tickets/{ticket.reference}").get_data(as_text=True)

    services.add_staff_entry(fresh(ticket), db.session.get(StaffMember, care_team["lan"].id),
                             "Chúng tôi đã nhận yêu cầu.", True, clock.now())
    db.session.commit()
    page = customer.get(f"/requests/{ticket.reference}").get_data(as_text=True)
    assert "We confirm it by" not in page and "Answer due by" in page
    page = staff.get(f"/board/tickets/{ticket.reference}").get_data(as_text=True)
    assert "Acknowledge by" not in page and "Answer by" in page
    assert "Acknowledge by" not in staff.get("/board/?view=mine").get_data(as_text=True)
    assert csrf_token(staff, "/staff/")  # the start page still draws
