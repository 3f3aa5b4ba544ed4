"""Response headers, cross-site request refusal, safe redirects, links built from the configured base
URL, log redaction."""

from __future__ import annotations

import logging
import re
from urllib.parse import urlsplit

from flask import current_app, request
from werkzeug.exceptions import Forbidden

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'"
)
# Paths that carry a secret: the sign-in link, a staff password link. Log lines show them redacted, and
# the outbox's copy of an e-mail loses them once it is sent.
SECRET_PATH = re.compile(r"(/sign-in/link/|/staff/password/)[^\s?\"]+")
# What access-log lines hide: those secrets, and the sign-in hint of a notification e-mail, which names
# the address the e-mail went to.
LOGGED_SECRET_PATH = re.compile(r"(/sign-in/link/|/sign-in/for/|/staff/password/)[^\s?\"]+")


# The short code printed in sign-in e-mails (portal.auth.services.format_code).
SIGN_IN_CODE = re.compile(r"\b[A-Z2-9]{4}-[A-Z2-9]{4}\b")


def redact_secrets(text: str, with_codes: bool = False) -> str:
    """``text`` without sign-in or password-link tokens (and sign-in codes, when it is a sign-in
    e-mail: elsewhere such a pattern may be a customer's own words)."""
    text = SECRET_PATH.sub(r"\1[redacted]", text)
    return SIGN_IN_CODE.sub("[****-****]", text) if with_codes else text


def set_security_headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    # same-origin: nothing leaves the site, and Flask-WTF's HTTPS referrer check still gets a Referer.
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), interest-cohort=()")
    if current_app.config["SESSION_COOKIE_SECURE"]:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    if not (request.endpoint or "").startswith("static"):
        headers.setdefault("Cache-Control", "no-store")
    return response


UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# What a browser's Sec-Fetch-Site header says about a request from a page of another origin.
OTHER_SITE_FETCHES = frozenset({"cross-site", "same-site"})
DEFAULT_PORTS = {"http": "80", "https": "443"}


class CrossSiteRequest(Forbidden):
    """An unsafe request that the browser says was sent from a page of another site."""


def _origin(scheme: str, netloc: str) -> str:
    """``scheme://host[:port]`` in lower case, without the scheme's default port (as browsers send it)."""
    scheme, netloc = scheme.lower(), netloc.lower()
    if netloc.endswith(f":{DEFAULT_PORTS.get(scheme, '')}"):
        netloc = netloc.rsplit(":", 1)[0]
    return f"{scheme}://{netloc}"


def own_origins() -> set[str]:
    """This portal's origins: the configured base URL's, and the one this request was addressed to
    (its Host is one of TRUSTED_HOSTS, checked before any view runs)."""
    base = urlsplit(current_app.config["BASE_URL"])
    return {_origin(base.scheme, base.netloc), _origin(request.scheme, request.host)}


def refuse_cross_site_requests() -> None:
    """Before every request: refuse an unsafe one that the browser's own signals place on another
    site, a second layer behind the CSRF token. ``Sec-Fetch-Site`` naming another site, or an
    ``Origin`` that is not this portal's (``null`` included), is refused; a request without either
    header (an older browser, a script) is left to the CSRF token."""
    if request.method not in UNSAFE_METHODS:
        return
    if request.headers.get("Sec-Fetch-Site", "").strip().lower() in OTHER_SITE_FETCHES:
        raise CrossSiteRequest()
    origin = request.headers.get("Origin")
    if origin is not None:
        sent = urlsplit(origin.strip())
        if _origin(sent.scheme, sent.netloc) not in own_origins():
            raise CrossSiteRequest()


def safe_next_path(value: str | None) -> str | None:
    """Return ``value`` if it is a path on this site, else None (never an off-site redirect)."""
    if not value or len(value) > 500 or not value.startswith("/") or value.startswith("//"):
        return None
    if "\\" in value or any(ord(ch) < 33 or ord(ch) == 127 for ch in value):
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return None
    return value


def external_url(endpoint: str, **values) -> str:
    """An absolute URL built from PORTAL_BASE_URL, never from the request's Host header."""
    base = urlsplit(current_app.config["BASE_URL"])
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/", url_scheme=base.scheme)
    return adapter.build(endpoint, values, force_external=True)


class RedactSecretPaths(logging.Filter):
    """Blank out sign-in tokens and hints in access-log lines (werkzeug's and gunicorn's)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(LOGGED_SECRET_PATH.sub(r"\1[redacted]", a) if isinstance(a, str) else a
                                for a in record.args)
        elif isinstance(record.args, dict):
            # In place: gunicorn passes a dict subclass that answers "-" for missing atoms.
            for key, value in list(record.args.items()):
                if isinstance(value, str):
                    record.args[key] = LOGGED_SECRET_PATH.sub(r"\1[redacted]", value)
        if isinstance(record.msg, str):
            record.msg = LOGGED_SECRET_PATH.sub(r"\1[redacted]", record.msg)
        return True


def install_log_redaction() -> None:
    for name in ("werkzeug", "gunicorn.access"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactSecretPaths) for f in logger.filters):
            logger.addFilter(RedactSecretPaths())
