"""Template filters and the values every page needs."""

from __future__ import annotations

import math
import re
from datetime import timedelta

from flask import has_request_context, request
from flask_babel import format_date, format_datetime, format_timedelta, get_locale
from markupsafe import Markup, escape
from wtforms.fields import FieldList, FormField
from wtforms.form import BaseForm

from portal.enums import TicketStatus
from portal.i18n import LOCALE_NAMES, LOCALES
from portal.security import external_url

URL_PATTERN = re.compile(r"https?://[^\s<>\"]+")


# Vietnamese readers expect 26/11/2026 rather than Babel's "26 thg 11, 2026".
DATE_PATTERNS = {"vi": "dd/MM/yyyy", "en": "d MMM yyyy"}
DATETIME_PATTERNS = {"vi": "HH:mm dd/MM/yyyy", "en": "d MMM yyyy, HH:mm"}


def local_date(value) -> str:
    return format_date(value, DATE_PATTERNS.get(str(get_locale()), "medium")) if value else ""


def local_datetime(value) -> str:
    return format_datetime(value, DATETIME_PATTERNS.get(str(get_locale()), "short")) if value else ""


def time_to_wait(seconds: float) -> str:
    """How long someone must wait, in words of their language ("2 phút", "1 hour"), never less than
    the truth: whole minutes rounded up, from an hour on whole hours, from a day on whole days."""
    minutes = max(1, math.ceil(seconds / 60))
    hours = math.ceil(minutes / 60)
    if minutes < 60:
        wait = timedelta(minutes=minutes)
    else:
        wait = timedelta(hours=hours) if hours < 24 else timedelta(days=math.ceil(hours / 24))
    return format_timedelta(wait, threshold=1)


def linkify(text: str) -> Markup:
    """Escape ``text`` and make its http(s) links clickable (development mailbox only)."""
    escaped = str(escape(text))
    linked = URL_PATTERN.sub(lambda m: f'<a href="{m.group(0)}">{m.group(0)}</a>', escaped)
    return Markup(linked)  # noqa: S704 (built from escaped text)


def email_paragraphs(rendered_text) -> Markup:
    """Turn a rendered text e-mail (subject on its first line) into escaped HTML paragraphs,
    so each e-mail is written once and its HTML part says exactly what the text part says."""
    text = "".join([str(rendered_text)])  # a plain str: every character is escaped below
    body = text.partition("\n")[2].strip()
    paragraphs = [part.strip() for part in re.split(r"\n\s*\n", body) if part.strip()]
    html = "".join(f"<p>{linkify(part)}</p>".replace("\n", "<br>\n") for part in paragraphs)
    return Markup(html)  # noqa: S704 (every paragraph went through linkify, which escapes)


def form_errors(form) -> list[tuple[str | None, str]]:
    """Every error of ``form``, in the order its fields are drawn, as (the id of the field to go to,
    or None when there is nothing to go to, the message): what the error summary of a page lists."""
    if not isinstance(form, BaseForm):
        return []
    found = [(None, str(message)) for message in getattr(form, "form_errors", [])]
    for field in form:
        found.extend(_field_errors(field))
    return found


def _field_errors(field) -> list[tuple[str | None, str]]:
    if isinstance(field, FormField):
        return form_errors(field.form)
    if isinstance(field, FieldList):
        return [error for entry in field for error in _field_errors(entry)]
    target = None if getattr(field.widget, "input_type", None) == "hidden" else field.id
    return [(target, str(message)) for message in field.errors]


def register(app) -> None:
    app.jinja_env.filters["local_datetime"] = local_datetime
    app.jinja_env.filters["local_date"] = local_date
    app.jinja_env.filters["linkify"] = linkify
    app.jinja_env.filters["email_paragraphs"] = email_paragraphs
    app.jinja_env.filters["status_title"] = lambda value: TicketStatus(value).title if value else ""
    app.jinja_env.globals["external_url"] = external_url
    app.jinja_env.globals["form_errors"] = form_errors

    @app.context_processor
    def page_context():
        if not has_request_context():
            return {"current_locale": str(get_locale())}
        return {
            "current_locale": str(get_locale()),
            "locales": [(code, LOCALE_NAMES[code]) for code in LOCALES],
            "here": request.full_path.rstrip("?"),
        }
