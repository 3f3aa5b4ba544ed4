"""Staff accounts and sign-in: password + TOTP, enrolment, recovery codes, lockout,
server-side sessions, the administrator's pages, password links and ``flask staff create``.

Everything goes through HTTP and the real database; time is moved with the ``clock`` fixture.
"""

from __future__ import annotations

import html
import re
from datetime import datetime, timedelta, timezone
from urllib.parse import unquote

import pyotp
import pytest
from sqlalchemy import func, select

from portal.audit.models import AuditRecord
from portal.db import db
from portal.email_links import EmailLink
from portal.hashing import keyed_hash, sha256, verify_password
from portal.staff import services, signin
from portal.staff.models import StaffMember, StaffRecoveryCode, StaffSession
from portal.staff.passwords import password_problems
from tests.factories import make_staff
from tests.helpers import STAFF_PASSWORD, csrf_token, outbox, sign_in_staff, staff_client, staff_totp_code

NEW_PASSWORD = "quiet-harbour-violet-2861"
LINK = re.compile(r"https?://[^/\s]+(/staff/password/[A-Za-z0-9_\-]+)")
CLEAN_PASSWORD_PATH = "/staff/password"
RECOVERY_CODE = re.compile(r"<code>([A-Z2-9]{5}-[A-Z2-9]{5})</code>")


# --- helpers ---------------------------------------------------------------------------------------


def audit(action: str) -> list[AuditRecord]:
    return list(db.session.scalars(select(AuditRecord).where(AuditRecord.action == action)
                                   .order_by(AuditRecord.id)))


def fresh(member: StaffMember) -> StaffMember:
    db.session.expire_all()
    return db.session.get(StaffMember, member.id)


def post(client, path: str, data: dict | None = None, page: str | None = None):
    """Submit a form as a browser does: with the CSRF token of the page it is on."""
    return client.post(path, data={**(data or {}), "csrf_token": csrf_token(client, page or path)})


def enter_password(client, email: str, password: str = STAFF_PASSWORD, next_path: str = ""):
    return post(client, "/staff/sign-in", {"email": email, "password": password, "next": next_path})


def enter_code(client, code: str):
    return post(client, "/staff/sign-in/code", {"code": code})


def sign_out(client):
    response = post(client, "/staff/sign-out", page="/staff/")
    assert response.status_code == 303
    return response


def wrong_code(right: str) -> str:
    return f"{(int(right) + 1) % 1_000_000:06d}"


def code_at(member: StaffMember, clock, seconds: int = 0) -> str:
    return pyotp.TOTP(member.totp_secret).at(clock.now().timestamp() + seconds)


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def enrol(client, member: StaffMember, clock, password: str = STAFF_PASSWORD) -> list[str]:
    """First sign-in of a member without an authenticator: password, then confirm a code."""
    response = enter_password(client, member.email, password)
    assert response.headers["Location"].endswith("/staff/sign-in/enrol")
    client.get("/staff/sign-in/enrol")
    response = post(client, "/staff/sign-in/enrol", {"code": code_at(fresh(member), clock)})
    assert response.status_code == 200, response.get_data(as_text=True)
    return RECOVERY_CODE.findall(response.get_data(as_text=True))


def mailed_link(recipient: str) -> str:
    return LINK.search(outbox(recipient)[-1].body_text).group(1)


def open_link(client, path: str, **options):
    """Open a mailed password link as a browser does: its token moves into a cookie and the form
    is at a clean URL."""
    response = client.get(path, **options)
    assert response.status_code == 303 and response.headers["Location"] == CLEAN_PASSWORD_PATH
    return client.get(CLEAN_PASSWORD_PATH, **options)


def choose_password(client, path: str, password: str = NEW_PASSWORD, confirm: str | None = None):
    open_link(client, path)
    confirm = password if confirm is None else confirm
    return post(client, CLEAN_PASSWORD_PATH, {"password": password, "confirm": confirm})


def english(client):
    """Show the pages in English, so that the messages below read as in the code."""
    with client.session_transaction() as browser_session:
        browser_session["locale"] = "en"
    return client


@pytest.fixture
def client(app):
    return english(app.test_client())


@pytest.fixture
def admin(app, clock):
    return make_staff("admin", email="quan.tri@khoingo.net", name="Lê Quản Trị")


@pytest.fixture
def admin_client(app, admin, clock):
    return staff_client(app, admin, clock, in_english=True)


# --- sign-in ---------------------------------------------------------------------------------------


