"""Races for real: threads, each with its own test client, against the real database (SQLite, or
PostgreSQL with PORTAL_TEST_DATABASE_URL).

Two staff members saving the same ticket at the same instant: the loser gets the conflict page with
their text kept, whichever side of the winner's commit their request lands, and nothing of theirs is
half-saved. Wrong staff sign-in codes posted at the same instant: at most five are checked before the
account locks, and it locks once.
"""

from __future__ import annotations

import re
import threading
import time
from datetime import timedelta
from html import unescape

import pyotp
import pytest
from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from portal.audit.models import AuditRecord
from portal.db import db
from portal.outbox.models import OutboxMessage
from portal.staff import signin
from portal.staff.models import StaffMember
from portal.tickets.models import Ticket, TicketEntry
from tests.factories import make_staff, new_ticket, pickup_everywhere
from tests.helpers import STAFF_PASSWORD, csrf_token, sign_in_staff, staff_client

WAIT = 30  # seconds a racing thread waits for the other before the test gives up


# --- helpers ---------------------------------------------------------------------------------------


def hidden_fields(page: str, prefix: str) -> dict:
    return {f"{prefix}-{name}": value for name, value in
            re.findall(rf'name="{prefix}-(csrf_token|submission_key|version)" type="hidden" value="([^"]*)"', page)}


def run_threads(work: dict) -> dict:
    """Run each ``name: function`` in a thread of that name; return what each returned (re-raising
    the first error in the test's thread)."""
    results: dict = {}

    def run(name, function):
        try:
            results[name] = function()
        except BaseException as error:  # re-raised below
            results[name] = error

    threads = [threading.Thread(target=run, args=item, name=item[0]) for item in work.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=WAIT * 3)
    assert not any(thread.is_alive() for thread in threads), "a racing thread hung"
    for value in results.values():
        if isinstance(value, BaseException):
            raise value
    return results


def _is_write(statement: str) -> bool:
    """A statement that changes data, other than the session's idle clock."""
    statement = statement.lstrip().upper()
    return statement.startswith(("INSERT", "UPDATE", "DELETE")) and not statement.startswith("UPDATE STAFF_SESSIONS")


class Interleaving:
    """Make two requests to the same ticket overlap around the first one's commit.

    The thread named "second" writes only after the thread named "first" has written, and the first
    stops just before committing its change until the second is about to write its own (so both read
    the same version). Then, with ``loser="before"``, the second writes at once, before the first has
    committed (it waits on the row's lock, or gets "database is locked" on SQLite); with
    ``loser="after"`` the second writes only once the first has committed."""

    def __init__(self, loser: str):
        self.loser = loser
        self.second_writing = threading.Event()
        self.first_committed = threading.Event()
        self.first_wrote = threading.Event()

    def __enter__(self):
        event.listen(db.engine, "before_cursor_execute", self._before_statement)
        event.listen(db.engine, "after_cursor_execute", self._after_statement)
        event.listen(Session, "before_commit", self._before_commit)
        event.listen(Session, "after_commit", self._after_commit)
        return self

    def __exit__(self, *exc):
        event.remove(db.engine, "before_cursor_execute", self._before_statement)
        event.remove(db.engine, "after_cursor_execute", self._after_statement)
        event.remove(Session, "before_commit", self._before_commit)
        event.remove(Session, "after_commit", self._after_commit)

    def _before_statement(self, conn, cursor, statement, parameters, context, executemany):
        if threading.current_thread().name != "second" or not _is_write(statement):
            return
        if not self.second_writing.is_set():
            assert self.first_wrote.wait(WAIT), "the first request never wrote"
            self.second_writing.set()
            if self.loser == "after":
                assert self.first_committed.wait(WAIT), "the first request never committed"

    def _after_statement(self, conn, cursor, statement, parameters, context, executemany):
        if threading.current_thread().name == "first" and _is_write(statement):
            self.first_wrote.set()

    def _before_commit(self, session):
        if threading.current_thread().name != "first" or not self.first_wrote.is_set():
            return
        assert self.second_writing.wait(WAIT), "the second request never wrote"
        if self.loser == "before":
            time.sleep(0.3)  # let the second request run into the first one's lock

    def _after_commit(self, session):
        if threading.current_thread().name == "first" and self.first_wrote.is_set():
            self.first_committed.set()


# --- item 7: two members saving one ticket ----------------------------------------------------------


@pytest.fixture
def care_team(app, clock):
    pickup_everywhere()
    return make_staff("care", name="Lê Thị Một"), make_staff("care", email="care2@khoingo.net", name="Phạm Văn Hai")


@pytest.fixture
def ticket(app, care_team):
    return new_ticket(email="khach@example.vn", body="Camera của tôi ghi hình hàng xóm?", assignee_id=care_team[0].id)


def form_post(page: str, action: str, text: str, member) -> dict:
    """What the ticket page's form for ``action`` posts, filled in with ``text``."""
    if action == "reply":
        return {**hidden_fields(page, "reply"), "reply-message": text, "reply-visibility": "public"}
    return {**hidden_fields(page, "update"), "update-status": "rejected", "update-reason": text,
            "update-department": "care", "update-assignee": str(member.id)}


