"""Template filters and the values every page needs."""

from __future__ import annotations

import re

from flask import has_request_context, request
from flask_babel import format_date, format_datetime, get_locale
from markupsafe import Markup, escape

from portal.auth.forms import LanguageForm, SignOutForm
from portal.i18n import LOCALE_NAMES, LOCALES
from portal.security import external_url

URL_PATTERN = re.compile(r"https?://[^\s<>\"]+")


def linkify(text: str) -> Markup:
    """Escape ``text`` and make its http(s) links clickable (development mailbox only)."""
    escaped = str(escape(text))
    linked = URL_PATTERN.sub(lambda m: f'<a href="{m.group(0)}">{m.group(0)}</a>', escaped)
    return Markup(linked)  # noqa: S704 (built from escaped text)


def register(app) -> None:
    app.jinja_env.filters["local_datetime"] = lambda value: format_datetime(value, "short") if value else ""
    app.jinja_env.filters["local_date"] = lambda value: format_date(value, "medium") if value else ""
    app.jinja_env.filters["linkify"] = linkify
    app.jinja_env.globals["external_url"] = external_url

    @app.context_processor
    def page_context():
        if not has_request_context():
            return {"current_locale": str(get_locale())}
        return {
            "current_locale": str(get_locale()),
            "locales": [(code, LOCALE_NAMES[code]) for code in LOCALES],
            "language_form": LanguageForm(),
            "sign_out_form": SignOutForm(),
            "here": request.full_path.rstrip("?"),
        }
