"""Safe defaults: cross-site posts refused on the browser's own signals, SMTP errors stored without
the credentials (and nothing else) blanked, no development shortcuts unless development is asked
for, and the staff password link's token out of the URL at once."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from html import unescape
from pathlib import Path

import pytest
from sqlalchemy import select

import portal
from portal import create_app
from portal.db import db
from portal.email_links import EmailLink
from portal.extensions import limiter
from portal.hashing import verify_password
from portal.outbox.delivery import deliver_due
from portal.outbox.models import OutboxMessage
from portal.outbox.services import queue_email
from portal.outbox.transports import scrub
from portal.staff import services as staff_services
from portal.staff.models import StaffMember
from portal.tickets.models import TicketEntry
from tests.factories import make_customer, make_staff, new_ticket, pickup_everywhere
from tests.helpers import csrf_token, outbox, sign_in_staff

# --- item 9: cross-site posts are refused by the browser's own signals ----------------------------

FROM_ANOTHER_SITE = [
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "Cross-Site", "Origin": "http://localhost"},  # the fetch metadata is not overruled
    {"Sec-Fetch-Site": "same-site"},  # a sibling subdomain is another origin too
    {"Origin": "https://attacker.example"},
    {"Origin": "http://localhost.attacker.example"},
    {"Origin": "https://localhost"},  # another scheme is another origin
    {"Origin": "http://localhost:8080"},
    {"Origin": "null"},  # sandboxed frames, some cross-origin redirects
]
FROM_THIS_SITE = [
    {},  # no header at all: an older browser, a script; the CSRF token still guards it
    {"Sec-Fetch-Site": "same-origin", "Origin": "http://localhost"},
    {"Sec-Fetch-Site": "none"},  # the person typed or bookmarked it
    {"Origin": "http://localhost:80"},
]
REFUSED_VI = "Biểu mẫu này được gửi từ một trang web khác"


def ask_for_link(client, headers: dict):
    token = csrf_token(client, "/sign-in")
    return client.post("/sign-in", data={"email": "an.nguyen@example.vn", "csrf_token": token}, headers=headers)


@pytest.mark.parametrize("headers", FROM_ANOTHER_SITE)
def test_a_post_from_another_site_is_refused_and_changes_nothing(app, client, headers):
    make_customer()
    response = ask_for_link(client, headers)
    assert response.status_code == 403
    assert REFUSED_VI in unescape(response.get_data(as_text=True))  # Vietnamese, the default language
    assert outbox() == [] and db.session.scalars(select(EmailLink)).all() == []


@pytest.mark.parametrize("headers", FROM_THIS_SITE)
def test_a_post_from_this_site_goes_through(client, headers):
    make_customer()
    assert ask_for_link(client, headers).status_code == 303
    assert len(outbox()) == 1


def test_a_post_addressed_to_another_trusted_host_of_this_portal_goes_through(client):
    """The configured base URL is http://localhost; a person who opened http://127.0.0.1 (also a
    trusted host) posts with that origin, which is this portal's too."""
    make_customer()
    base = {"base_url": "http://127.0.0.1"}
    page = client.get("/sign-in", **base).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post("/sign-in", data={"email": "an.nguyen@example.vn", "csrf_token": token},
                           headers={"Origin": "http://127.0.0.1", "Sec-Fetch-Site": "same-origin"}, **base)
    assert response.status_code == 303


def test_pages_opened_from_another_site_still_open(client):
    """Links in e-mails and on other sites are GETs: they are never refused."""
    for path in ("/", "/sign-in", "/staff/sign-in"):
        assert client.get(path, headers={"Sec-Fetch-Site": "cross-site", "Origin": "null"}).status_code == 200