def text_was_saved(text: str) -> bool:
    db.session.expire_all()
    ticket = db.session.scalars(select(Ticket)).one()
    in_thread = db.session.scalars(select(TicketEntry).where(TicketEntry.body.contains(text))).first()
    mailed = db.session.scalars(select(OutboxMessage).where(OutboxMessage.body_text.contains(text))).first()
    return bool(in_thread or mailed or (ticket.outcome_reason and text in ticket.outcome_reason))


@pytest.mark.parametrize("loser", ["before", "after"])
@pytest.mark.parametrize("actions", [("update", "update"), ("reply", "reply"), ("reply", "update"),
                                     ("update", "reply")])
def test_the_loser_of_a_simultaneous_save_gets_the_conflict_page_with_their_text(app, clock, care_team, ticket,
                                                                                 actions, loser):
    reference = ticket.reference
    clients = [staff_client(app, member, clock) for member in care_team]
    pages = [client.get(f"/board/tickets/{reference}").get_data(as_text=True) for client in clients]
    texts = ["Câu trả lời của người thứ nhất", "Lời của người thứ hai, gõ rất lâu & cẩn thận"]
    posts = [form_post(pages[n], actions[n], texts[n], care_team[n]) for n in range(2)]

    def post(n):
        return lambda: clients[n].post(f"/board/tickets/{reference}/{actions[n]}", data=posts[n])

    with Interleaving(loser):
        results = run_threads({"first": post(0), "second": post(1)})

    assert results["first"].status_code == 303
    second = results["second"]
    assert second.status_code == 409, second.get_data(as_text=True)[:2000]
    page = unescape(second.get_data(as_text=True))
    assert "Someone else changed this ticket" in page or "Người khác đã thay đổi" in page
    assert texts[1] in page  # what the loser typed is on the page, ready to send again
    winners_change = texts[0] if actions[0] == "reply" else 'class="status status-rejected"'
    assert winners_change in page  # the page shows the ticket as the winner left it
    assert text_was_saved(texts[0]) and not text_was_saved(texts[1])
    loser_actions = db.session.scalars(select(AuditRecord.action).where(
        AuditRecord.actor == care_team[1].audit_name, AuditRecord.action.like("ticket.%"))).all()
    assert loser_actions == []


def test_saves_at_the_same_instant_make_one_change_and_one_conflict_page(app, clock, care_team, ticket):
    """No choreography: both press "Save" together, three times over; each time exactly one wins."""
    reference = ticket.reference
    clients = [staff_client(app, member, clock) for member in care_team]
    for round_ in range(3):
        clock.advance(minutes=1)
        pages = [client.get(f"/board/tickets/{reference}").get_data(as_text=True) for client in clients]
        texts = [f"Lượt {round_}, người {n}" for n in range(2)]
        posts = [form_post(pages[n], "reply", texts[n], care_team[n]) for n in range(2)]
        barrier = threading.Barrier(2, timeout=WAIT)

        def post(n, posts=posts, barrier=barrier):
            barrier.wait()
            return clients[n].post(f"/board/tickets/{reference}/reply", data=posts[n])

        results = run_threads({"a": lambda: post(0), "b": lambda: post(1)})
        assert sorted(r.status_code for r in results.values()) == [303, 409]
        loser = 0 if results["a"].status_code == 409 else 1
        assert texts[loser] in unescape(results["ab"[loser]].get_data(as_text=True))
        assert text_was_saved(texts[1 - loser]) and not text_was_saved(texts[loser])


def test_the_same_reply_posted_twice_at_the_same_instant_is_stored_and_mailed_once(app, clock, care_team, ticket):
    reference = ticket.reference
    client = staff_client(app, care_team[0], clock)
    page = client.get(f"/board/tickets/{reference}").get_data(as_text=True)
    data = form_post(page, "reply", "Chỉ một lần thôi", care_team[0])
    with Interleaving("before"):
        results = run_threads({name: lambda: client.post(f"/board/tickets/{reference}/reply", data=data)
                               for name in ("first", "second")})
    assert [r.status_code for r in results.values()] == [303, 303]
    assert results["second"].headers["Location"].endswith(f"/board/tickets/{reference}")
    assert len(db.session.scalars(select(TicketEntry).where(TicketEntry.body == "Chỉ một lần thôi")).all()) == 1
    mailed = db.session.scalars(select(OutboxMessage).where(OutboxMessage.body_text.contains("Chỉ một lần thôi")))
    assert len(mailed.all()) == 1


