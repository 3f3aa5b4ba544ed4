"""A hostile-input sweep through HTTP against the real database: other people's tickets, the wrong
department, tampered hidden fields, odd text, missing CSRF tokens, pagination and filter tampering,
and redirects. Every case must get a clear answer (or a 404 where another's data is asked for) and change
nothing: no new ticket, thread entry, outbox message or audited change.

Many of these cases once found a real defect (form keys reused across tickets, url_for keywords from
the query string, unbounded ids, control characters); they stay to keep those fixed.
"""

from __future__ import annotations

import base64
import re
from datetime import date, datetime, timezone
from urllib.parse import quote, urljoin, urlsplit

import pytest
from sqlalchemy import func, or_, select

from portal.account.models import ContactPoint, Customer
from portal.audit.models import AuditRecord, CustomerDataView
from portal.db import db
from portal.enums import Channel
from portal.extensions import limiter
from portal.outbox.models import OutboxMessage
from portal.settings.models import CalendarOverride, Setting
from portal.staff.models import StaffMember
from portal.tickets.board.queries import encode_cursor
from portal.tickets.board.settings_page import current_settings, form_data
from portal.tickets.models import Ticket, TicketEntry
from tests.factories import make_customer, make_staff, new_ticket, pickup_everywhere
from tests.helpers import (
    STAFF_PASSWORD,
    TEST_DATABASE_URL,
    csrf_token,
    make_test_app,
    prepare_database,
    separate_database,
    sign_in,
    staff_client,
    staff_totp_code,
)

ON_SQLITE = not TEST_DATABASE_URL.startswith("postgresql")
XSS = '"><script>alert("x")</script><img src=x onerror=alert(1)>'
RTL = "\u202eexe.fdp\u202c \u200bhidden\u2066x\u2069"
TOKEN = re.compile(r'name="(?:[a-z_]+-)?csrf_token" type="hidden" value="([^"]+)"')


# --- helpers (local to this file) ---------------------------------------------------------------


def give_phone(customer, normalized: str) -> None:
    phone = db.session.scalars(select(ContactPoint).where(ContactPoint.customer_id == customer.id,
                                                          ContactPoint.channel == Channel.PHONE.value)).one()
    phone.value_normalized = normalized
    db.session.commit()


def customer_client(app, email):
    client = app.test_client()
    sign_in(client, email)
    return client


def token_of(client, path: str = "/board/") -> str:
    return TOKEN.search(client.get(path).get_data(as_text=True)).group(1)


def hidden_fields(page: str, prefix: str) -> dict:
    return {f"{prefix}-{name}": value for name, value in
            re.findall(rf'name="{prefix}-(csrf_token|submission_key|version)" type="hidden" value="([^"]*)"', page)}


def post_action(client, reference: str, action: str, page: str | None = None, **fields):
    """Post one of the ticket page's forms; a form the page does not offer gets a valid token anyway."""
    if page is None:
        response = client.get(f"/board/tickets/{reference}")
        page = response.get_data(as_text=True) if response.status_code == 200 else ""
    prefix = "link" if action == "link" else action
    data = hidden_fields(page, prefix)
    if f"{prefix}-csrf_token" not in data:
        token = token_of(client)
        data.update({f"{prefix}-csrf_token": token, "csrf_token": token})
    data.update({f"{prefix}-{name}": value for name, value in fields.items()})
    return client.post(f"/board/tickets/{reference}/{action}", data=data)


MUTATION_ACTIONS = ("staff.created", "staff.deactivated", "staff.reactivated", "staff.role_changed",
                    "staff.authenticator_reset")


def state() -> dict:
    """What a refused request must leave as it was."""
    db.session.expire_all()
    tickets = db.session.scalars(select(Ticket).order_by(Ticket.id))
    return {
        "tickets": [(t.id, t.status, t.department, t.assignee_id, t.customer_id, t.version, t.due_at,
                     t.extended_at, t.priority) for t in tickets],
        "entries": db.session.scalar(select(func.count()).select_from(TicketEntry)),
        "outbox": db.session.scalar(select(func.count()).select_from(OutboxMessage)),
        "mutations": db.session.scalar(select(func.count()).select_from(AuditRecord).where(or_(
            AuditRecord.action.like("ticket.%"), AuditRecord.action.like("settings.%"),
            AuditRecord.action.in_(MUTATION_ACTIONS)))),
        "settings": [(s.key, s.value) for s in db.session.scalars(select(Setting).order_by(Setting.key))],
        "calendar": [(d.day, d.is_working_day, d.name)
                     for d in db.session.scalars(select(CalendarOverride).order_by(CalendarOverride.day))],
        "staff": [(m.id, m.role, m.is_active, m.full_name)
                  for m in db.session.scalars(select(StaffMember).order_by(StaffMember.id))],
    }


def text_of(response) -> str:
    return response.get_data(as_text=True)


def assert_no_raw_markup(page: str) -> None:
    assert "<script>alert" not in page and "<img src=x" not in page, page


# --- the cast --------------------------------------------------------------------------------------


def make_team() -> dict:
    team = {
        "care": make_staff("care", name="Lê Thị Care"),
        "care2": make_staff("care", email="care2@khoingo.net", name="Phạm Văn Care Hai"),
        "sales": make_staff("sales", name="Trần Văn Sales"),
        "board": make_staff("board", name="Ngô Khôi Board"),
        "admin": make_staff("admin", name="Quản Trị"),
        "gone": make_staff("care", email="gone@khoingo.net", name="Đã Nghỉ"),
    }
    team["gone"].is_active = False
    db.session.commit()
    return team


