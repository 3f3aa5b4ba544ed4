"""Languages: Vietnamese by default, English complete too, for pages and e-mails alike.

The catalogues are read here rather than copied into the assertions, so rewording a translation does
not break a test; a missing, fuzzy or placeholder-breaking translation does.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask.testing import FlaskClient
from markupsafe import escape
from sqlalchemy import select

from portal.account.models import Customer
from portal.db import db
from portal.i18n import DEFAULT_LOCALE, LOCALES
from tests.factories import make_customer
from tests.helpers import csrf_token, outbox, request_link, sign_in

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "portal" / "translations"
TEMPLATE = TRANSLATIONS / "messages.pot"
SOURCE_LOCALE = "en"  # msgids are English: an empty English msgstr shows the msgid
ADDRESS = "an.nguyen@example.vn"
NAME = "Nguyễn Văn An"

# A %-placeholder: %(name)s, %(count)d, %s, %5.2f ... ("%%" is counted separately).
PLACEHOLDER = re.compile(r"%(?:\((?P<name>\w+)\))?[#0\- +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[diouxXeEfFgGcrsa]")


def _po_path(locale: str) -> Path:
    return TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"


def _read(path: Path, locale: str | None = None):
    with path.open("rb") as fileobj:
        return read_po(fileobj, locale=locale)


@pytest.fixture(scope="session", autouse=True)
def compiled_catalogues():
    """Build the .mo files (git-ignored, normally made by ``make``) when missing or older than the .po,
    so these tests work on a clean clone. Fuzzy entries are left out, as ``pybabel compile`` does."""
    for po_path in sorted(TRANSLATIONS.glob("*/LC_MESSAGES/messages.po")):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        catalogue = _read(po_path, po_path.parent.parent.name)
        # Write beside the target and rename: a parallel test process never reads half a file.
        handle, temporary = tempfile.mkstemp(dir=po_path.parent, suffix=".mo.tmp")
        try:
            with os.fdopen(handle, "wb") as fileobj:
                write_mo(fileobj, catalogue, use_fuzzy=False)
            os.replace(temporary, mo_path)
        finally:
            if os.path.exists(temporary):
                os.unlink(temporary)


@pytest.fixture(scope="session")
def vi() -> dict[str, str]:
    """msgid → Vietnamese msgstr, from the catalogue the portal uses."""
    return {message.id: message.string for message in _read(_po_path("vi"), "vi") if message.id}


def _placeholders(text: str) -> Counter:
    found = Counter(match.group(0) for match in PLACEHOLDER.finditer(text))
    found["%%"] = text.count("%%")
    return +found


def _stray_percent(text: str) -> bool:
    """A "%" that is neither a placeholder nor "%%": Jinja's newstyle gettext %-formats every string."""
    return "%" in PLACEHOLDER.sub("", text.replace("%%", ""))


def _forms(message) -> tuple[tuple[str, ...], tuple[str, ...]]:
    ids = message.id if isinstance(message.id, tuple) else (message.id,)
    strings = message.string if isinstance(message.string, tuple) else (message.string,)
    return ids, strings


# --- (a) the catalogues -------------------------------------------------------------------------


def test_vietnamese_catalogue_translates_every_message_of_the_template():
    template = _read(TEMPLATE)
    catalogue = _read(_po_path("vi"), "vi")
    assert not catalogue.fuzzy, "the vi catalogue header is marked fuzzy"
    problems = []
    for expected in template:
        if not expected.id:
            continue
        message = catalogue.get(expected.id, expected.context)
        if message is None:
            problems.append(f"missing: {expected.id!r}")
            continue
        ids, strings = _forms(message)
        if message.fuzzy:
            problems.append(f"fuzzy: {expected.id!r}")
        if not all(string.strip() for string in strings):
            problems.append(f"untranslated: {expected.id!r}")
            continue
        wanted = _placeholders(ids[-1])  # Vietnamese has one plural form: it follows msgid_plural
        for string in strings:
            if _placeholders(string) != wanted:
                problems.append(f"placeholders differ: {expected.id!r} → {string!r}")
            if _stray_percent(string):
                problems.append(f"stray %: {string!r} (write %% for a percent sign)")
    assert not problems, "\n".join(problems)


def test_vietnamese_catalogue_has_no_fuzzy_or_leftover_entries():
    template_ids = {message.id for message in _read(TEMPLATE) if message.id}
    catalogue = _read(_po_path("vi"), "vi")
    assert not [message.id for message in catalogue if message.id and message.fuzzy]
    assert not catalogue.obsolete, "obsolete (#~) entries: remove them"
    assert {message.id for message in catalogue if message.id} == template_ids