def test_a_save_that_waits_too_long_for_a_lock_gets_the_conflict_page(make_app, clock):
    """Whatever holds the ticket (here another connection that never lets go), a save waits at most
    DATABASE_LOCK_WAIT_SECONDS and then answers with the conflict page, the text kept."""
    app = make_app(DATABASE_LOCK_WAIT_SECONDS=1)
    pickup_everywhere()
    member = make_staff("care")
    reference = new_ticket(email="khach@example.vn", assignee_id=member.id).reference
    client = staff_client(app, member, clock)
    page = client.get(f"/board/tickets/{reference}").get_data(as_text=True)
    typed = "Câu trả lời không được mất"
    with db.engine.connect() as other:
        other.execute(update(Ticket).values(version=Ticket.version))  # holds the row (or, on SQLite, the file)
        response = client.post(f"/board/tickets/{reference}/reply", data=form_post(page, "reply", typed, member))
        other.rollback()
    assert response.status_code == 409
    assert typed in unescape(response.get_data(as_text=True))
    assert not text_was_saved(typed)
    # Once the lock is gone, sending again from that page works.
    again = form_post(response.get_data(as_text=True), "reply", typed, member)
    assert client.post(f"/board/tickets/{reference}/reply", data=again).status_code == 303
    assert text_was_saved(typed)


# --- item 8: staff sign-in lockout --------------------------------------------------------------------


def audited(action: str) -> list[AuditRecord]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditRecord).where(AuditRecord.action == action)))


def post_password(client, email: str, password: str):
    token = csrf_token(client, "/staff/sign-in")
    return client.post("/staff/sign-in", data={"email": email, "password": password, "csrf_token": token})


def wrong_code_for(member, clock) -> str:
    right = pyotp.TOTP(member.totp_secret).at(clock.now())
    return f"{(int(right) + 1) % 1_000_000:06d}"


@pytest.fixture
def many_attempts_allowed(app):
    """The per-client limit on sign-in posts out of the way: these tests are about the account."""
    app.config["SIGN_IN_ATTEMPTS_PER_CLIENT"] = "1000 per minute"


def test_twenty_wrong_codes_at_the_same_instant_check_five_and_lock_once(app, clock, many_attempts_allowed,
                                                                         monkeypatch):
    member = make_staff("care")
    browser = app.test_client()
    assert post_password(browser, member.email, STAFF_PASSWORD).status_code == 303
    token = csrf_token(browser, "/staff/sign-in/code")
    cookie = browser.get_cookie("kn_session").value
    checked, lock = [], threading.Lock()
    real_matching_step = signin.matching_step

    def counting_matching_step(*args):
        with lock:
            checked.append(args)
        return real_matching_step(*args)

    monkeypatch.setattr(signin, "matching_step", counting_matching_step)
    data = {"code": wrong_code_for(member, clock), "csrf_token": token}
    barrier = threading.Barrier(20, timeout=WAIT)

    def attempt(client):
        barrier.wait()
        return client.post("/staff/sign-in/code", data=data)

    clients = [app.test_client() for _ in range(20)]
    for client in clients:  # twenty copies of the browser that gave the right password
        client.set_cookie("kn_session", cookie)
    results = run_threads({f"attempt-{n}": (lambda c=client: attempt(c)) for n, client in enumerate(clients)})

    assert len(checked) == 5
    assert sorted(r.status_code for r in results.values()) == [400] * 4 + [429] * 16
    assert len(audited("staff.locked")) == 1 and len(audited("staff.sign_in_failed")) == 5
    db.session.expire_all()
    locked = db.session.get(StaffMember, member.id)
    assert locked.locked_until == clock.now() + timedelta(minutes=15)



def test_a_stranger_with_only_the_address_cannot_lock_the_member_out(app, clock, many_attempts_allowed):
    """Wrong passwords, however many and however fast, never lock the account; during a lock that
    wrong codes caused, they neither extend it nor start another when it ends."""
    member = make_staff("care")
    email = member.email
    barrier = threading.Barrier(10, timeout=WAIT)

    def guess(n):
        client = app.test_client()
        barrier.wait()
        return post_password(client, email, f"guessed-password-{n:04d}")

    results = run_threads({f"guess-{n}": (lambda n=n: guess(n)) for n in range(10)})
    assert {r.status_code for r in results.values()} == {400}
    assert audited("staff.locked") == [] and len(audited("staff.sign_in_failed")) == 10
    sign_in_staff(app.test_client(), member, clock=clock)  # the member is not kept out

    # The member locks the account with wrong codes; the stranger keeps guessing through the lock.
    client = app.test_client()
    assert post_password(client, member.email, STAFF_PASSWORD).status_code == 303
    for _ in range(5):
        client.post("/staff/sign-in/code", data={"code": wrong_code_for(member, clock),
                                                 "csrf_token": csrf_token(client, "/staff/sign-in/code")})
    until = clock.now() + timedelta(minutes=15)
    db.session.expire_all()
    assert db.session.get(StaffMember, member.id).locked_until == until
    stranger = app.test_client()
    for _ in range(3):
        clock.advance(minutes=5)
        assert post_password(stranger, member.email, "still-guessing-away").status_code == 400
    db.session.expire_all()
    assert db.session.get(StaffMember, member.id).locked_until == until  # not extended
    sign_in_staff(app.test_client(), member, clock=clock)  # 15 minutes on: in again
    assert len(audited("staff.locked")) == 1
