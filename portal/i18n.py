"""Locale choice: the customer's saved choice, then this browser's session, then Vietnamese."""

from __future__ import annotations

from babel import Locale
from flask import has_request_context, session
from flask_login import current_user

LOCALES = ("vi", "en")
DEFAULT_LOCALE = "vi"
LOCALE_NAMES = {"vi": "Tiếng Việt", "en": "English"}
TIMEZONE = "Asia/Ho_Chi_Minh"  # where the company and its customers are; pages show its times


# Parsed once: Flask-Babel takes a Locale as it is, where it would parse a code on every request.
_PARSED = {code: Locale.parse(code) for code in LOCALES}


def select_locale() -> Locale:
    if not has_request_context():  # a worker job: callers pick the recipient's locale with force_locale
        return _PARSED[DEFAULT_LOCALE]
    saved = getattr(current_user, "preferred_locale", None) if current_user else None
    if saved in LOCALES:
        return _PARSED[saved]
    chosen = session.get("locale")
    return _PARSED[chosen if chosen in LOCALES else DEFAULT_LOCALE]


def select_timezone() -> str:
    return TIMEZONE