def test_english_catalogue_is_in_step_and_keeps_placeholders():
    """English is the source language; its catalogue exists so it is explicit and can reword a msgid."""
    template_ids = {message.id for message in _read(TEMPLATE) if message.id}
    catalogue = _read(_po_path(SOURCE_LOCALE), SOURCE_LOCALE)
    assert {message.id for message in catalogue if message.id} == template_ids
    for message in catalogue:
        ids, strings = _forms(message)
        if not message.id or not any(strings):
            continue
        assert not message.fuzzy, f"fuzzy English rewording: {message.id!r}"
        for index, string in enumerate(strings):
            assert _placeholders(string) == _placeholders(ids[min(index, len(ids) - 1)]), message.id


def test_every_string_in_the_code_is_in_the_template():
    """Wrapped strings added since the last ``pybabel extract`` would show up in English only."""
    with (ROOT / "babel.cfg").open() as fileobj:
        method_map, options_map = parse_mapping_cfg(fileobj, "babel.cfg")
    keywords = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None, "_nl": (1, 2), "lazy_ngettext": (1, 2)}
    template = _read(TEMPLATE)
    stale = sorted(
        f"{filename}:{lineno}: {message!r}"
        for filename, lineno, message, _comments, context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=keywords)
        if template.get(message if isinstance(message, str) else message[0], context) is None
    )
    assert not stale, "re-run pybabel extract and update, then translate:\n" + "\n".join(stale)


def test_every_offered_locale_has_a_catalogue():
    assert DEFAULT_LOCALE == "vi"
    for locale in LOCALES:
        assert _po_path(locale).exists(), locale


# --- helpers for the pages ----------------------------------------------------------------------


class OwnContextClient(FlaskClient):
    """A test client whose every request runs in its own application context, as in production.

    The ``app`` fixture keeps one application context pushed for the whole test, and Flask reuses it
    for test-client requests, so ``g`` would carry Flask-Babel's cached locale and Flask-Login's cached
    user from one request (and one client) to the next; a language switch would then never show.
    """

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def browser(app):
    """A factory of fresh browsers (cookie jars) on the test app."""
    return lambda: OwnContextClient(app, app.response_class, use_cookies=True)


@pytest.fixture
def client(browser):
    return browser()


def switch_language(client, locale: str, next_path: str = "/sign-in", page: str = "/sign-in"):
    """Press a language button in the header of ``page``, as a browser does."""
    data = {"locale": locale, "next": next_path, "csrf_token": csrf_token(client, page)}
    return client.post("/language", data=data)


def html_lang(page: str) -> str:
    return re.search(r'<html lang="([^"]+)">', page).group(1)


def session_locale(client) -> str | None:
    with client.session_transaction() as session:
        return session.get("locale")


def saved_locale(customer_id: int) -> str | None:
    db.session.expire_all()
    return db.session.scalar(select(Customer.preferred_locale).where(Customer.id == customer_id))


def assert_email_in(message, locale: str, vi: dict[str, str], name: str = NAME) -> None:
    """The sign-in e-mail is wholly in ``locale``: subject, text body and HTML body."""
    text = (lambda msgid: vi[msgid]) if locale == "vi" else (lambda msgid: msgid)
    assert message.locale == locale
    assert message.subject == text("Your sign-in link for Khôi Ngô Security")
    assert text("Dear %(name)s,") % {"name": name} in message.body_text
    assert text("Open this link to see your personal data:") in message.body_text
    assert f'<html lang="{locale}">' in message.body_html
    assert str(escape(text("Sign in to my personal data"))) in message.body_html
    other = "en" if locale == "vi" else "vi"
    other_text = (lambda msgid: vi[msgid]) if other == "vi" else (lambda msgid: msgid)
    assert other_text("Open this link to see your personal data:") not in message.body_text


# --- (b) Vietnamese by default ------------------------------------------------------------------


def test_pages_are_vietnamese_by_default(client, vi):
    page = client.get("/sign-in").get_data(as_text=True)
    assert html_lang(page) == "vi"
    assert f"<h1>{escape(vi['Sign in'])}</h1>" in page
    assert str(escape(vi["Send me a sign-in link"])) in page
    assert str(escape(vi["Your e-mail address"])) in page
    assert "Send me a sign-in link" not in page

    home = client.get("/").get_data(as_text=True)
    assert html_lang(home) == "vi" and str(escape(vi["Your personal data at Khôi Ngô Security"])) in home


def test_form_errors_and_error_pages_are_vietnamese_by_default(client, vi):
    token = csrf_token(client, "/sign-in")
    response = client.post("/sign-in", data={"email": "not an address", "csrf_token": token})
    assert response.status_code == 400
    assert str(escape(vi["This is not a valid e-mail address. Check it and try again."])) in response.get_data(
        as_text=True)

    missing = client.get("/no-such-page")
    assert missing.status_code == 404
    assert str(escape(vi["Page not found"])) in missing.get_data(as_text=True)


def test_sign_in_email_is_vietnamese_by_default(client, customer, vi):
    assert request_link(client, ADDRESS).status_code == 303
    assert_email_in(outbox(ADDRESS)[-1], "vi", vi)


