"""Locale choice: the customer's saved choice, then this browser's session, then Vietnamese."""

from __future__ import annotations

from flask import has_request_context, session
from flask_login import current_user

LOCALES = ("vi", "en")
DEFAULT_LOCALE = "vi"
LOCALE_NAMES = {"vi": "Tiếng Việt", "en": "English"}
TIMEZONE = "Asia/Ho_Chi_Minh"  # where the company and its customers are; pages show its times


def select_locale() -> str:
    if not has_request_context():  # a worker job: callers pick the recipient's locale with force_locale
        return DEFAULT_LOCALE
    saved = getattr(current_user, "preferred_locale", None) if current_user else None
    if saved in LOCALES:
        return saved
    chosen = session.get("locale")
    return chosen if chosen in LOCALES else DEFAULT_LOCALE


def select_timezone() -> str:
    return TIMEZONE