def make_world(team: dict) -> dict:
    """Customer A (care question), customer B (care access request), a sales customer and a leak
    complaint at the board, each with their own e-mail and phone. Assignment is by pick-up."""
    pickup_everywhere()
    a = make_customer("a@example.vn", "Khách Hàng A", order="DH-A")
    b = make_customer("b@example.vn", "Khách Hàng Bê", order="DH-B")
    s = make_customer("sales.customer@example.vn", "Khách Sales Riêng", order="DH-S")
    leak = make_customer("leak@example.vn", "Bùi Lộ Bí Mật", order="DH-L")
    give_phone(b, "+84912345678")
    give_phone(s, "+84987654321")
    give_phone(leak, "+84912000111")
    tickets = {
        "a": new_ticket(customer=a, email="a@example.vn", body="Tin nhắn của A", submission_key="a" * 32),
        "b": new_ticket("access", customer=b, email="b@example.vn", body="Bí mật của B",
                        submission_key="b" * 32, assignee_id=team["care"].id),
        "sales": new_ticket("consent_withdrawal", customer=s, email="sales.customer@example.vn",
                            body="Tin nhắn sales bí mật", assignee_id=team["sales"].id),
        "board": new_ticket("leak_complaint", customer=leak, email="leak@example.vn", body="Dữ liệu bị lộ bí mật"),
        "unlinked": new_ticket("question", email="unknown@example.vn", body="Chưa có hồ sơ"),
    }
    return {"customers": {"a": a, "b": b, "sales": s, "leak": leak},
            "refs": {name: t.reference for name, t in tickets.items()},
            "ids": {name: t.id for name, t in tickets.items()}}


@pytest.fixture
def team(app):
    return make_team()


@pytest.fixture
def world(app, team):
    return make_world(team)


# --- one world shared by the cases that must change nothing -------------------------------------------


class Scene:
    """The world above, built once for this module, with its people already signed in.

    Only cases that must change nothing use it; after each, the fixture checks that nothing did."""

    def __init__(self, app, clients: dict, baseline: dict, day_off: date):
        self.app = app
        self.clients = clients
        self.baseline = baseline
        self.day_off = day_off
        self.team: dict = {}
        self.world: dict = {}

    def client(self, name: str):
        return self.clients[name]

    def load(self, team_ids: dict, world_ids: dict) -> None:
        """The team and the world as objects of the current test's database session."""
        self.team = {name: db.session.get(StaffMember, member_id) for name, member_id in team_ids.items()}
        self.world = {"refs": world_ids["refs"], "ids": world_ids["ids"],
                      "customers": {name: db.session.get(Customer, customer_id)
                                    for name, customer_id in world_ids["customers"].items()}}