def test_full_sign_in_rotates_the_session_and_starts_a_server_side_one(client, clock):
    member = make_staff("care", name="Trần Thị Bích")
    with client.session_transaction() as browser_session:
        browser_session["left_over"] = "from before"
    response = sign_in_staff(client, member, clock=clock)
    assert response.headers["Location"].endswith("/staff/")

    page = client.get("/staff/")
    assert page.status_code == 200
    assert "Trần Thị Bích" in text(page) and "care@khoingo.net" in text(page)
    with client.session_transaction() as browser_session:
        assert "left_over" not in browser_session and "staff_sign_in" not in browser_session
        kind, _, key = browser_session["_user_id"].partition(":")
    row = db.session.scalars(select(StaffSession)).one()
    assert kind == "s" and row.key_hash == sha256(key) and key not in row.key_hash
    assert row.staff_id == member.id and row.ended_at is None
    member = fresh(member)
    assert member.last_sign_in_at == clock.now() and member.failed_sign_in_count == 0
    assert member.totp_last_step == pyotp.TOTP(member.totp_secret).timecode(clock.now())
    (signed_in,) = audit("staff.signed_in")
    assert signed_in.actor == signed_in.target == f"staff:{member.id}" and signed_in.data["method"] == "totp"


def test_the_password_alone_signs_nobody_in(client, clock):
    member = make_staff()
    assert enter_password(client, member.email).status_code == 303
    with client.session_transaction() as browser_session:
        assert set(browser_session["staff_sign_in"]) == {"id", "at", "next"}
        assert "_user_id" not in browser_session
    assert client.get("/staff/").headers["Location"].startswith("/staff/sign-in")
    assert db.session.scalar(select(func.count()).select_from(StaffSession)) == 0


def test_sign_in_returns_to_the_page_asked_for(client, clock, admin):
    response = client.get("/staff/admin/members")
    assert response.status_code == 302
    assert response.headers["Location"] == "/staff/sign-in?next=/staff/admin/members"
    enter_password(client, admin.email, next_path="/staff/admin/members")
    response = enter_code(client, staff_totp_code(admin, clock))
    assert response.headers["Location"] == "/staff/admin/members"


@pytest.mark.parametrize("email, password", [
    ("care@khoingo.net", "not-the-right-password"),
    ("nobody@khoingo.net", STAFF_PASSWORD),
])
def test_wrong_password_and_unknown_address_get_the_same_answer(client, clock, email, password):
    member = make_staff("care")
    response = enter_password(client, email, password)
    assert response.status_code == 400
    assert "E-mail address or password is not right." in text(response)
    assert fresh(member).failed_sign_in_count == 0  # a wrong password is recorded, never counted
    assert len(audit("staff.sign_in_failed")) == (1 if email == member.email else 0)


def test_the_second_step_expires_after_five_minutes(client, clock):
    member = make_staff()
    enter_password(client, member.email)
    token = csrf_token(client, "/staff/sign-in/code")  # the page is open...
    clock.advance(minutes=5, seconds=1)  # ...for too long
    response = client.post("/staff/sign-in/code", data={"code": staff_totp_code(member, clock), "csrf_token": token})
    assert response.status_code == 303 and response.headers["Location"] == "/staff/sign-in"
    assert client.get("/staff/").status_code == 302
    assert fresh(member).totp_last_step is None


# --- TOTP codes ------------------------------------------------------------------------------------


def test_wrong_code_is_refused_and_counted(client, clock):
    member = make_staff()
    enter_password(client, member.email)
    response = enter_code(client, wrong_code(code_at(member, clock)))
    assert response.status_code == 400
    assert "That code is not right. 4 attempts left." in text(response)
    assert client.get("/staff/").status_code == 302
    assert fresh(member).failed_sign_in_count == 1


@pytest.mark.parametrize("seconds", [-30, 30])
def test_codes_of_the_neighbouring_steps_are_accepted(client, clock, seconds):
    member = make_staff()
    enter_password(client, member.email)
    assert enter_code(client, code_at(member, clock, seconds)).status_code == 303


@pytest.mark.parametrize("seconds", [-60, -600, 60])
def test_expired_and_future_codes_are_refused(client, clock, seconds):
    member = make_staff()
    enter_password(client, member.email)
    response = enter_code(client, code_at(member, clock, seconds))
    assert response.status_code == 400 and "That code is not right." in text(response)


def test_a_code_is_never_accepted_twice(client, clock):
    member = make_staff()
    code = code_at(member, clock)
    enter_password(client, member.email)
    assert enter_code(client, code).status_code == 303
    sign_out(client)

    enter_password(client, member.email)
    response = enter_code(client, code)
    assert response.status_code == 400
    assert "This code has already been used." in text(response)
    # The previous step's code is inside the window but older than the one used: refused too.
    response = enter_code(client, code_at(member, clock, -30))
    assert response.status_code == 400
    assert fresh(member).failed_sign_in_count == 2
    # The next step's code works.
    assert enter_code(client, code_at(member, clock, 30)).status_code == 303


# --- enrolment and recovery codes --------------------------------------------------------------------