def test_email_for_an_unknown_address_follows_the_page_language(client, vi):
    assert request_link(client, "nobody@example.vn").status_code == 303
    message = outbox("nobody@example.vn")[-1]
    assert message.locale == "vi"
    assert message.subject == vi["Your request to Khôi Ngô Security"]

    assert switch_language(client, "en").status_code == 303
    assert request_link(client, "nobody@example.vn").status_code == 303
    message = outbox("nobody@example.vn")[-1]
    assert message.locale == "en" and message.subject == "Your request to Khôi Ngô Security"


# --- (c) the language switch --------------------------------------------------------------------


def test_language_switch_changes_and_remembers_the_language(client, vi):
    response = switch_language(client, "en", next_path="/sign-in")
    assert response.status_code == 303
    assert urlsplit(response.headers["Location"]).path == "/sign-in"
    assert session_locale(client) == "en"

    page = client.get("/sign-in").get_data(as_text=True)
    assert html_lang(page) == "en"
    assert "<h1>Sign in</h1>" in page and "Send me a sign-in link" in page
    assert str(escape(vi["Send me a sign-in link"])) not in page
    # Remembered on the next pages too, error pages included.
    assert html_lang(client.get("/").get_data(as_text=True)) == "en"
    assert "Page not found" in client.get("/no-such-page").get_data(as_text=True)

    assert switch_language(client, "vi").status_code == 303
    assert session_locale(client) == "vi"
    assert str(escape(vi["Send me a sign-in link"])) in client.get("/sign-in").get_data(as_text=True)


def test_language_switch_ignores_an_unknown_locale(client):
    response = switch_language(client, "fr")
    assert response.status_code == 303
    assert session_locale(client) is None
    assert html_lang(client.get("/sign-in").get_data(as_text=True)) == "vi"


def test_language_switch_needs_the_csrf_token(client):
    response = client.post("/language", data={"locale": "en", "next": "/sign-in"})
    assert response.status_code == 400
    assert session_locale(client) is None
    assert html_lang(client.get("/sign-in").get_data(as_text=True)) == "vi"


# --- (d) the customer's saved choice and the e-mails ---------------------------------------------


def test_signed_in_choice_is_saved_and_used_for_the_next_email_anywhere(browser, customer, vi):
    phone = browser()
    sign_in(phone, ADDRESS)
    assert saved_locale(customer.id) is None

    response = switch_language(phone, "en", next_path="/my-data", page="/my-data")
    assert response.status_code == 303 and urlsplit(response.headers["Location"]).path == "/my-data"
    assert saved_locale(customer.id) == "en"
    page = phone.get("/my-data").get_data(as_text=True)
    assert html_lang(page) == "en" and "<h1>My data</h1>" in page

    # A fresh browser knows nothing of the choice: its pages are Vietnamese...
    fresh = browser()
    assert html_lang(fresh.get("/sign-in").get_data(as_text=True)) == "vi"
    # ...but the e-mail follows the customer's saved choice, and so do the pages once signed in.
    sign_in(fresh, ADDRESS)
    assert_email_in(outbox(ADDRESS)[-1], "en", vi)
    assert html_lang(fresh.get("/my-data").get_data(as_text=True)) == "en"


@pytest.mark.parametrize(
    ("saved", "page_locale", "expected"),
    [
        (None, "vi", "vi"),  # no saved choice: the language of the page used
        (None, "en", "en"),
        ("en", "vi", "en"),  # a saved choice wins over the browser's
        ("vi", "en", "vi"),
    ],
)
def test_sign_in_email_language(client, vi, saved, page_locale, expected):
    customer = make_customer(locale=saved)
    if page_locale != DEFAULT_LOCALE:
        assert switch_language(client, page_locale).status_code == 303
    assert html_lang(client.get("/sign-in").get_data(as_text=True)) == page_locale
    assert request_link(client, ADDRESS).status_code == 303
    assert_email_in(outbox(ADDRESS)[-1], expected, vi)
    assert saved_locale(customer.id) == saved  # switching before signing in does not touch the record


# --- (e) no open redirect -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    ["https://evil.example", "https://evil.example/sign-in", "//evil.example", "///evil.example",
     "/\\evil.example", "\\\\evil.example", "javascript:alert(1)", "http:evil.example", "\t//evil.example", ""],
)
def test_language_switch_never_redirects_off_site(client, target):
    response = switch_language(client, "en", next_path=target)
    assert response.status_code == 303
    location = response.headers["Location"]
    parts = urlsplit(location)
    assert parts.netloc in ("", "localhost") and parts.scheme in ("", "http")
    assert parts.path.startswith("/") and not parts.path.startswith("//") and "\\" not in location
    assert "evil" not in location
    assert client.get(location).status_code == 200  # a real page of the portal
    assert session_locale(client) == "en"  # the choice itself still counts
