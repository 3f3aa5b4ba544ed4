"""Locale choice: the customer's saved choice, then this browser's session, then Vietnamese."""

from __future__ import annotations

from flask import session
from flask_login import current_user

LOCALES = ("vi", "en")
DEFAULT_LOCALE = "vi"
LOCALE_NAMES = {"vi": "Tiếng Việt", "en": "English"}


def select_locale() -> str:
    customer = getattr(current_user, "customer", None) if current_user else None
    if customer is not None and customer.preferred_locale in LOCALES:
        return customer.preferred_locale
    chosen = session.get("locale")
    return chosen if chosen in LOCALES else DEFAULT_LOCALE


def select_timezone() -> str:
    return "Asia/Ho_Chi_Minh"
