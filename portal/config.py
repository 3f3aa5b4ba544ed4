"""Settings and their load order: defaults, then ``instance/portal.cfg``, then ``PORTAL_*``
environment variables, then the test override passed to :func:`portal.create_app`."""

from __future__ import annotations

import json
import os
from datetime import timedelta

from sqlalchemy.engine import make_url

DEFAULT_SECRET_KEY = "development-only-secret-key-change-me"  # noqa: S105 (refused in production)


class Defaults:
    """Defaults. Without PORTAL_ENV the portal runs as production, which refuses to start until the
    secret key, base URL and mail transport are set; development (the mailbox page, the in-process
    worker, the development secret key) is only what ``make run`` and the tests ask for."""

    ENV = "production"  # production | development | testing
    SECRET_KEY = DEFAULT_SECRET_KEY
    BASE_URL = "http://127.0.0.1:5000"
    TRUSTED_HOSTS = ["127.0.0.1", "localhost"]
    TRUSTED_PROXIES = 0  # how many reverse proxies sit in front and append to X-Forwarded-For
    DATABASE_URL = ""  # empty: a SQLite file in the instance folder
    DATABASE_LOCK_WAIT_SECONDS = 10  # the longest a write waits for another transaction's lock

    SIGN_IN_LINK_MINUTES = 10
    SIGN_IN_MAX_WRONG_CODES = 5
    SIGN_IN_LINKS_PER_ADDRESS = "3 per hour"
    SIGN_IN_REQUESTS_PER_CLIENT = "20 per hour;5 per minute"
    SIGN_IN_ATTEMPTS_PER_CLIENT = "30 per hour;10 per minute"
    # How long the link in a notification e-mail fills in the sign-in page with the address it went to.
    SIGN_IN_HINT_DAYS = 30
    SESSION_IDLE_MINUTES = 30
    SESSION_ABSOLUTE_HOURS = 12
    # Downloading a copy or asking for deletion needs a sign-in (or a fresh e-mailed code) this recent.
    FRESH_SIGN_IN_MINUTES = 15
    FRESH_CODES_PER_SESSION = "3 per 15 minutes"
    # Evidence files on a leak complaint: where they are kept (empty: "uploads" in the instance folder,
    # never under static/), how many one complaint may carry and how large each may be.
    UPLOAD_DIR = ""
    EVIDENCE_MAX_FILES = 5
    EVIDENCE_MAX_MB = 10
    # How long invoices and accounting records (the orders) are kept after the last order, when a
    # customer's data is erased (Law on Accounting 2015 Art. 41: 10 years).
    ACCOUNTING_RETENTION_YEARS = 10
    RATELIMIT_STORAGE_URL = "memory://"
    REQUEST_POSTS_PER_CUSTOMER = "20 per hour;5 per minute"
    REQUEST_POSTS_PER_CLIENT = "60 per hour;10 per minute"

    MAIL_TRANSPORT = "mailbox"  # mailbox (development page) | smtp
    MAIL_FROM = "Khôi Ngô Security <no-reply@khoingo.net>"
    MAIL_MESSAGE_ID_DOMAIN = "khoingo.net"
    SMTP_HOST = "127.0.0.1"
    SMTP_PORT = 25
    SMTP_USERNAME = ""
    SMTP_PASSWORD = ""
    SMTP_SECURITY = "none"  # none | starttls | ssl
    SMTP_TIMEOUT = 20
    MAIL_RETRY_FIRST_SECONDS = 30
    MAIL_RETRY_MAX_SECONDS = 3600
    MAIL_GIVE_UP_HOURS = 48
    WORKER_POLL_SECONDS = 5
    INPROCESS_WORKER = True  # development: deliver the outbox from a thread of the web process

    # argon2id cost for staff passwords: the library's RFC 9106 parameters (3 passes, 64 MiB, 4 lanes).
    # Only the tests lower it; a hash made with other parameters is redone at the next sign-in.
    ARGON2_TIME_COST = 3
    ARGON2_MEMORY_KIB = 65536
    ARGON2_PARALLELISM = 4

    COMPANY_NAME = "Công ty TNHH Khôi Ngô"
    COMPANY_ADDRESS = "22A Kỳ Đồng, Phường 9, Quận 3, TP. Hồ Chí Minh"
    COMPANY_EMAIL = "contact@khoingo.net"
    COMPANY_PHONE = "0908.375.212"
    # The department or person in charge of personal-data protection, named in the notice of a breach
    # to the authority (Decree 356/2025 Art. 28(1)(b)); empty: the printed notice leaves it to fill in.
    DATA_PROTECTION_CONTACT = ""