def test_a_staff_reply_posted_from_another_site_is_refused_in_english_too(app, clock):
    pickup_everywhere()
    member = make_staff("care")
    ticket = new_ticket(email="khach@example.vn", assignee_id=member.id)
    client = app.test_client()
    sign_in_staff(client, member, clock=clock)
    client.post("/language", data={"csrf_token": csrf_token(client, "/staff/"), "locale": "en", "next": "/staff/"})
    page = client.get(f"/board/tickets/{ticket.reference}").get_data(as_text=True)
    data = dict(re.findall(r'name="(reply-[a-z_]+)" type="hidden" value="([^"]*)"', page))
    data.update({"reply-message": "Gửi từ trang khác", "reply-visibility": "public"})
    response = client.post(f"/board/tickets/{ticket.reference}/reply", data=data,
                           headers={"Origin": "https://attacker.example", "Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 403
    assert "This form came from another website" in response.get_data(as_text=True)
    assert db.session.scalars(select(TicketEntry).where(TicketEntry.body == "Gửi từ trang khác")).all() == []
    # The same post from the ticket page itself is saved.
    response = client.post(f"/board/tickets/{ticket.reference}/reply", data=data,
                           headers={"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"})
    assert response.status_code == 303
    assert len(db.session.scalars(select(TicketEntry).where(TicketEntry.body == "Gửi từ trang khác")).all()) == 1


# --- item 10: stored SMTP errors lose the credentials and nothing else ------------------------------


def test_a_one_letter_user_name_is_scrubbed_where_it_stands_alone_and_nowhere_else(app, smtp_server, clock):
    app.config.update(smtp_server.app_config(), SMTP_USERNAME="u", SMTP_PASSWORD="Quiet-Sun-4821")
    smtp_server.auth_reply = ("535 5.7.8 User u unknown: authentication failed for u (password Quiet-Sun-4821), "
                              "contact your support bureau")
    message = queue_email("an.nguyen@example.vn", "sign_in_unknown", "vi", "sign_in_link",
                          token="test-token", code="ABCD-EFGH", minutes=10)
    db.session.commit()

    assert deliver_due(clock.now()) == 1

    db.session.expire_all()
    stored = db.session.get(OutboxMessage, message.id)
    expected = ("User *** unknown: authentication failed for *** (password ***), "
                "contact your support bureau")
    assert expected in stored.last_error
    assert [attempt.error for attempt in stored.attempts] == [stored.last_error]
    assert "Quiet-Sun-4821" not in stored.last_error


@pytest.mark.parametrize(("username", "password", "reply", "scrubbed"), [
    # The credentials standing alone, quoted, or inside "user=...": blanked.
    ("mailer", "tr0ub4dor&3", "535 no such user mailer", "535 no such user ***"),
    ("mailer", "tr0ub4dor&3", "535 bad password 'tr0ub4dor&3' for \"mailer\"", "535 bad password '***' for \"***\""),
    ("mailer", "tr0ub4dor&3", "535 user=mailer;pass=tr0ub4dor&3", "535 user=***;pass=***"),
    # As AUTH sends them, base64-encoded: blanked too.
    ("mailer", "tr0ub4dor&3", "535 rejected AG1haWxlcgB0cjB1YjRkb3ImMw==", "535 rejected ***"),
    ("mailer", "tr0ub4dor&3", "334 bWFpbGVy ok", "334 *** ok"),
    # Part of a longer word or number is not the credential: kept as the server wrote it.
    ("mailer", "4821", "421 mailers busy, queue 48213 full", "421 mailers busy, queue 48213 full"),
    ("u", "4821", "421 Service unavailable, try again", "421 Service unavailable, try again"),
    ("an", "4821", "535 Authentication unsuccessful for an account named an",
     "535 Authentication unsuccessful for *** account named ***"),
])
def test_scrubbing_blanks_exact_credentials_only(username, password, reply, scrubbed):
    config = {"SMTP_USERNAME": username, "SMTP_PASSWORD": password}
    assert scrub(reply, config) == scrubbed


def test_scrubbing_with_no_credentials_changes_nothing():
    assert scrub("535 5.7.8 Authentication required", {"SMTP_USERNAME": "", "SMTP_PASSWORD": ""}) == \
        "535 5.7.8 Authentication required"


# --- item 11: production unless development is asked for -------------------------------------------

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION_SETTINGS = {"SECRET_KEY": "a-long-random-production-secret-0123456789abcdef",
                       "BASE_URL": "https://privacy.khoingo.net", "TRUSTED_HOSTS": ["privacy.khoingo.net"],
                       "MAIL_TRANSPORT": "smtp", "INPROCESS_WORKER": True}


@pytest.fixture
def no_portal_environment(monkeypatch):
    """An operator's shell: no PORTAL_* variable set."""
    for name in list(os.environ):
        if name.startswith("PORTAL_"):
            monkeypatch.delenv(name)


def operator_environment(**variables) -> dict:
    """The environment of a command an operator starts: no PORTAL_* variable but ``variables``."""
    environment = {name: value for name, value in os.environ.items() if not name.startswith("PORTAL_")}
    environment.update(PYTHONPATH=str(ROOT), **variables)
    environment.pop("FLASK_APP", None)
    return environment


def run_command(arguments: list[str], tmp_path, **variables) -> subprocess.CompletedProcess:
    return subprocess.run(arguments, cwd=tmp_path, env=operator_environment(**variables), capture_output=True,
                          text=True, timeout=120, check=False)


def test_without_portal_env_the_default_secret_key_is_refused(no_portal_environment, tmp_path):
    with pytest.raises(RuntimeError, match="PORTAL_SECRET_KEY must be set.*PORTAL_ENV is production unless set"):
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'portal.db'}"})


def test_without_portal_env_there_is_no_mailbox_and_no_worker_thread(no_portal_environment, tmp_path, monkeypatch):
    monkeypatch.setenv("PORTAL_SERVE", "1")  # as `flask run` or gunicorn would serve it
    started = []
    monkeypatch.setattr(portal, "start_background_worker", started.append)
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'portal.db'}", **PRODUCTION_SETTINGS})
    assert app.config["ENV"] == "production"
    assert not any(rule.rule.startswith("/dev/mailbox") for rule in app.url_map.iter_rules())
    assert started == []


