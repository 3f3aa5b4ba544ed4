"""Template filters and the values every page needs.

A page looks up its language, its translations and its date formats once, when it starts rendering
(:func:`page_context`), and the template's ``_()``, lazily translated texts and date filters read
them from the page's context: a page shows dozens of texts and dates, and asking Flask-Babel afresh
for each costs more than drawing the page.
"""

from __future__ import annotations

import math
import re
from datetime import timedelta
from functools import lru_cache

from babel import Locale
from babel.dates import format_date as babel_format_date
from babel.dates import format_datetime as babel_format_datetime
from flask import has_request_context, request
from flask_babel import format_timedelta, get_locale, get_timezone, get_translations
from flask_babel import gettext as babel_gettext
from flask_babel.speaklater import LazyString
from jinja2 import pass_context
from markupsafe import Markup, escape
from wtforms.fields import FieldList, FormField
from wtforms.form import BaseForm

from portal.enums import TicketStatus
from portal.i18n import LOCALE_NAMES, LOCALES
from portal.security import external_url

URL_PATTERN = re.compile(r"https?://[^\s<>\"]+")
LOCALE_CHOICES = [(code, LOCALE_NAMES[code]) for code in LOCALES]


# Vietnamese readers expect 26/11/2026 rather than Babel's "26 thg 11, 2026".
DATE_PATTERNS = {"vi": "dd/MM/yyyy", "en": "d MMM yyyy"}
DATETIME_PATTERNS = {"vi": "HH:mm dd/MM/yyyy", "en": "d MMM yyyy, HH:mm"}


@lru_cache(maxsize=8)
def _babel_locale(code: str) -> Locale:
    return Locale.parse(code)


@pass_context
def local_date(context, value) -> str:
    """A date as people of the page's language read it (26/11/2026, 26 Nov 2026)."""
    if not value:
        return ""
    code = context["current_locale"]
    return babel_format_date(value, DATE_PATTERNS.get(code, "medium"), locale=_babel_locale(code))


@pass_context
def local_datetime(context, value) -> str:
    """A moment in the company's time zone, as people of the page's language read it."""
    if not value:
        return ""
    code = context["current_locale"]
    return babel_format_datetime(value, DATETIME_PATTERNS.get(code, "short"), tzinfo=context["current_zone"],
                                 locale=_babel_locale(code))


def _translated(translations, value):
    """``value``, translated with ``translations`` if it is a lazily translated text."""
    if isinstance(value, LazyString) and value._func is babel_gettext:
        text = translations.ugettext(value._args[0])
        return text % value._kwargs if value._kwargs else text
    return value


def _format(context, text: str, variables: dict):
    """Jinja's own newstyle formatting: escaped when the template escapes, variables escaped by %."""
    translations = context["page_translations"]
    variables = {name: _translated(translations, value) for name, value in variables.items()}
    if context.eval_ctx.autoescape:
        text = Markup(text)  # noqa: S704 (the catalogue is ours; variables are escaped by %)
    return text % variables


@pass_context
def template_gettext(context, string: str, **variables) -> str:
    """``_()`` in templates: the page's translations, escaped and formatted as Jinja's own does."""
    return _format(context, context["page_translations"].ugettext(string), variables)


@pass_context
def template_ngettext(context, singular: str, plural: str, num: int, **variables) -> str:
    variables.setdefault("num", num)
    return _format(context, context["page_translations"].ungettext(singular, plural, num), variables)


@pass_context
def finalize(context, value):
    """Every ``{{ value }}`` of a template: a lazily translated text (an enum's title, a form's label)
    is translated with the page's translations rather than looked up afresh."""
    translations = context.get("page_translations")
    return value if translations is None else _translated(translations, value)


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
    app.jinja_env.finalize = finalize
    app.jinja_env.globals.update(gettext=template_gettext, _=template_gettext, ngettext=template_ngettext)
    app.jinja_env.filters["local_datetime"] = local_datetime
    app.jinja_env.filters["local_date"] = local_date
    app.jinja_env.filters["linkify"] = linkify
    app.jinja_env.filters["email_paragraphs"] = email_paragraphs
    app.jinja_env.filters["status_title"] = lambda value: TicketStatus(value).title if value else ""
    app.jinja_env.globals["external_url"] = external_url
    app.jinja_env.globals["form_errors"] = form_errors

    app.context_processor(page_context)


def page_context() -> dict:
    """The page's language, translations and time zone, looked up once for the whole page."""
    language = {"current_locale": str(get_locale()), "page_translations": get_translations(),
                "current_zone": get_timezone()}
    if not has_request_context():  # an e-mail rendered by the worker, in the recipient's language
        return language
    return {**language, "locales": LOCALE_CHOICES, "here": request.full_path.rstrip("?")}
