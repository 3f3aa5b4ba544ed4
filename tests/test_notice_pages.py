"""The privacy notice is a page of the portal, one per version, and the version in effect is what a new
consent entry records; "your rights" states each right's legal period, the cookies and the retention
periods as the code and settings decide them. Both are linked from every page's footer and the home page."""

from __future__ import annotations

import re
from datetime import date

import pytest

from portal.auth.views import LINK_COOKIE, NONCE_COOKIE
from portal.consent import notice
from portal.consent.notice import NoticeVersion, blocks_of, version_in_effect
from portal.db import db
from portal.settings.services import save_setting
from portal.tickets.kinds import get_kind
from tests.helpers import CSRF_FIELD, english, page_text, sign_in


def test_the_notice_in_effect_is_shown_with_every_version(client):
    page = page_text(client.get("/privacy"))
    assert "Chính sách bảo mật thông tin khách hàng tại Công ty TNHH Khôi Ngô luôn được coi trọng." in page
    assert "<h2>3. Thời gian lưu trữ thông tin</h2>" in page
    assert "Phiên bản 1, có hiệu lực từ" in page and "đang có hiệu lực" in page
    assert page_text(client.get("/privacy/1")).count("<h2>") == page.count("<h2>")


def test_the_notice_in_english_says_the_vietnamese_is_the_original(client):
    english(client)
    page = page_text(client.get("/privacy"))
    assert "Công ty TNHH Khôi Ngô always takes the privacy" in page
    assert "the Vietnamese text is the original" in page
    assert "<li>carry out customer surveys;</li>" in page


@pytest.mark.parametrize("version", ["2", "0", "1.vi", "..%2F..%2Fsecret", "<b>"])
def test_an_unknown_version_is_not_found(client, version):
    assert client.get(f"/privacy/{version}").status_code == 404


def test_the_version_in_effect_is_the_newest_whose_day_has_come(monkeypatch):
    versions = (NoticeVersion("1", date(2026, 1, 1)), NoticeVersion("2", date(2027, 3, 1)))
    monkeypatch.setattr(notice, "VERSIONS", versions)
    assert version_in_effect(date(2027, 2, 28)).version == "1"
    assert version_in_effect(date(2027, 3, 1)).version == "2"
    assert version_in_effect(date(2025, 1, 1)).version == "1"


def test_every_version_has_both_languages_and_no_markup_is_read_from_them():
    for version in notice.VERSIONS:
        for language in notice.LANGUAGES:
            blocks = blocks_of(version.version, language)
            assert blocks and {block.kind for block in blocks} == {"heading", "paragraph", "list"}
        assert len(blocks_of(version.version, "vi")) == len(blocks_of(version.version, "en"))
    assert blocks_of("1", "fr") == blocks_of("1", "vi")


def test_the_rights_page_reads_each_legal_period_from_its_request_kind(client, monkeypatch):
    english(client)
    page = page_text(client.get("/your-rights"))
    for code in ("access", "correction", "consent_withdrawal", "erasure", "restriction", "leak_complaint"):
        assert f"within {get_kind(code).legal_days} days" in page
    monkeypatch.setattr(type(get_kind("erasure")), "legal_days", 19)
    page = page_text(client.get("/your-rights"))
    section = page[page.index('id="h-right-erasure"'):page.index('id="h-right-restriction"')]
    assert "We answer within 19 days." in section and "(30 days when a partner" in section
    for heading in ("To know and to see your data", "To have it corrected", "To get a copy",
                    "To withdraw your consent", "To have your data deleted", "To restrict or object to processing",
                    "To complain"):
        assert heading in page


def test_the_rights_page_names_the_cookies_and_the_retention_periods(app, client, clock):
    english(client)
    page = page_text(client.get("/your-rights"))
    for name in (app.config["SESSION_COOKIE_NAME"], NONCE_COOKIE, LINK_COOKIE):
        assert f"<code>{name}</code>" in page
    assert "IP addresses" in page
    assert re.search(r"The IP addresses in our log of sign-ins and changes: <strong>180 days</strong>", page)
    save_setting("retention", {"audit_addresses": 90}, None, clock.now())
    db.session.commit()
    page = page_text(client.get("/your-rights"))
    assert "The IP addresses in our log of sign-ins and changes: <strong>90 days</strong>" in page


def test_footer_and_home_page_link_both_pages(client, customer):
    home = page_text(client.get("/"))
    assert home.count('href="/privacy"') == 2 and home.count('href="/your-rights"') == 2
    sign_in(client, "an.nguyen@example.vn")
    my_data = page_text(client.get("/my-data"))
    assert 'href="/privacy"' in my_data and 'href="/your-rights"' in my_data
    assert 'href="/privacy/1"' not in my_data  # the factory's entries name no version
    token = CSRF_FIELD.search(my_data).group(1)
    client.post("/my-data/consents", data={"csrf_token": token, "purpose": "surveys", "choice": "give", "seen": "0"})
    assert 'href="/privacy/1">Phiên bản 1</a>' in page_text(client.get("/my-data"))  # the version it was given under