def test_a_misspelt_portal_env_is_refused_not_taken_for_development(no_portal_environment, tmp_path, monkeypatch):
    monkeypatch.setenv("PORTAL_ENV", "prod")
    with pytest.raises(RuntimeError, match="PORTAL_ENV must be production, development or testing"):
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'portal.db'}"})


@pytest.mark.skipif((ROOT / ".env").exists(), reason="a .env file beside wsgi.py would set the environment")
def test_wsgi_and_flask_worker_started_without_portal_env_refuse_to_start(tmp_path):
    """What an operator starts, as they start it: gunicorn imports wsgi.py; the worker is a command."""
    database = {"PORTAL_DATABASE_URL": f"sqlite:///{tmp_path / 'portal.db'}"}
    for command in ([sys.executable, "-c", "import wsgi"],
                    [sys.executable, "-m", "flask", "--app", "portal", "worker", "--once"]):
        started = run_command(command, tmp_path, **database)
        assert started.returncode != 0, command
        assert "PORTAL_SECRET_KEY must be set" in started.stderr, started.stderr


def test_development_is_what_portal_env_asks_for(no_portal_environment, tmp_path, monkeypatch):
    monkeypatch.setenv("PORTAL_ENV", "development")
    monkeypatch.setenv("PORTAL_DATABASE_URL", f"sqlite:///{tmp_path / 'portal.db'}")
    app = create_app()
    assert app.config["ENV"] == "development"
    assert any(rule.rule.startswith("/dev/mailbox") for rule in app.url_map.iter_rules())
    with app.app_context():
        db.create_all()
        result = app.test_cli_runner().invoke(args=["worker", "--once"])
        db.engine.dispose()
    assert result.exit_code == 0 and "Done: 0 item(s) of work." in result.output, result.output


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_run_and_make_worker_ask_for_development():
    """`make -n` prints what the targets would run, without running anything."""
    printed = subprocess.run([shutil.which("make"), "-n", "run", "worker"], cwd=ROOT, capture_output=True, text=True,
                             timeout=60, check=True).stdout
    flask_commands = [line for line in printed.splitlines() if "/flask " in line]
    assert len(flask_commands) == 4  # db upgrade, demo load, run; worker
    assert all(line.startswith("PORTAL_ENV=development ") for line in flask_commands)