# Settings whose environment value is not a plain string.
_INT_SETTINGS = {
    "TRUSTED_PROXIES", "SIGN_IN_LINK_MINUTES", "SIGN_IN_MAX_WRONG_CODES", "SIGN_IN_HINT_DAYS", "SESSION_IDLE_MINUTES",
    "SESSION_ABSOLUTE_HOURS", "FRESH_SIGN_IN_MINUTES", "ACCOUNTING_RETENTION_YEARS", "SMTP_PORT", "SMTP_TIMEOUT",
    "MAIL_RETRY_FIRST_SECONDS",
    "MAIL_RETRY_MAX_SECONDS", "MAIL_GIVE_UP_HOURS", "WORKER_POLL_SECONDS", "ARGON2_TIME_COST",
    "ARGON2_MEMORY_KIB", "ARGON2_PARALLELISM", "DATABASE_LOCK_WAIT_SECONDS", "EVIDENCE_MAX_FILES", "EVIDENCE_MAX_MB",
}
_BOOL_SETTINGS = {"INPROCESS_WORKER"}
_LIST_SETTINGS = {"TRUSTED_HOSTS"}


def _parse(name: str, raw: str):
    if name in _INT_SETTINGS:
        return int(raw)
    if name in _BOOL_SETTINGS:
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if name in _LIST_SETTINGS:
        raw = raw.strip()
        if raw.startswith("["):
            return json.loads(raw)
        return [part.strip() for part in raw.split(",") if part.strip()]
    return raw


def from_environment(environ=os.environ) -> dict:
    """Return the ``PORTAL_*`` variables of ``environ`` as settings, without the prefix."""
    known = {name for name in dir(Defaults) if name.isupper()}
    settings = {}
    for key, raw in environ.items():
        if key.startswith("PORTAL_") and key[len("PORTAL_"):] in known:
            name = key[len("PORTAL_"):]
            settings[name] = _parse(name, raw)
    return settings


def derive(config) -> None:
    """Fill in the settings Flask and its extensions read, from the portal's own."""
    if not config["DATABASE_URL"]:
        config["DATABASE_URL"] = "sqlite:///" + os.path.join(config["INSTANCE_PATH"], "portal.db")
    config["SQLALCHEMY_DATABASE_URI"] = config["DATABASE_URL"]
    # (How pooled connections are tested before use: portal.db.init_engine.)
    config["SQLALCHEMY_ENGINE_OPTIONS"] = _lock_wait(config)
    secure = config["BASE_URL"].startswith("https://")
    config["SESSION_COOKIE_SECURE"] = secure
    config["SESSION_COOKIE_HTTPONLY"] = True
    config["SESSION_COOKIE_SAMESITE"] = "Lax"
    config["SESSION_COOKIE_NAME"] = "kn_session"
    config["PERMANENT_SESSION_LIFETIME"] = timedelta(hours=config["SESSION_ABSOLUTE_HOURS"])
    config["RATELIMIT_STORAGE_URI"] = config["RATELIMIT_STORAGE_URL"]
    config["RATELIMIT_HEADERS_ENABLED"] = True
    config["BABEL_DEFAULT_LOCALE"] = "vi"
    config["BABEL_DEFAULT_TIMEZONE"] = "Asia/Ho_Chi_Minh"
    config["WTF_CSRF_TIME_LIMIT"] = None  # the token lives as long as the session
    config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    if not config["UPLOAD_DIR"]:
        config["UPLOAD_DIR"] = os.path.join(config["INSTANCE_PATH"], "uploads")


def _lock_wait(config) -> dict:
    """Bound how long a statement waits for a lock that another transaction holds (a colleague saving
    the same ticket, a sign-in attempt on the same account): SQLite's busy timeout, PostgreSQL's
    lock_timeout. Past it the statement fails, and the page says so, instead of waiting for ever."""
    seconds = config["DATABASE_LOCK_WAIT_SECONDS"]
    url = make_url(config["DATABASE_URL"])
    if url.get_backend_name() == "sqlite":
        return {"connect_args": {"timeout": seconds}}
    if url.get_backend_name() == "postgresql":
        given = url.query.get("options")  # options in the URL itself are kept
        given = " ".join(given) if isinstance(given, tuple) else given
        return {"connect_args": {"options": f"{given or ''} -c lock_timeout={int(seconds * 1000)}".strip()}}
    return {}


# Said with every refusal: production is what the portal runs as unless told otherwise.
PRODUCTION_HINT = " (PORTAL_ENV is production unless set; `make run` sets PORTAL_ENV=development.)"


def check_production(config) -> None:
    """Refuse to start a production portal with development secrets, plain-HTTP links or the
    development mailbox."""
    if config["ENV"] not in ("production", "development", "testing"):
        raise RuntimeError(f"PORTAL_ENV must be production, development or testing, not {config['ENV']!r}.")
    if config["ENV"] != "production":
        return
    if config["SECRET_KEY"] == DEFAULT_SECRET_KEY or len(config["SECRET_KEY"]) < 32:
        raise RuntimeError("PORTAL_SECRET_KEY must be set to a random value of 32+ characters in production."
                           + PRODUCTION_HINT)
    if not config["BASE_URL"].startswith("https://"):
        raise RuntimeError("PORTAL_BASE_URL must be an https:// address in production." + PRODUCTION_HINT)
    if config["MAIL_TRANSPORT"] != "smtp":
        raise RuntimeError("PORTAL_MAIL_TRANSPORT must be 'smtp' in production." + PRODUCTION_HINT)