def test_first_sign_in_enrols_the_app_with_a_server_side_qr_code(client, clock):
    member = make_staff("sales", enrolled=False)
    response = enter_password(client, member.email)
    assert response.headers["Location"].endswith("/staff/sign-in/enrol")
    page = client.get("/staff/sign-in/enrol")
    member = fresh(member)
    assert member.totp_secret and member.totp_enrolled_at is None

    body = text(page)
    src = re.search(r'<img src="(data:image/svg\+xml[^"]+)"', page.get_data(as_text=True)).group(1)
    assert html.unescape(src) == signin.qr_data_uri(member)
    assert unquote(html.unescape(src)).split(",", 1)[1].startswith("<svg")
    uri = signin.provisioning_uri(member)
    assert uri.startswith("otpauth://totp/") and f"secret={member.totp_secret}" in uri and "issuer=" in uri
    assert signin.grouped(member.totp_secret) in body
    assert "<script" not in body and "style=" not in body
    assert client.get("/staff/").status_code == 302  # not signed in yet

    response = post(client, "/staff/sign-in/enrol", {"code": wrong_code(code_at(member, clock))})
    assert response.status_code == 400 and fresh(member).totp_enrolled_at is None
    assert "<img src=\"data:image/svg+xml" in response.get_data(as_text=True)

    response = post(client, "/staff/sign-in/enrol", {"code": code_at(member, clock)})
    assert response.status_code == 200
    codes = RECOVERY_CODE.findall(response.get_data(as_text=True))
    assert len(codes) == len(set(codes)) == 10
    member = fresh(member)
    assert member.totp_enrolled_at == clock.now()
    stored = list(db.session.scalars(select(StaffRecoveryCode.code_hash).where(
        StaffRecoveryCode.staff_id == member.id)))
    assert sorted(stored) == sorted(keyed_hash(f"staff-recovery:{member.id}:{code.replace('-', '')}")
                                    for code in codes)
    assert client.get("/staff/").status_code == 200
    assert [record.target for record in audit("staff.totp_enrolled")] == [f"staff:{member.id}"]
    # Shown once: the codes are in no later page, and the enrolment page is gone.
    assert client.get("/staff/sign-in/enrol").status_code == 303
    assert not any(code in client.get("/staff/").get_data(as_text=True) for code in codes)


def test_a_recovery_code_replaces_a_totp_code_once(client, clock):
    member = make_staff(enrolled=False)
    codes = enrol(client, member, clock)
    sign_out(client)

    enter_password(client, member.email)
    response = enter_code(client, codes[3].lower().replace("-", " "))
    assert response.status_code == 303
    assert client.get("/staff/").status_code == 200
    (used,) = audit("staff.recovery_code_used")
    assert used.data == {"codes_left": 9}
    assert fresh(member).totp_last_step is not None  # unchanged by a recovery code
    sign_out(client)

    enter_password(client, member.email)
    response = enter_code(client, codes[3])
    assert response.status_code == 400 and "That code is not right." in text(response)
    assert enter_code(client, codes[4]).status_code == 303
    assert db.session.scalar(select(func.count()).select_from(StaffRecoveryCode).where(
        StaffRecoveryCode.used_at.is_not(None))) == 2


# --- lockout -----------------------------------------------------------------------------------------


def test_wrong_passwords_never_lock_the_account(client, clock):
    member = make_staff()
    def answer(response):
        return response.status_code, tuple(re.findall(r'class="field-error"[^>]*>([^<]+)<', text(response)))

    unknown = {answer(enter_password(client, "nobody@khoingo.net", "wrong-password-guess")) for _ in range(2)}
    assert len(unknown) == 1 and next(iter(unknown))[0] == 400
    for _ in range(6):
        # A wrong password gets the unknown address's answer: no address is revealed.
        assert answer(enter_password(client, member.email, "wrong-password-guess")) in unknown
    member = fresh(member)
    assert member.locked_until is None and member.failed_sign_in_count == 0
    assert audit("staff.locked") == [] and len(audit("staff.sign_in_failed")) == 6  # recorded, not counted
    sign_in_staff(client, member, clock=clock)


def test_five_wrong_codes_lock_the_account_for_fifteen_minutes(client, clock):
    member = make_staff()
    assert enter_password(client, member.email, "wrong-password-guess").status_code == 400
    enter_password(client, member.email)
    bad = wrong_code(code_at(member, clock))
    for left in ("4 attempts", "3 attempts", "2 attempts", "1 attempt"):
        assert f"That code is not right. {left} left." in text(enter_code(client, bad))
    response = enter_code(client, bad)
    assert response.status_code == 429 and "locked" in text(response)
    member = fresh(member)
    assert member.locked_until == clock.now() + timedelta(minutes=15)
    (locked,) = audit("staff.locked")
    assert locked.target == f"staff:{member.id}" and locked.data["minutes"] == 15
    # The half-finished sign-in is dropped: the right code no longer helps.
    response = post(client, "/staff/sign-in/code", {"code": code_at(member, clock)}, page="/staff/sign-in")
    assert response.status_code == 303 and response.headers["Location"] == "/staff/sign-in"
    assert client.get("/staff/").status_code == 302

    # While locked, a wrong password gets the usual answer; only the right password learns of the lock.
    assert enter_password(client, member.email, "wrong-password-guess").status_code == 400
    clock.advance(minutes=14, seconds=59)
    response = enter_password(client, member.email)
    assert response.status_code == 429 and "this account is locked for 15 minutes" in text(response)
    clock.advance(seconds=1)
    sign_in_staff(client, member, clock=clock)
    member = fresh(member)
    assert member.failed_sign_in_count == 0 and member.locked_until is None
    assert len(audit("staff.locked")) == 1