# --- item 11: the staff password link's token leaves the URL -----------------------------------------

PASSWORD_PAGE = "/staff/password"
NEW_PASSWORD = "quiet-harbour-violet-2861"


def invited_member_and_link(clock):
    member = make_staff("care", password=None, enrolled=False)
    token = staff_services.issue_password_link(member, "invite", None, clock.now())
    db.session.commit()
    return member, token


def test_the_password_link_moves_its_token_into_a_cookie_and_shows_a_clean_url(app, client, clock):
    member, token = invited_member_and_link(clock)
    opened = client.get(f"/staff/password/{token}")
    assert opened.status_code == 303 and opened.headers["Location"] == PASSWORD_PAGE
    assert opened.headers["Referrer-Policy"] == "no-referrer"
    cookie = next(h for h in opened.headers.getlist("Set-Cookie") if h.startswith("kn_staff_password_link="))
    assert f"={token};" in cookie and "HttpOnly" in cookie and "Path=/staff/password" in cookie
    assert "SameSite=Lax" in cookie and "Max-Age=259200" in cookie  # as long as the invitation (72 hours)

    page = client.get(PASSWORD_PAGE)
    assert page.status_code == 200 and token not in page.get_data(as_text=True)
    assert f'action="{PASSWORD_PAGE}"' in page.get_data(as_text=True)
    form = {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD, "csrf_token": csrf_token(client, PASSWORD_PAGE)}
    done = client.post(PASSWORD_PAGE, data=form)
    assert done.status_code == 303 and done.headers["Location"] == "/staff/sign-in"
    assert any(h.startswith("kn_staff_password_link=;") for h in done.headers.getlist("Set-Cookie"))  # forgotten
    db.session.expire_all()
    assert verify_password(db.session.get(StaffMember, member.id).password_hash, NEW_PASSWORD)
    assert client.get(PASSWORD_PAGE).status_code == 410  # used, and no longer in the browser


def test_the_password_link_cookie_is_secure_over_https(make_app, clock):
    app = make_app(BASE_URL="https://localhost")
    _member, token = invited_member_and_link(clock)
    opened = app.test_client().get(f"/staff/password/{token}", base_url="https://localhost")
    cookie = next(h for h in opened.headers.getlist("Set-Cookie") if h.startswith("kn_staff_password_link="))
    assert "Secure" in cookie


def test_the_form_is_not_posted_to_the_address_with_the_token(client, clock):
    member, token = invited_member_and_link(clock)
    client.get(f"/staff/password/{token}")
    form = {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD, "csrf_token": csrf_token(client, PASSWORD_PAGE)}
    assert client.post(f"/staff/password/{token}", data=form).status_code == 405
    db.session.expire_all()
    assert db.session.get(StaffMember, member.id).password_hash is None


@pytest.mark.parametrize("path", ["/staff/password", "/staff/password/not-a-token"])
def test_without_a_usable_link_in_the_browser_the_page_says_the_link_does_not_work(client, clock, path):
    invited_member_and_link(clock)  # a link exists, but this browser never opened it
    response = client.get(path, follow_redirects=True)
    assert response.status_code == 410
    assert "Liên kết này không còn dùng được" in unescape(response.get_data(as_text=True))


def test_a_default_rate_limit_configured_still_applies_to_every_page(make_app):
    """The limiter's check before every request is taken off only while no default limit exists."""
    app = make_app(RATELIMIT_DEFAULT="2 per minute", RATELIMIT_ENABLED=True)
    client = app.test_client()
    try:
        assert [client.get("/").status_code for _ in range(3)] == [200, 200, 429]
    finally:  # the limiter is one object for every app of the process: the next apps get none
        limiter.limit_manager.set_default_limits([])
