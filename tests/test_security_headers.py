"""Security headers, cookie flags, production start-up checks and redaction of tokens in logs."""

from __future__ import annotations

import http.client
import logging
import re
import threading

import pytest
from werkzeug.serving import make_server

from portal import create_app
from portal.config import DEFAULT_SECRET_KEY
from portal.security import CONTENT_SECURITY_POLICY, RedactSecretPaths
from tests.factories import make_customer
from tests.helpers import link_and_code, outbox, request_link, sign_in

CSRF_FIELD = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
TOKEN = "k3Yq9f_Zr0-abcdefghijklmnopqrstuvwxyz0123456"




def set_cookie_header(response, name: str) -> str:
    headers = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(f"{name}=")]
    assert headers, f"{name} was not set"
    return headers[-1]


def assert_strict_headers(response, referrer_policy: str = "same-origin") -> None:
    headers = response.headers
    assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    csp = headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp and "form-action 'self'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp and "*" not in csp
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == referrer_policy


@pytest.mark.parametrize(("method", "path", "status"), [
    ("GET", "/", 200),
    ("GET", "/sign-in", 200),
    ("GET", "/sign-in?next=/my-data", 200),
    ("GET", "/sign-in/sent", 200),
    ("GET", "/sign-in/continue", 410),
    ("HEAD", "/sign-in/continue", 410),
    ("GET", "/my-data", 302),
    ("GET", "/healthz", 200),
    ("POST", "/sign-in", 400),  # no CSRF token
])
def test_every_page_has_the_strict_headers_and_is_not_cached(client, method, path, status):
    response = client.open(path, method=method)
    assert response.status_code == status
    assert_strict_headers(response)
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("path", ["/no-such-page", "/sign-in/link/"])
def test_error_pages_have_the_strict_headers(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert_strict_headers(response)


def test_static_files_have_the_strict_headers_and_may_be_cached(client):
    response = client.get("/static/css/portal.css")
    assert response.status_code == 200
    assert_strict_headers(response)
    assert "no-store" not in response.headers.get("Cache-Control", "")
    response.close()


def test_sign_in_flow_pages_have_the_strict_headers(client, customer):
    response = request_link(client, "an.nguyen@example.vn")
    assert response.status_code == 303
    assert_strict_headers(response)
    path, _code = link_and_code(outbox()[-1])

    link = client.get(path)
    assert link.status_code == 303
    assert_strict_headers(link, referrer_policy="no-referrer")  # the token never leaks in a Referer
    assert link.headers["Cache-Control"] == "no-store"

    page = client.get("/sign-in/continue")
    assert page.status_code == 200
    assert_strict_headers(page)
    assert page.headers["Cache-Control"] == "no-store"

    token = CSRF_FIELD.search(page.get_data(as_text=True)).group(1)
    signed_in = client.post("/sign-in/continue", data={"csrf_token": token})
    assert signed_in.status_code == 303
    assert_strict_headers(signed_in)
    my_data = client.get("/my-data")
    assert my_data.status_code == 200 and "Nguyễn Văn An" in my_data.get_data(as_text=True)
    assert_strict_headers(my_data)
    assert my_data.headers["Cache-Control"] == "no-store"


def test_no_hsts_over_plain_http(client):
    assert "Strict-Transport-Security" not in client.get("/").headers


def test_cookies_are_http_only_and_same_site_lax(client, customer):
    page = client.get("/sign-in")
    session_cookie = set_cookie_header(page, "kn_session")
    assert "HttpOnly" in session_cookie and "SameSite=Lax" in session_cookie
    assert "Secure" not in session_cookie  # PORTAL_BASE_URL is http:// in tests

    token = CSRF_FIELD.search(page.get_data(as_text=True)).group(1)
    asked = client.post("/sign-in", data={"csrf_token": token, "email": "an.nguyen@example.vn"})
    nonce = set_cookie_header(asked, "kn_signin_nonce")
    assert "HttpOnly" in nonce and "SameSite=Lax" in nonce and "Path=/sign-in" in nonce
    assert "Max-Age=600" in nonce

    path, _code = link_and_code(outbox()[-1])
    link_cookie = set_cookie_header(client.get(path), "kn_signin_link")
    assert "HttpOnly" in link_cookie and "SameSite=Lax" in link_cookie and "Path=/sign-in" in link_cookie

    sign_in_page = client.get("/sign-in/continue").get_data(as_text=True)
    signed_in = client.post("/sign-in/continue", data={"csrf_token": CSRF_FIELD.search(sign_in_page).group(1)})
    rotated = set_cookie_header(signed_in, "kn_session")
    assert "HttpOnly" in rotated and "SameSite=Lax" in rotated


@pytest.fixture
def https_app(make_app):
    return make_app(BASE_URL="https://localhost")


def test_cookies_are_secure_when_the_base_url_is_https(https_app):
    make_customer()
    client = https_app.test_client()
    base = {"base_url": "https://localhost"}
    page = client.get("/sign-in", **base)
    assert "Secure" in set_cookie_header(page, "kn_session")
    assert page.headers["Strict-Transport-Security"].startswith("max-age=")
    assert_strict_headers(page)

    token = CSRF_FIELD.search(page.get_data(as_text=True)).group(1)
    asked = client.post("/sign-in", data={"csrf_token": token, "email": "an.nguyen@example.vn"},
                        headers={"Referer": "https://localhost/sign-in"}, **base)
    assert asked.status_code == 303
    nonce = set_cookie_header(asked, "kn_signin_nonce")
    assert "Secure" in nonce and "HttpOnly" in nonce

    path, _code = link_and_code(outbox()[-1])
    assert outbox()[-1].body_text.count("https://localhost/sign-in/link/") == 1
    link = client.get(path, **base)
    assert "Secure" in set_cookie_header(link, "kn_signin_link")

    page = client.get("/sign-in/continue", **base)
    token = CSRF_FIELD.search(page.get_data(as_text=True)).group(1)
    signed_in = client.post("/sign-in/continue", data={"csrf_token": token},
                            headers={"Referer": "https://localhost/sign-in/continue"}, **base)
    assert signed_in.status_code == 303
    session_cookie = set_cookie_header(signed_in, "kn_session")
    assert "Secure" in session_cookie and "HttpOnly" in session_cookie and "SameSite=Lax" in session_cookie


# --- production start-up checks --------------------------------------------------------------------


def _production(tmp_path, **overrides) -> dict:
    settings = {
        "ENV": "production",
        "SECRET_KEY": "a-long-random-production-secret-0123456789abcdef",
        "BASE_URL": "https://privacy.khoingo.net",
        "TRUSTED_HOSTS": ["privacy.khoingo.net"],
        "MAIL_TRANSPORT": "smtp",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'production.db'}",
        "INPROCESS_WORKER": False,
    }
    settings.update(overrides)
    return settings