def test_failures_reset_on_success(client, clock):
    member = make_staff()
    enter_password(client, member.email)
    bad = wrong_code(code_at(member, clock))
    for _ in range(4):
        assert enter_code(client, bad).status_code == 400
    assert enter_code(client, staff_totp_code(member, clock)).status_code == 303
    assert fresh(member).failed_sign_in_count == 0
    sign_out(client)
    enter_password(client, member.email)
    for _ in range(4):
        assert enter_code(client, bad).status_code == 400
    assert fresh(member).locked_until is None


def test_sign_in_posts_are_rate_limited_per_client(app, client, clock):
    app.config["SIGN_IN_ATTEMPTS_PER_CLIENT"] = "3 per minute"
    for _ in range(3):
        assert enter_password(client, "nobody@khoingo.net", "whatever-password").status_code == 400
    assert enter_password(client, "nobody@khoingo.net", "whatever-password").status_code == 429


# --- sessions --------------------------------------------------------------------------------------


def test_sign_out_ends_the_server_side_session(client, clock):
    member = make_staff()
    sign_in_staff(client, member, clock=clock)
    with client.session_transaction() as browser_session:
        stolen = dict(browser_session)
    sign_out(client)
    row = db.session.scalars(select(StaffSession)).one()
    assert row.end_reason == "signed_out" and row.ended_at == clock.now()
    with client.session_transaction() as browser_session:  # replay the old cookie
        browser_session.update(stolen)
    assert client.get("/staff/").status_code == 302


def only_session_end_reason() -> str:
    db.session.expire_all()
    return db.session.scalars(select(StaffSession)).one().end_reason


@pytest.mark.parametrize("minutes, signed_in", [(29, True), (30, False)])
def test_sessions_end_after_thirty_idle_minutes(client, clock, minutes, signed_in):
    sign_in_staff(client, make_staff(), clock=clock)
    clock.advance(minutes=minutes)
    assert client.get("/staff/").status_code == (200 if signed_in else 302)
    if not signed_in:
        assert only_session_end_reason() == "idle"