@pytest.fixture(scope="module")
def shared_scene(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    with separate_database(folder, "hostile") as url:
        yield from _build_scene(make_test_app(folder, DATABASE_URL=url))


def _build_scene(app):
    with app.app_context():
        prepare_database(app)
        limiter.reset()
        team = make_team()
        world = make_world(team)
        day_off = date(2026, 12, 24)
        db.session.add(CalendarOverride(day=day_off, is_working_day=False, name="Nghỉ"))
        db.session.commit()
        clients = {name: staff_client(app, team[name]) for name in ("care", "care2", "sales", "board", "admin")}
        clients.update(a=customer_client(app, "a@example.vn"), b=customer_client(app, "b@example.vn"))
        assert post_action(clients["care"], world["refs"]["b"], "reply", message="Ghi chú nội bộ kín",
                           visibility="internal").status_code == 303
        scene = Scene(app, clients, state(), day_off)
        ids = ({name: member.id for name, member in team.items()},
               {"refs": world["refs"], "ids": world["ids"],
                "customers": {name: customer.id for name, customer in world["customers"].items()}})
        db.session.remove()
    yield scene, ids
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def scene(shared_scene):
    """The shared world for one case; the case must leave it as it found it."""
    scene, ids = shared_scene
    with scene.app.app_context():
        limiter.reset()
        scene.load(*ids)
        yield scene
        assert state() == scene.baseline, "a case of the shared world changed it"
        db.session.remove()


# --- customers and other customers' tickets ------------------------------------------------------


def reference_variants(reference: str) -> list[str]:
    year, number = reference.split("-")[1:]
    other_year = str(int(year) - 1)
    return [reference, reference.lower(), f"KN-{other_year}-{number}", f"KN-{int(year) + 1}-{number}",
            f"KN-{year}-0{number}", f"KN-{year}-{int(number)}", f" {reference} ", f"{reference}%00",
            f"{reference}%0a", f"KN-{year}-{number}.json", quote(f"../{reference}", safe=""),
            f"KN\u2010{year}\u2010{number}", "KN-" + "9" * 5000]


def test_customer_cannot_reach_another_customers_ticket_by_any_spelling(scene):
    world = scene.world
    client = scene.client("a")
    before = state()
    for variant in reference_variants(world["refs"]["b"]):
        response = client.get(f"/requests/{variant}")
        assert response.status_code == 404, variant
        assert "Bí mật của B" not in text_of(response)
    token = token_of(client, f"/requests/{world['refs']['a']}")
    for variant in reference_variants(world["refs"]["b"])[:4]:  # 5 posts a minute per customer
        response = client.post(f"/requests/{variant}/reply", data={
            "csrf_token": token, "message": "Chen vào", "submission_key": "c" * 32})
        assert response.status_code == 404, variant
    listing = text_of(client.get("/requests/"))
    assert world["refs"]["b"] not in listing and world["refs"]["board"] not in listing
    assert state() == before


@pytest.mark.parametrize("number", ["2147483648", "9999999999", "999999999999"])
def test_customer_reference_with_a_number_too_large_is_not_found(scene, number):
    world = scene.world
    client = scene.client("a")
    year = world["refs"]["a"].split("-")[1]
    assert client.get(f"/requests/KN-{year}-{number}").status_code == 404
    token = token_of(client, f"/requests/{world['refs']['a']}")
    assert client.post(f"/requests/KN-{year}-{number}/reply", data={
        "csrf_token": token, "message": "Xin chào", "submission_key": "c" * 32}).status_code == 404


def test_staff_reference_with_a_number_too_large_is_not_found(scene):
    world = scene.world
    client = scene.client("board")
    year = world["refs"]["a"].split("-")[1]
    for number in ("2147483648", "9999999999", "999999999999"):
        assert client.get(f"/board/tickets/KN-{year}-{number}").status_code == 404
        assert post_action(client, f"KN-{year}-{number}", "update", status="open").status_code == 404
    assert client.get("/board/", query_string={"q": f"KN-{year}-9999999999"}).status_code == 200


def test_customer_own_ticket_with_the_wrong_year_or_padding_is_not_found(scene):
    world = scene.world
    client = scene.client("a")
    reference = world["refs"]["a"]
    assert client.get(f"/requests/{reference}").status_code == 200
    for variant in reference_variants(reference)[2:6]:
        assert client.get(f"/requests/{variant}").status_code == 404, variant


def test_customer_cannot_file_a_kind_outside_the_form_or_with_a_forged_key(scene):
    client = scene.client("a")
    before = state()
    token = token_of(client, "/requests/new")
    for kind, key in (("leak_complaint", "d" * 32), ("erasure", "d" * 32), ("'; DROP TABLE tickets;--", "d" * 32),
                      ("question", "not-a-key"), ("question", "D" * 32)):
        response = client.post("/requests/new", data={"csrf_token": token, "kind": kind, "message": "Xin chào",
                                                      "submission_key": key})
        assert response.status_code == 400, (kind, key)
    assert state() == before


@pytest.mark.parametrize("message, status", [
    ("x" * 5001, 400), ("a\x00b xin chào", 400), ("a\x1b[31m đỏ", 400), ("\x08\x08", 400), ("", 400), (" ", 400),
    ("y" * (1024 * 1024 + 10), 413),
])
def test_customer_bad_message_gets_a_clear_answer_and_changes_nothing(scene, message, status):
    client = scene.client("a")
    before = state()
    token = token_of(client, "/requests/new")
    response = client.post("/requests/new", data={"csrf_token": token, "kind": "access", "message": message,
                                                  "submission_key": "e" * 32})
    assert response.status_code == status
    if status == 400:
        page = text_of(response)
        assert 'class="field-error' in page or "error" in page
    assert state() == before


def test_customer_message_with_del_or_c1_controls_is_refused(scene):
    world = scene.world
    client = scene.client("a")
    before = state()
    token = token_of(client, f"/requests/{world['refs']['a']}")
    response = client.post(f"/requests/{world['refs']['a']}/reply", data={
        "csrf_token": token, "message": "xin chào \x9b31m \x7f", "submission_key": "f" * 32})
    assert response.status_code == 400
    assert state() == before


def test_rtl_override_and_markup_in_a_customer_message_show_as_text(app, world, team):
    client = customer_client(app, "a@example.vn")
    reference = world["refs"]["a"]
    page = text_of(client.get(f"/requests/{reference}"))
    token = TOKEN.search(page).group(1)
    key = re.search(r'name="submission_key" type="hidden" value="([0-9a-f]{32})"', page).group(1)
    response = client.post(f"/requests/{reference}/reply", data={"csrf_token": token, "message": XSS + RTL,
                                                                 "submission_key": key})
    assert response.status_code == 303
    shown = text_of(client.get(f"/requests/{reference}"))
    assert_no_raw_markup(shown)
    assert "&lt;script&gt;" in shown and "\u202eexe.fdp" in shown
    staff_page = text_of(staff_client(app, team["care"]).get(f"/board/tickets/{reference}"))
    assert_no_raw_markup(staff_page)
    assert "&lt;script&gt;" in staff_page


def test_submission_key_of_another_customers_ticket_reveals_nothing(app, world):
    client = customer_client(app, "a@example.vn")
    before_b = state()["entries"]
    token = token_of(client, "/requests/new")
    response = client.post("/requests/new", data={"csrf_token": token, "kind": "restriction",
                                                  "message": "Tôi phản đối", "submission_key": "b" * 32},
                           follow_redirects=True)
    page = text_of(response)
    assert world["refs"]["b"] not in page
    # Either A's request was filed (a new ticket, a new message) or A was told to reload the page.
    assert response.status_code == 400 or state()["entries"] > before_b


def test_customer_reply_with_a_key_from_another_ticket_is_not_silently_dropped(app, world):
    client = customer_client(app, "a@example.vn")
    second = new_ticket("access", customer=world["customers"]["a"], email="a@example.vn", body="Thứ hai")
    reference = second.reference
    token = token_of(client, f"/requests/{reference}")
    entries = state()["entries"]
    response = client.post(f"/requests/{reference}/reply", data={
        "csrf_token": token, "message": "Trả lời cho yêu cầu thứ hai", "submission_key": "a" * 32})
    stored = state()["entries"] > entries
    assert stored or (response.status_code in (400, 409) and "field-error" in text_of(response))


# --- staff of the wrong department, through every ticket route -----------------------------------

TICKET_ACTIONS = {
    "reply": {"message": "Xâm nhập", "visibility": "public"},
    "update": {"status": "resolved", "department": "sales", "assignee": ""},
    "take": {},
    "extend": {"days": "5", "reason": "Kéo dài"},
    "name": {"decision": "approve", "reason": ""},
    "longer-period": {"reason": "Bên thứ ba phải xử lý"},
    "link": {"customer_id": "1"},
    "erasure/approve": {"version": "1"},
    "restriction/apply": {"version": "1"},
    "restriction/lift": {"version": "1", "reason": "Dỡ bỏ hạn chế"},
}


def test_every_ticket_route_is_listed_here(scene):
    app = scene.app
    routes = {rule.rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/board/tickets/<reference>/")}
    assert routes == {f"/board/tickets/<reference>/{action}" for action in TICKET_ACTIONS}


@pytest.mark.parametrize("intruder, target", [("sales", "a"), ("sales", "board"), ("care", "sales"),
                                              ("care", "board")])
def test_wrong_department_gets_404_on_every_ticket_route(scene, intruder, target):
    client = scene.client(intruder)
    refuses_every_ticket_route(client, token_of(client), scene.world["refs"][target])


def test_deactivated_members_open_session_gets_nothing_from_any_ticket_route(app, world):
    member = make_staff("care", email="leaver@khoingo.net", name="Sắp Nghỉ")
    client = staff_client(app, member)
    token = token_of(client)
    member.is_active = False
    db.session.commit()
    refuses_every_ticket_route(client, token, world["refs"]["a"])


def refuses_every_ticket_route(client, token: str, reference: str) -> None:
    before = state()
    views = db.session.scalar(select(func.count()).select_from(CustomerDataView))
    for variant in (reference, reference.lower(), f" {reference}"):
        response = client.get(f"/board/tickets/{quote(variant)}")
        assert response.status_code in (404, 302), variant
        assert "bí mật" not in text_of(response).lower()
    for action, fields in TICKET_ACTIONS.items():
        data = {"csrf_token": token, f"{action}-csrf_token": token, f"{action}-version": "1",
                f"{action}-submission_key": "9" * 32}
        data.update({f"{action}-{name}": value for name, value in fields.items()})
        response = client.post(f"/board/tickets/{reference}/{action}", data=data)
        assert response.status_code in (404, 302), (action, response.status_code)
        if response.status_code == 302:
            assert "/staff/sign-in" in response.headers["Location"]
    assert state() == before
    assert db.session.scalar(select(func.count()).select_from(CustomerDataView)) == views


def test_staff_year_mismatch_and_padding_are_not_found_even_for_the_board(scene):
    world = scene.world
    client = scene.client("board")
    for variant in reference_variants(world["refs"]["a"])[2:]:
        if variant.strip() != variant or variant.endswith("%0a"):
            continue  # surrounding white space is forgiven: it is the same ticket
        assert client.get(f"/board/tickets/{variant}").status_code == 404, variant


def test_admin_reads_no_messages_and_no_customer_data(scene):
    team, world = scene.team, scene.world
    reference = world["refs"]["b"]  # it has an internal note: "Ghi chú nội bộ kín"
    client = scene.client("admin")
    before = state()
    views = db.session.scalar(select(func.count()).select_from(CustomerDataView))
    page = text_of(client.get(f"/board/tickets/{reference}"))
    for secret in ("Bí mật của B", "Ghi chú nội bộ kín", "b@example.vn", "Khách Hàng Bê", "0903 123 456", "DH-B",
                   "12 Lê Lợi"):
        assert secret not in page, secret
    listing = text_of(client.get("/board/?view=all&status=any"))
    assert "b@example.vn" not in listing and "Khách Hàng Bê" not in listing and "unknown@example.vn" not in listing
    search = text_of(client.get("/board/?q=b%40example.vn"))
    assert reference not in search and "chỉ được tìm theo mã yêu cầu" in search
    assert reference not in text_of(client.get("/board/?q=0912345678"))
    for action in ("reply", "take", "extend", "link"):
        assert post_action(client, reference, action, **TICKET_ACTIONS[action]).status_code == 404, action
    # The status field is not on the admin's form: posting it anyway changes nothing.
    response = post_action(client, reference, "update", status="rejected", reason="x", department="care",
                           assignee=str(team["care"].id))
    assert response.status_code == 303
    assert state() == before
    assert db.session.scalar(select(func.count()).select_from(CustomerDataView)) == views


# --- search and filters ---------------------------------------------------------------------------


@pytest.mark.parametrize("who, query, hidden", [
    ("care", "sales.customer@example.vn", ("sales", "Khách Sales Riêng")),
    ("care", "0987654321", ("sales", "Khách Sales Riêng")),
    ("care", "+84 98 765 43 21", ("sales", "Khách Sales Riêng")),
    ("care", "LEAK@EXAMPLE.VN", ("board", "Bùi Lộ Bí Mật")),
    ("care", "0912000111", ("board", "Bùi Lộ Bí Mật")),
    ("sales", "b@example.vn", ("b", "Khách Hàng Bê")),
    ("sales", "0912345678", ("b", "Khách Hàng Bê")),
    ("sales", "a@example.vn", ("a", "Khách Hàng A")),
    ("sales", "leak@example.vn", ("board", "Bùi Lộ Bí Mật")),
])
def test_search_never_lists_another_departments_tickets_or_customers(scene, who, query, hidden):
    world = scene.world
    client = scene.client(who)
    name, customer_name = hidden
    before = state()
    response = client.get("/board/?q=" + quote(query))
    assert response.status_code == 200
    page = text_of(response)
    assert world["refs"][name] not in page and customer_name not in page
    ref_search = text_of(client.get("/board/?q=" + quote(world["refs"][name])))
    assert f'href="/board/tickets/{world["refs"][name]}"' not in ref_search
    assert state() == before


@pytest.mark.parametrize("query", [
    "' OR 1=1 --", "a@b", "@", "x" * 201, "KN-2026-", "%", "_", "*", "\x00", "0903123456\x00", "+8400000000000000000",
    "KN-0000-000001", "KN-9999-999999999999", "🙂@example.vn", "a@" + "b" * 300 + ".vn", "\u202e0903123456",
])
def test_garbage_search_gets_a_message_and_lists_nothing_foreign(scene, query):
    world = scene.world
    client = scene.client("sales")
    response = client.get("/board/", query_string={"q": query})
    assert response.status_code == 200
    page = text_of(response)
    for name in ("a", "b", "board", "unlinked"):
        assert world["refs"][name] not in page


@pytest.mark.parametrize("params", [
    {"kind": "nonsense"}, {"kind": ["question", "access"]}, {"status": "deleted"}, {"status": ""},
    {"department": "hr"}, {"department": "board"}, {"assignee": "abc"}, {"assignee": "-1"},
    {"assignee": "99999999999999999999"}, {"assignee": "1 OR 1=1"}, {"due_by": "2026-02-30"},
    {"due_by": "0000-01-01"}, {"due_by": "0001-01-01"}, {"due_by": "9999-12-31"}, {"due_by": "10000-01-01"},
    {"due_by": "yesterday"}, {"due_by": "2026-13-01"}, {"view": "all"}, {"view": "../../admin"},
    {"view": "search"}, {"view": XSS}, {"due_by": XSS}, {"q": XSS}, {"status": "any", "department": "board"},
])
def test_odd_filters_are_ignored_with_a_notice_and_never_widen_the_queue(scene, params):
    world = scene.world
    client = scene.client("sales")
    response = client.get("/board/", query_string=params)
    assert response.status_code == 200
    page = text_of(response)
    assert_no_raw_markup(page)
    for name in ("a", "b", "board", "unlinked"):
        assert world["refs"][name] not in page, name


def _cursor(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


@pytest.mark.parametrize("after", [
    "garbage", "!!!!", "=", _cursor("'; DROP TABLE tickets; --"), _cursor("1 OR 1=1.1"), "A" * 65, "A" * 5000,
    _cursor("-99999999999999999999.1"), _cursor("99999999999999999999.1"), _cursor("0.-1"), _cursor("0.1e5"),
    _cursor("0.٣"), _cursor("253402300799999999.2147483648"), "%00", "AAAA\n",
])
def test_tampered_cursor_shows_a_page_and_never_another_department(scene, after):
    world = scene.world
    client = scene.client("sales")
    response = client.get("/board/", query_string={"view": "department", "after": after})
    assert response.status_code == 200
    page = text_of(response)
    for name in ("a", "b", "board", "unlinked"):
        assert world["refs"][name] not in page


def test_cursor_with_an_id_too_large_for_the_database_shows_the_first_page(scene):
    client = scene.client("care")
    response = client.get("/board/", query_string={"view": "department", "after": _cursor("0." + "9" * 30)})
    assert response.status_code == 200


@pytest.mark.parametrize("extra", [{"endpoint": "x"}, {"_external": "1", "_scheme": "javascript"},
                                   {"_scheme": "https"}, {"_method": "POST"}])
def test_pager_links_do_not_take_url_for_arguments_from_the_query_string(scene, extra):
    client = scene.client("care")
    cursor = encode_cursor(datetime(2000, 1, 1, tzinfo=timezone.utc), 1)
    response = client.get("/board/", query_string={"view": "department", "after": cursor, **extra})
    assert response.status_code == 200
    page = text_of(response)
    links = re.findall(r'<nav class="pager".*?</nav>', page, re.S)[0]
    assert "javascript:" not in links and "://" not in links
    assert all(name not in links for name in ("endpoint=", "_scheme", "_external", "_method"))


# --- tampered ticket forms -------------------------------------------------------------------------


@pytest.fixture
def care(app, team):
    return staff_client(app, team["care"])


@pytest.mark.parametrize("fields, status", [
    ({"version": "0"}, 409), ({"version": "999"}, 409), ({"version": "1 OR 1=1"}, 409), ({"version": ""}, 409),
    ({"status": "deleted"}, 400), ({"status": "closed"}, 409), ({"department": "hr"}, 400),
    ({"department": "'; DROP TABLE tickets;--"}, 400), ({"assignee": "abc"}, 400), ({"assignee": "-1"}, 400),
    ({"assignee": "99999999999999999999"}, 400), ({"assignee": "gone"}, 400), ({"assignee": "sales"}, 400),
    ({"assignee": "admin"}, 400), ({"status": "rejected", "reason": "  "}, 409),
    ({"status": "rejected", "reason": "lý do\x00"}, 400), ({"status": "rejected", "reason": "x" * 5001}, 400),
])
def test_tampered_update_gets_a_clear_message_and_changes_nothing(scene, fields, status):
    team, world = scene.team, scene.world
    care = scene.client("care")
    reference = world["refs"]["a"]
    fields = dict(fields)
    if fields.get("assignee") in team:
        fields["assignee"] = str(team[fields["assignee"]].id)
    page = text_of(care.get(f"/board/tickets/{reference}"))
    data = {"status": "new", "department": "care", "assignee": ""}
    data.update(fields)
    before = state()
    response = post_action(care, reference, "update", page=page, **data)
    assert response.status_code == status, text_of(response)[:300]
    body = text_of(response)
    assert 'role="alert"' in body or "field-error" in body or "error" in body
    assert state() == before


def test_inactive_assignee_cannot_be_chosen_even_on_a_ticket_already_theirs(scene):
    """The form keeps a former member on the list only to show who has the ticket now."""
    team, world = scene.team, scene.world
    care = scene.client("care")
    reference = world["refs"]["b"]
    page = text_of(care.get(f"/board/tickets/{reference}"))
    assert post_action(care, reference, "update", page=page, status="new", department="care",
                       assignee=str(team["gone"].id)).status_code == 400


@pytest.mark.parametrize("days, reason, status", [
    ("-5", "Lý do", 400), ("0", "Lý do", 400), ("31", "Lý do", 400), ("99999999999999999999", "Lý do", 400),
    ("abc", "Lý do", 400), ("1e3", "Lý do", 400), ("", "Lý do", 400), ("5", "", 400), ("5", "x\x00y", 400),
    ("11", "Lý do", 409),  # within the form's 30, beyond the question's 10
])
def test_bad_extension_changes_nothing(scene, days, reason, status):
    world = scene.world
    care = scene.client("care")
    reference = world["refs"]["a"]
    before = state()
    response = post_action(care, reference, "extend", days=days, reason=reason)
    assert response.status_code == status
    assert state() == before


def test_resolved_request_cannot_be_extended(app, world, care, team):
    ticket = db.session.get(Ticket, world["ids"]["a"])
    ticket.status = "resolved"
    db.session.commit()
    before = state()
    response = post_action(care, world["refs"]["a"], "extend", days="3", reason="Cần thêm thời gian",
                           version=str(ticket.version))  # the page hides the form; the post carries it anyway
    assert response.status_code == 409
    assert state() == before


@pytest.mark.parametrize("customer_id", ["999999", "0", "-1", "abc", "1 OR 1=1", "99999999999", "9999999999",
                                         "", "1.5", "0x1"])
def test_linking_to_a_customer_that_does_not_exist_changes_nothing(scene, customer_id):
    world = scene.world
    care = scene.client("care")
    reference = world["refs"]["unlinked"]
    before = state()
    response = post_action(care, reference, "link", customer_id=customer_id)
    assert response.status_code == 400
    assert "field-error" in text_of(response) or "error" in text_of(response)
    assert state() == before


def test_an_already_linked_ticket_cannot_be_relinked(scene):
    world = scene.world
    care = scene.client("care")
    before = state()
    response = post_action(care, world["refs"]["a"], "link", customer_id=str(world["customers"]["b"].id))
    assert response.status_code in (400, 409)
    assert state() == before


@pytest.mark.parametrize("fields", [
    {"message": "x" * 5001, "visibility": "public"}, {"message": "a\x00b", "visibility": "public"},
    {"message": "ok tin nhắn", "visibility": "everyone"}, {"message": "ok tin nhắn", "visibility": ""},
    {"message": "ok tin nhắn", "visibility": "public", "submission_key": "short"},
    {"message": "ok tin nhắn", "visibility": "public", "submission_key": "Z" * 32},
    {"message": "ok tin nhắn", "visibility": "public", "version": "0"},
])
def test_tampered_reply_changes_nothing(scene, fields):
    world = scene.world
    care = scene.client("care")
    reference = world["refs"]["a"]
    before = state()
    response = post_action(care, reference, "reply", **fields)
    assert response.status_code in (400, 409)
    assert state() == before


def test_reply_key_from_ticket_a_never_posts_into_or_shows_ticket_b(app, world, care):
    """A key used on ticket A, posted to ticket B: B's thread gets nothing from A, A gets nothing new."""
    page_a = text_of(care.get(f"/board/tickets/{world['refs']['a']}"))
    key = hidden_fields(page_a, "reply")["reply-submission_key"]
    assert post_action(care, world["refs"]["a"], "reply", page=page_a, message="Trả lời A",
                       visibility="internal").status_code == 303
    page_b = text_of(care.get(f"/board/tickets/{world['refs']['b']}"))
    entries_a = len(db.session.get(Ticket, world["ids"]["a"]).entries)
    response = post_action(care, world["refs"]["b"], "reply", page=page_b, message="Trả lời B",
                           visibility="internal", submission_key=key)
    db.session.expire_all()
    assert len(db.session.get(Ticket, world["ids"]["a"]).entries) == entries_a
    assert "Trả lời A" not in text_of(care.get(f"/board/tickets/{world['refs']['b']}"))
    assert response.status_code in (303, 400, 409)


def test_reply_key_from_another_ticket_is_not_reported_as_saved(app, world, care):
    page_a = text_of(care.get(f"/board/tickets/{world['refs']['a']}"))
    key = hidden_fields(page_a, "reply")["reply-submission_key"]
    post_action(care, world["refs"]["a"], "reply", page=page_a, message="Trả lời A", visibility="internal")
    page_b = text_of(care.get(f"/board/tickets/{world['refs']['b']}"))
    before = state()["entries"]
    response = post_action(care, world["refs"]["b"], "reply", page=page_b, message="Trả lời B",
                           visibility="internal", submission_key=key)
    refused = response.status_code in (400, 409) and 'role="alert"' in text_of(response)
    assert refused or state()["entries"] == before + 1


# --- settings and staff names -----------------------------------------------------------------------


def settings_data(app) -> dict:
    data = {name: str(value) for name, value in form_data(current_settings()).items()
            if name != "fulfil_in_working_days"}
    return data


@pytest.mark.parametrize("tamper", [
    {"department_question": "hr"}, {"priority_leak_complaint": "urgent!!"}, {"fulfil_question": "0"},
    {"fulfil_question": "11"}, {"fulfil_question": "-1"}, {"fulfil_question": "1e9"}, {"fulfil_question": ""},
    {"extension_erasure": "21"}, {"assignment_care": "robin"}, {"acknowledge_working_days": "3"},
    {"acknowledge_working_days": "99999999999999999999"},
])
def test_tampered_settings_are_refused_and_nothing_is_saved(scene, tamper):
    app = scene.app
    client = scene.client("admin")
    data = settings_data(app)
    data.update(tamper, csrf_token=token_of(client, "/board/settings"))
    before = state()
    response = client.post("/board/settings", data=data)
    assert response.status_code == 400
    assert state() == before


@pytest.mark.parametrize("day, name", [
    ("2026-02-30", "Nghỉ"), ("", "Nghỉ"), ("99999-01-01", "Nghỉ"), ("2026-12-24", ""),
    ("2026-12-24", "x" * 201), ("2026-12-24", "Nghỉ\x07"), ("2026-12-24", "Nghỉ\x00"), ("2026-12-24'--", "Nghỉ"),
])
def test_bad_day_off_is_refused(scene, day, name):
    client = scene.client("admin")
    before = state()
    response = client.post("/board/settings/days-off", data={
        "csrf_token": token_of(client, "/board/settings"), "day_off-day": day, "day_off-name": name})
    assert response.status_code == 400
    assert state() == before


@pytest.mark.parametrize("name", ["   ", "\t\n", "\u3000"])
def test_day_off_name_of_only_spaces_is_refused(scene, name):
    client = scene.client("admin")
    before = state()
    response = client.post("/board/settings/days-off", data={
        "csrf_token": token_of(client, "/board/settings"), "day_off-day": "2026-12-24", "day_off-name": name})
    assert response.status_code == 400
    assert state() == before


def test_markup_and_rtl_in_a_day_off_name_show_as_text(app, team):
    client = staff_client(app, team["admin"])
    for day, name in (("2026-12-24", XSS), ("2026-12-26", RTL)):
        response = client.post("/board/settings/days-off", data={
            "csrf_token": token_of(client, "/board/settings"), "day_off-day": day, "day_off-name": name})
        assert response.status_code == 303
    page = text_of(client.get("/board/settings"))
    assert_no_raw_markup(page)
    assert "&lt;script&gt;" in page
    before = state()
    token = token_of(client, "/board/settings")
    for day in ("2026-02-30", "not-a-date", "2027-01-01", "0000-00-00", "2026-12-24%00"):
        assert client.post(f"/board/settings/days-off/{day}/remove", data={"csrf_token": token}).status_code == 404
    assert state() == before


def test_non_admin_cannot_touch_settings_or_staff(scene):
    team = scene.team
    client = scene.client("board")
    token = token_of(client)
    before = state()
    member = team["care"].id
    for path in ("/board/settings", "/board/settings/days-off", "/board/settings/days-off/2026-12-24/remove",
                 f"/staff/admin/members/{member}/role", f"/staff/admin/members/{member}/deactivate",
                 f"/staff/admin/members/{member}/password-reset", f"/staff/admin/members/{member}/reactivate",
                 f"/staff/admin/members/{member}/authenticator-reset", "/staff/admin/members"):
        response = client.post(path, data={"csrf_token": token, "role": "admin", "day_off-day": "2026-12-24",
                                           "day_off-name": "x", "email": "new@khoingo.net", "full_name": "Mới"})
        assert response.status_code == 404, path
    assert state() == before


def test_admin_invite_with_a_nul_in_the_name_gets_a_clear_message(scene):
    client = scene.client("admin")
    before = state()
    response = client.post("/staff/admin/members", data={
        "csrf_token": token_of(client, "/staff/admin/members"), "full_name": "Tên\x00Lạ",
        "email": "nul@khoingo.net", "role": "care"})
    assert response.status_code == 400
    assert state() == before


def test_admin_invite_with_control_characters_in_the_name_is_refused(scene):
    client = scene.client("admin")
    before = state()
    response = client.post("/staff/admin/members", data={
        "csrf_token": token_of(client, "/staff/admin/members"), "full_name": "Tên \x1b[2J\x07 Lạ",
        "email": "ctl@khoingo.net", "role": "care"})
    assert response.status_code == 400
    assert state() == before


@pytest.mark.parametrize("member_id", ["0", "99999", "-1", "abc", "2147483648", "9999999999", "99999999999999999999"])
def test_admin_member_pages_with_odd_ids_are_not_found(scene, member_id):
    client = scene.client("admin")
    token = token_of(client, "/staff/admin/members")
    before = state()
    assert client.get(f"/staff/admin/members/{member_id}").status_code == 404
    for action in ("role", "deactivate", "reactivate", "password-reset", "authenticator-reset"):
        response = client.post(f"/staff/admin/members/{member_id}/{action}", data={"csrf_token": token,
                                                                                   "role": "admin"})
        assert response.status_code == 404, action
    assert state() == before


def test_staff_name_with_markup_is_text_on_the_customers_my_data(app, world):
    member = make_staff("care", email="xss@khoingo.net", name=XSS + RTL)
    client = staff_client(app, member)
    assert client.get(f"/board/tickets/{world['refs']['a']}").status_code == 200
    customer = customer_client(app, "a@example.vn")
    page = text_of(customer.get("/my-data"))
    assert_no_raw_markup(page)
    assert "&lt;script&gt;" in page and world["refs"]["a"] in page
    assert "Bí mật của B" not in page and world["refs"]["b"] not in page


# --- CSRF on every POST route ------------------------------------------------------------------------


def test_every_post_route_refuses_a_missing_or_foreign_csrf_token(scene):
    app, team, world = scene.app, scene.team, scene.world
    day = scene.day_off
    admin = scene.client("admin")
    care = scene.client("care")
    customer = scene.client("a")
    stranger = app.test_client()
    foreign = token_of(stranger, "/staff/sign-in")
    values = {"reference": world["refs"]["a"], "member_id": team["care2"].id, "day": day.isoformat(),
              "token": "x" * 43, "code": "question", "point_id": 1, "channel": "phone", "customer_id": 1,
              "incident_id": 1, "affected_id": 1}
    before = state()
    checked = []
    for rule in app.url_map.iter_rules():
        if "POST" not in rule.methods:
            continue
        path = app.url_map.bind("localhost").build(rule.endpoint, {k: values[k] for k in rule.arguments})
        client = admin if rule.rule.startswith(("/board/settings", "/staff/admin")) else \
            customer if rule.rule.startswith(("/requests", "/my-data")) else care
        form = {"message": "Xin chào", "kind": "question", "submission_key": "7" * 32, "email": "x@khoingo.net",
                "password": STAFF_PASSWORD, "code": "123456", "role": "admin", "locale": "en",
                "reply-message": "Xin chào", "reply-visibility": "public", "update-status": "resolved",
                "update-department": "sales", "extend-days": "3", "extend-reason": "x", "link-customer_id": "1",
                "day_off-day": "2026-12-25", "day_off-name": "x", "full_name": "x"}
        for token in (None, foreign, "garbage"):
            data = dict(form)
            if token is not None:
                data["csrf_token"] = token
            response = client.post(path, data=data)
            assert response.status_code == 400, (path, token, response.status_code)
            assert "This form has expired" in text_of(response) or "hết hạn" in text_of(response), path
        checked.append(rule.rule)
    assert len(checked) >= 20
    assert state() == before
    assert admin.get("/board/settings").status_code == 200 and care.get("/board/").status_code == 200


# --- redirects after staff sign-in -------------------------------------------------------------------


@pytest.mark.parametrize("next_path", [
    "https://evil.example/", "//evil.example/", "/\\evil.example", "\\\\evil.example", "/\\/evil.example",
    "/%5Cevil.example", " //evil.example", "/\t/evil.example", "javascript:alert(1)", "http:evil.example",
    "/%0d%0aSet-Cookie:x=1", "/\r\nLocation: https://evil.example", "////evil.example", "https:/evil.example",
    "/board/?x=" + "a" * 600, "\u3002/evil.example", "/\u2215\u2215evil.example",
])
def test_staff_sign_in_never_redirects_off_site(app, team, next_path):
    client = app.test_client()
    member = team["care"]
    client.get("/staff/sign-in", query_string={"next": next_path})
    response = client.post("/staff/sign-in", data={"email": member.email, "password": STAFF_PASSWORD,
                                                   "next": next_path,
                                                   "csrf_token": csrf_token(client, "/staff/sign-in")})
    assert response.status_code == 303
    token = csrf_token(client, "/staff/sign-in/code")
    response = client.post("/staff/sign-in/code", data={"code": staff_totp_code(member), "csrf_token": token})
    assert response.status_code == 303
    location = response.headers["Location"]
    parts = urlsplit(location)
    assert parts.scheme in ("", "http") and parts.netloc in ("", "localhost"), location
    assert location.startswith("/") and not location.startswith(("//", "/\\")), location
    assert "\r" not in location and "\n" not in location
    assert urlsplit(urljoin("http://localhost/staff/sign-in/code", location)).netloc == "localhost", location


def test_anonymous_board_link_sends_to_sign_in_with_a_local_next(scene):
    app = scene.app
    for path in ("/board/tickets/" + quote("//evil.example"), "/board//evil.example",
                 "/board/tickets/%2F%2Fevil.example"):
        response = app.test_client().get(path)
        assert response.status_code in (302, 308, 400, 404), path
        if response.status_code != 404:
            assert urlsplit(response.headers["Location"]).netloc in ("", "localhost"), path


# --- the thread is never shown to a customer with a forged key -----------------------------------------


def test_internal_notes_and_routing_never_reach_the_customer(app, world, care):
    reference = world["refs"]["a"]
    response = post_action(care, reference, "reply", message="Ghi chú chỉ nhân viên", visibility="internal")
    assert response.status_code == 303
    page = text_of(customer_client(app, "a@example.vn").get(f"/requests/{reference}"))
    assert "Ghi chú chỉ nhân viên" not in page and "Lê Thị Care" not in page
    mails = db.session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == "a@example.vn"))
    assert all("Ghi chú chỉ nhân viên" not in mail.body_text for mail in mails)


def test_dates_far_in_the_past_or_future_do_not_break_the_queue(app, team, world):
    ticket = db.session.get(Ticket, world["ids"]["a"])
    ticket.due_at = datetime(9999, 12, 31, 16, 0, tzinfo=timezone.utc)
    db.session.commit()
    client = staff_client(app, team["care"])
    for params in ({"due_by": "9999-12-31"}, {"due_by": "0001-01-01"}, {"view": "overdue"}):
        assert client.get("/board/", query_string=params).status_code == 200
    assert client.get(f"/board/tickets/{world['refs']['a']}").status_code == 200