@pytest.mark.parametrize(("overrides", "message"), [
    ({"SECRET_KEY": DEFAULT_SECRET_KEY}, "PORTAL_SECRET_KEY"),
    ({"SECRET_KEY": "too-short-0123456789"}, "PORTAL_SECRET_KEY"),
    ({"SECRET_KEY": ""}, "PORTAL_SECRET_KEY"),
    ({"BASE_URL": "http://privacy.khoingo.net"}, "PORTAL_BASE_URL"),
    ({"MAIL_TRANSPORT": "mailbox"}, "PORTAL_MAIL_TRANSPORT"),
])
def test_production_refuses_to_start_with_unsafe_settings(tmp_path, overrides, message):
    with pytest.raises(RuntimeError, match=message):
        create_app(_production(tmp_path, **overrides))


def test_production_refuses_the_default_secret_key_even_when_only_env_is_set(tmp_path):
    with pytest.raises(RuntimeError, match="PORTAL_SECRET_KEY"):
        create_app({"ENV": "production", "DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}"})


def test_production_starts_with_safe_settings(tmp_path):
    app = create_app(_production(tmp_path))
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert not any(rule.rule.startswith("/dev/mailbox") for rule in app.url_map.iter_rules())


# --- tokens never reach the logs -------------------------------------------------------------------


def test_redaction_filter_is_installed_on_the_access_loggers(app):
    for name in ("werkzeug", "gunicorn.access"):
        assert any(isinstance(f, RedactSecretPaths) for f in logging.getLogger(name).filters)


@pytest.fixture
def werkzeug_logging(monkeypatch):
    """The werkzeug logger, enabled: Alembic's fileConfig (run by the migration tests) disables it."""
    logger = logging.getLogger("werkzeug")
    monkeypatch.setattr(logger, "disabled", False)
    return logger


def test_werkzeug_access_log_line_is_redacted(app, caplog, werkzeug_logging):
    logger = werkzeug_logging
    with caplog.at_level(logging.INFO, logger="werkzeug"):
        logger.info('%s - - [%s] "%s" %s %s', "127.0.0.1", "01/Jan/2026 10:00:00",
                    f"GET /sign-in/link/{TOKEN} HTTP/1.1", "303", "-")
        logger.info(f'127.0.0.1 - - [x] "GET /sign-in/link/{TOKEN}?utm=1 HTTP/1.1" 303 -')
    assert TOKEN not in caplog.text
    assert caplog.text.count("/sign-in/link/[redacted]") == 2
    assert "?utm=1" in caplog.text


def test_real_development_server_does_not_log_the_token(app, customer, caplog, werkzeug_logging):
    server = make_server("127.0.0.1", 0, app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with caplog.at_level(logging.INFO, logger="werkzeug"):
            connection = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=10)
            connection.request("GET", f"/sign-in/link/{TOKEN}")
            response = connection.getresponse()
            response.read()
            connection.close()
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
    assert response.status == 303
    assert "/sign-in/link/[redacted]" in caplog.text
    assert TOKEN not in caplog.text


def test_gunicorn_access_log_atoms_are_redacted(app):
    record = logging.LogRecord("gunicorn.access", logging.INFO, __file__, 1, '%(h)s "%(r)s" %(s)s %(U)s', None,
                               None)
    record.args = {"h": "203.0.113.5", "r": f"GET /sign-in/link/{TOKEN} HTTP/1.1", "s": "303",
                   "U": f"/sign-in/link/{TOKEN}"}
    assert RedactSecretPaths().filter(record) is True
    line = record.getMessage()
    assert TOKEN not in line
    assert line == '203.0.113.5 "GET /sign-in/link/[redacted] HTTP/1.1" 303 /sign-in/link/[redacted]'


def test_gunicorn_safe_atoms_keep_working_after_redaction(app):
    from gunicorn.glogging import SafeAtoms

    record = logging.LogRecord("gunicorn.access", logging.INFO, __file__, 1, '"%(r)s" %({x-request-id}i)s',
                               None, None)
    record.args = SafeAtoms({"r": f"GET /sign-in/link/{TOKEN} HTTP/1.1"})
    RedactSecretPaths().filter(record)
    assert record.getMessage() == '"GET /sign-in/link/[redacted] HTTP/1.1" -'


def test_signed_in_pages_do_not_echo_the_token(client, customer):
    sign_in(client, "an.nguyen@example.vn")
    path, _code = link_and_code(outbox()[-1])
    token = path.rsplit("/", 1)[1]
    for page in ("/my-data", "/", "/sign-in/sent"):
        body = client.get(page, follow_redirects=True).get_data(as_text=True)
        assert token not in body