def test_sessions_end_after_twelve_hours_however_busy(client, clock):
    sign_in_staff(client, make_staff(), clock=clock)
    for _ in range(12 * 60 // 20 - 1):
        clock.advance(minutes=20)
        assert client.get("/staff/").status_code == 200
    clock.advance(minutes=19, seconds=59)
    assert client.get("/staff/").status_code == 200
    clock.advance(seconds=1)
    assert client.get("/staff/").status_code == 302
    assert only_session_end_reason() == "expired"


def test_a_deactivated_members_session_is_anonymous_at_the_next_request(app, admin_client, clock):
    member = make_staff("care")
    member_client = english(app.test_client())
    sign_in_staff(member_client, member, clock=clock)
    assert member_client.get("/staff/").status_code == 200

    response = post(admin_client, f"/staff/admin/members/{member.id}/deactivate",
                    page=f"/staff/admin/members/{member.id}")
    assert response.status_code == 303
    response = member_client.get("/staff/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/staff/sign-in")
    member = fresh(member)
    assert not member.is_active and member.deactivated_at == clock.now()
    assert db.session.scalars(select(StaffSession).where(StaffSession.staff_id == member.id)).one().end_reason \
        == "deactivated"
    (deactivated,) = audit("staff.deactivated")
    assert deactivated.actor != deactivated.target == f"staff:{member.id}"
    assert enter_password(member_client, member.email).status_code == 400
    assert db.session.get(StaffMember, member.id) is not None  # never deleted

    post(admin_client, f"/staff/admin/members/{member.id}/reactivate", page=f"/staff/admin/members/{member.id}")
    assert fresh(member).is_active and len(audit("staff.reactivated")) == 1
    sign_in_staff(member_client, member, clock=clock)


def test_a_member_deactivated_by_another_process_is_signed_out_at_the_next_request(client, clock):
    member = make_staff()
    sign_in_staff(client, member, clock=clock)
    fresh(member).is_active = False  # as if changed elsewhere, without ending the sessions
    db.session.commit()
    assert client.get("/staff/").status_code == 302
    assert only_session_end_reason() == "deactivated"


def test_a_role_change_applies_at_the_next_request(app, admin, admin_client, clock):
    other_admin = make_staff("admin", email="giam.sat@khoingo.net")
    other_client = english(app.test_client())
    sign_in_staff(other_client, other_admin, clock=clock)
    assert admin_client.get("/staff/admin/members").status_code == 200

    response = post(other_client, f"/staff/admin/members/{admin.id}/role", {"role": "care"},
                    page=f"/staff/admin/members/{admin.id}")
    assert response.status_code == 303
    assert admin_client.get("/staff/admin/members").status_code == 404
    assert admin_client.get("/staff/").status_code == 200  # still signed in, as care
    (changed,) = audit("staff.role_changed")
    assert changed.actor == f"staff:{other_admin.id}" and changed.data == {"old": "admin", "new": "care"}


@pytest.mark.parametrize("action, data", [("role", {"role": "board"}), ("deactivate", {})])
def test_the_last_active_administrator_stays(admin, admin_client, clock, action, data):
    response = post(admin_client, f"/staff/admin/members/{admin.id}/{action}", data,
                    page=f"/staff/admin/members/{admin.id}")
    if response.status_code == 303:  # a button: the message is shown on the page it returns to
        response = admin_client.get(response.headers["Location"])
    assert "At least one active administrator must remain." in text(response)
    admin = fresh(admin)
    assert admin.role == "admin" and admin.is_active
    assert not audit("staff.role_changed") and not audit("staff.deactivated")


# --- the administrator's pages and password links ---------------------------------------------------


def test_invitation_link_sets_the_password_once(app, admin, admin_client, clock):
    response = post(admin_client, "/staff/admin/members",
                    {"full_name": "Phạm Minh Châu", "email": "Chau.Pham@KhoiNgo.net", "role": "sales"})
    assert response.status_code == 303
    member = db.session.scalars(select(StaffMember).where(StaffMember.email == "chau.pham@khoingo.net")).one()
    assert member.role == "sales" and member.password_hash is None and member.is_active
    (message,) = outbox("chau.pham@khoingo.net")
    assert message.purpose == "staff_invite" and "Phạm Minh Châu" in message.body_text
    path = mailed_link("chau.pham@khoingo.net")
    token = path.rsplit("/", 1)[1]
    link = db.session.scalars(select(EmailLink)).one()
    assert len(token) >= 22 and link.token_hash == sha256(token) and token not in message.subject
    assert link.purpose == "staff_invite" and link.expires_at == clock.now() + timedelta(hours=72)
    assert link.created_by_id == admin.id
    assert [r.action for r in db.session.scalars(select(AuditRecord).where(
        AuditRecord.target == f"staff:{member.id}").order_by(AuditRecord.id))] == \
        ["staff.created", "staff.invitation_sent"]

    new_client = english(app.test_client())
    page = open_link(new_client, path)
    assert page.status_code == 200 and page.headers["Referrer-Policy"] == "same-origin"
    assert open_link(new_client, path).status_code == 200  # a GET uses nothing up
    response = post(new_client, CLEAN_PASSWORD_PATH, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 303 and response.headers["Location"] == "/staff/sign-in"
    member = fresh(member)
    assert member.password_hash.startswith("$argon2id$") and verify_password(member.password_hash, NEW_PASSWORD)
    assert NEW_PASSWORD not in member.password_hash
    assert len(audit("staff.password_set")) == 1

    assert open_link(new_client, path).status_code == 410  # used
    codes = enrol(new_client, member, clock, NEW_PASSWORD)
    assert len(codes) == 10


def test_reused_altered_and_replaced_links_are_refused(app, admin, admin_client, clock):
    member = make_staff("care", password=None, enrolled=False)
    member_page = f"/staff/admin/members/{member.id}"
    post(admin_client, f"{member_page}/password-reset", page=member_page)
    first = mailed_link(member.email)
    assert outbox(member.email)[-1].purpose == "staff_invite"  # never had a password: a new invitation

    client = english(app.test_client())
    altered = first[:-2] + ("AA" if not first.endswith("AA") else "BB")
    for path in (altered, first + "x", first[:-1], "/staff/password/" + "a" * 200):
        response = open_link(client, path)
        assert response.status_code == 410 and "This link no longer works" in text(response)

    post(admin_client, f"{member_page}/password-reset", page=member_page)
    second = mailed_link(member.email)
    assert second != first and open_link(client, first).status_code == 410  # a newer link voids the older
    assert choose_password(client, second).status_code == 303
    open_link(client, second)
    again = client.post(CLEAN_PASSWORD_PATH, data={
        "password": "another-long-phrase-91", "confirm": "another-long-phrase-91",
        "csrf_token": csrf_token(client, "/staff/sign-in")})
    assert again.status_code == 410
    assert verify_password(fresh(member).password_hash, NEW_PASSWORD)
    assert len(audit("staff.password_set")) == 1


@pytest.mark.parametrize("purpose, hours", [("invite", 72), ("reset", 24)])
def test_links_expire(client, clock, purpose, hours):
    member = make_staff("care", password=None if purpose == "invite" else STAFF_PASSWORD, enrolled=False)
    token = services.issue_password_link(member, purpose, None, clock.now())
    db.session.commit()
    path = f"/staff/password/{token}"
    clock.advance(hours=hours, minutes=-10)
    assert open_link(client, path).status_code == 200
    token_of_page = csrf_token(client, CLEAN_PASSWORD_PATH)
    clock.advance(minutes=10)
    response = client.post(CLEAN_PASSWORD_PATH, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD,
                                                      "csrf_token": token_of_page})
    assert response.status_code == 410
    assert open_link(client, path).status_code == 410
    assert not verify_password(fresh(member).password_hash, NEW_PASSWORD)


def test_admin_password_reset_mails_a_link_and_changes_nothing_else(app, admin_client, clock):
    member = make_staff("board")
    member_client = english(app.test_client())
    sign_in_staff(member_client, member, clock=clock)
    before = fresh(member)
    old_hash, old_secret = before.password_hash, before.totp_secret

    response = post(admin_client, f"/staff/admin/members/{member.id}/password-reset",
                    page=f"/staff/admin/members/{member.id}")
    assert response.status_code == 303
    (message,) = outbox(member.email)
    assert message.purpose == "staff_reset" and NEW_PASSWORD not in message.body_text
    member = fresh(member)
    assert (member.password_hash, member.totp_secret, member.is_active) == (old_hash, old_secret, True)
    assert member_client.get("/staff/").status_code == 200  # still signed in
    (started,) = audit("staff.password_reset_started")
    assert started.target == f"staff:{member.id}" and started.actor != started.target

    path = mailed_link(member.email)
    response = choose_password(english(app.test_client()), path)
    assert response.status_code == 303
    assert member_client.get("/staff/").status_code == 302  # the old sessions end with the old password
    assert fresh(member).totp_secret == old_secret
    other = english(app.test_client())
    assert enter_password(other, member.email, STAFF_PASSWORD).status_code == 400
    sign_in_staff(other, member, NEW_PASSWORD, clock=clock)


def test_admin_pages_list_and_show_members_but_never_passwords(admin, admin_client, clock):
    member = make_staff("sales", name="Đỗ Văn Sáng")
    page = text(admin_client.get("/staff/admin/members"))
    assert "Đỗ Văn Sáng" in page and "sales@khoingo.net" in page and admin.email in page
    detail = admin_client.get(f"/staff/admin/members/{member.id}")
    assert detail.status_code == 200 and "$argon2" not in detail.get_data(as_text=True)
    assert 'type="password"' not in detail.get_data(as_text=True)
    assert admin_client.get("/staff/admin/members/99999").status_code == 404


@pytest.mark.parametrize("data, message", [
    ({"full_name": "X", "email": "care@khoingo.net", "role": "care"},
     "A staff member with this e-mail address already exists."),
    ({"full_name": "X", "email": "not an address", "role": "care"}, "This is not a valid e-mail address."),
    ({"full_name": "X", "email": "x@khoingo.net", "role": "owner"}, "Not a valid choice"),
    ({"full_name": "", "email": "x@khoingo.net", "role": "care"}, "Enter the member's name."),
    ({"full_name": "   ", "email": "x@khoingo.net", "role": "care"}, "Enter the member's name."),
])
def test_invitation_form_refuses_bad_input_and_changes_nothing(admin_client, clock, data, message):
    make_staff("care")
    response = post(admin_client, "/staff/admin/members", data)
    assert response.status_code == 400 and message in text(response)
    assert db.session.scalar(select(func.count()).select_from(StaffMember)) == 2
    assert not outbox() and not audit("staff.created")


@pytest.mark.parametrize("role", ["board", "sales", "care"])
@pytest.mark.parametrize("method, path", [
    ("get", "/staff/admin/members"),
    ("get", "/staff/admin/members/{id}"),
    ("post", "/staff/admin/members"),
    ("post", "/staff/admin/members/{id}/role"),
    ("post", "/staff/admin/members/{id}/deactivate"),
    ("post", "/staff/admin/members/{id}/reactivate"),
    ("post", "/staff/admin/members/{id}/password-reset"),
])
def test_non_administrators_get_404_on_admin_pages(client, admin, clock, role, method, path):
    member = make_staff(role)
    sign_in_staff(client, member, clock=clock)
    url = path.format(id=admin.id)
    if method == "get":
        response = client.get(url)
    else:
        response = client.post(url, data={"role": "care", "full_name": "X", "email": "x@khoingo.net",
                                          "csrf_token": csrf_token(client, "/staff/")})
    assert response.status_code == 404
    assert fresh(admin).role == "admin" and fresh(admin).is_active and not outbox()


def test_anonymous_visitors_are_sent_to_staff_sign_in(client, admin):
    response = client.get(f"/staff/admin/members/{admin.id}")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/staff/sign-in?next=/staff/admin/members/{admin.id}"


# --- password rules --------------------------------------------------------------------------------


@pytest.mark.parametrize("password, message", [
    ("short-pass1", "Use at least 12 characters."),
    ("x" * 129, "Use at most 128 characters."),
    ("password1234", "This password is one of the most common ones."),
    ("Password@123", "This password is one of the most common ones."),
    ("MatKhau123456", "This password is one of the most common ones."),
    ("123456789012", "This password is one of the most common ones."),
    ("minh.chau-secret-garden", "Do not use your e-mail address in your password."),
    ("MinhChau forever garden", "Do not use your e-mail address in your password."),
    ("khoingo-secret-garden", "Do not use the company's name in your password."),
    ("Khôi Ngô vững bền 2026", "Do not use the company's name in your password."),
])
def test_weak_passwords_are_refused_with_a_clear_message(app, client, clock, password, message):
    member = make_staff("care", email="minh.chau@khoingo.net", password=None, enrolled=False)
    token = services.issue_password_link(member, "invite", None, clock.now())
    db.session.commit()
    path = f"/staff/password/{token}"
    response = choose_password(client, path, password)
    assert response.status_code == 400 and message in text(response)
    assert fresh(member).password_hash is None
    assert open_link(client, path).status_code == 200  # the link still works


def test_the_two_passwords_must_match(client, clock):
    member = make_staff("care", password=None, enrolled=False)
    token = services.issue_password_link(member, "invite", None, clock.now())
    db.session.commit()
    response = choose_password(client, f"/staff/password/{token}", NEW_PASSWORD, NEW_PASSWORD + "!")
    assert response.status_code == 400 and "The two passwords are not the same." in text(response)


@pytest.mark.parametrize("password, email, ok", [
    ("quiet-harbour-violet-2861", "an@khoingo.net", True),  # a two-letter local part is not checked
    ("anh-quiet-harbour-2861", "anh@khoingo.net", False),
    ("correct horse battery staple", "lan@khoingo.net", True),
    ("aaaaaaaaaaaa", "lan@khoingo.net", False),
    ("qwertyuiop123", "lan@khoingo.net", False),
    ("   password1234   ", "lan@khoingo.net", False),
    ("Ðạt-Khoi_Ngo-99x", "lan@khoingo.net", False),
])
def test_password_rules(app, password, email, ok):
    assert (password_problems(password, email) == []) is ok


# --- CSRF ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/staff/sign-in", "/staff/sign-in/code", "/staff/sign-in/enrol", "/staff/sign-out"])
def test_sign_in_forms_need_the_csrf_token(client, clock, path):
    member = make_staff()
    response = client.post(path, data={"email": member.email, "password": STAFF_PASSWORD, "code": "123456"})
    assert response.status_code == 400
    assert not audit("staff.sign_in_failed") and fresh(member).failed_sign_in_count == 0


def test_admin_forms_need_the_csrf_token(admin, admin_client, clock):
    member = make_staff("care")
    for path, data in [(f"/staff/admin/members/{member.id}/role", {"role": "board"}),
                       (f"/staff/admin/members/{member.id}/deactivate", {}),
                       (f"/staff/admin/members/{member.id}/password-reset", {}),
                       ("/staff/admin/members", {"full_name": "X", "email": "x@khoingo.net", "role": "care"})]:
        assert admin_client.post(path, data=data).status_code == 400
    member = fresh(member)
    assert member.role == "care" and member.is_active and not outbox()


# --- flask staff create ----------------------------------------------------------------------------


def test_flask_staff_create_makes_the_first_administrator(app, runner, client, clock):
    result = runner.invoke(args=["staff", "create", "--email", "Boss@KhoiNgo.net", "--name", "Ngô Khôi",
                                 "--role", "admin"], input=f"{NEW_PASSWORD}\n{NEW_PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert NEW_PASSWORD not in result.output
    member = db.session.scalars(select(StaffMember)).one()
    assert (member.email, member.full_name, member.role) == ("boss@khoingo.net", "Ngô Khôi", "admin")
    assert verify_password(member.password_hash, NEW_PASSWORD) and member.totp_enrolled_at is None
    (created,) = audit("staff.created")
    assert created.actor == "cli" and created.target == f"staff:{member.id}"
    codes = enrol(client, member, clock, NEW_PASSWORD)
    assert len(codes) == 10 and client.get("/staff/admin/members").status_code == 200


@pytest.mark.parametrize("args, typed, message", [
    (["--role", "admin"], f"{NEW_PASSWORD}\n{NEW_PASSWORD}\n", "already exists"),
    (["--role", "admin"], "password1234\npassword1234\n", "one of the most common ones"),
    (["--role", "admin"], "short\nshort\n", "at least 12 characters"),
    (["--role", "owner"], f"{NEW_PASSWORD}\n{NEW_PASSWORD}\n", "Invalid value for '--role'"),
])
def test_flask_staff_create_refuses_bad_input(runner, clock, args, typed, message):
    make_staff("care", email="taken@khoingo.net")
    email = "taken@khoingo.net" if message == "already exists" else "new@khoingo.net"
    result = runner.invoke(args=["staff", "create", "--email", email, "--name", "Người Mới", *args], input=typed)
    assert result.exit_code != 0 and message in result.output
    assert db.session.scalar(select(func.count()).select_from(StaffMember)) == 1


def test_flask_staff_create_asks_again_when_the_passwords_differ(runner, clock):
    result = runner.invoke(args=["staff", "create", "--email", "a@khoingo.net", "--name", "A", "--role", "care"],
                           input=f"{NEW_PASSWORD}\nsomething-else-entirely\n{NEW_PASSWORD}\n{NEW_PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert "do not match" in result.output


def test_signed_in_staff_opening_the_home_page_lands_on_the_board_home(client):
    member = make_staff(role="care")
    sign_in_staff(client, member, STAFF_PASSWORD)
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/staff/")
    assert client.get("/staff/").status_code == 200
    assert client.get("/sign-in").status_code == 200  # the customer sign-in form, not a redirect loop


def test_password_link_tokens_are_redacted_in_access_logs():
    import logging

    from portal.security import RedactSecretPaths

    record = logging.LogRecord("werkzeug", logging.INFO, __file__, 1, '"%s" %s',
                               ("GET /staff/password/s3cr3tT0ken HTTP/1.1", "200"), None)
    RedactSecretPaths().filter(record)
    assert "s3cr3tT0ken" not in record.getMessage() and "/staff/password/[redacted]" in record.getMessage()


def test_admin_resets_a_lost_authenticator(app, admin_client, clock):
    member = make_staff("care")
    member_client = english(app.test_client())
    sign_in_staff(member_client, member, clock=clock)
    old_secret = fresh(member).totp_secret
    page = f"/staff/admin/members/{member.id}"
    assert "Reset the authenticator" in admin_client.get(page).get_data(as_text=True)

    response = post(admin_client, f"{page}/authenticator-reset", page=page)
    assert response.status_code == 303
    member = fresh(member)
    assert (member.totp_secret, member.totp_enrolled_at, member.password_hash is not None) == (None, None, True)
    assert member_client.get("/staff/").status_code == 302  # signed out everywhere
    (reset,) = audit("staff.authenticator_reset")
    assert reset.target == f"staff:{member.id}"

    other = english(app.test_client())
    response = enter_password(other, member.email)
    assert response.status_code == 303 and "/staff/sign-in/enrol" in response.headers["Location"]
    assert other.get("/staff/sign-in/enrol").status_code == 200  # a new QR code to scan
    assert fresh(member).totp_secret not in (None, old_secret)


def test_only_admins_reset_authenticators(app, clock):
    member = make_staff("care")
    board = make_staff("board", email="board@khoingo.net")
    client = english(app.test_client())
    sign_in_staff(client, board, clock=clock)
    response = client.post(f"/staff/admin/members/{member.id}/authenticator-reset",
                           data={"csrf_token": csrf_token(client, "/staff/")})
    assert response.status_code == 404
    assert fresh(member).totp_secret is not None


def test_staff_language_choice_is_saved_and_used_for_their_email(app, clock):
    from datetime import timedelta

    from portal.tickets import services as tickets

    member = make_staff("board", email="giamdoc@khoingo.net")
    client = app.test_client()
    sign_in_staff(client, member, clock=clock)
    response = client.post("/language", data={"locale": "en", "next": "/staff/",
                                              "csrf_token": csrf_token(client, "/staff/")})
    assert response.status_code == 303
    assert fresh(member).preferred_locale == "en"
    (changed,) = audit("locale_changed")
    assert (changed.actor, changed.data["new"]) == (f"staff:{member.id}", "en")
    fresh_browser = app.test_client()
    clock.advance(seconds=31)  # the next TOTP step: a code is never accepted twice
    sign_in_staff(fresh_browser, member, clock=clock)
    assert '<html lang="en">' in fresh_browser.get("/staff/").get_data(as_text=True)
    ticket, _ = tickets.create_ticket(kind="leak_complaint", body="lộ dữ liệu", requester_email="a@example.vn",
                                      customer_id=None, locale="vi", now=clock.now())
    db.session.commit()
    tickets.escalate_overdue(ticket.due_at + timedelta(minutes=1))
    db.session.commit()
    (overdue,) = [m for m in outbox(member.email) if m.purpose == "ticket_overdue"]
    assert overdue.locale == "en" and overdue.subject.startswith("Overdue")


def test_password_link_form_works_over_https_with_the_strict_referrer_check(make_app):
    """Browsers send the page's Referer with the form's POST; Flask-WTF's HTTPS check needs it."""
    app = make_app(BASE_URL="https://localhost")
    member = make_staff("care", password=None, enrolled=False)
    token = services.issue_password_link(member, "invite", None, datetime.now(timezone.utc))
    db.session.commit()
    client = app.test_client()
    page = open_link(client, f"/staff/password/{token}", base_url="https://localhost")
    assert page.headers["Referrer-Policy"] == "same-origin"
    path = CLEAN_PASSWORD_PATH
    data = {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD,
            "csrf_token": re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', text(page)).group(1)}
    response = client.post(path, data=data, base_url="https://localhost",
                           headers={"Referer": f"https://localhost{path}"})
    assert response.status_code == 303
    assert verify_password(fresh(member).password_hash, NEW_PASSWORD)


def test_staff_posting_the_customer_sign_out_is_signed_out_properly(app, clock):
    member = make_staff("care")
    client = english(app.test_client())
    sign_in_staff(client, member, clock=clock)
    response = client.post("/sign-out", data={"csrf_token": csrf_token(client, "/staff/")}, follow_redirects=True)
    assert response.status_code == 200
    assert client.get("/staff/").status_code == 302
    assert [s.end_reason for s in db.session.scalars(select(StaffSession))] == ["signed_out"]
