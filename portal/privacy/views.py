"""The privacy notice (each version) and the "your rights" page; the same for every visitor."""

from __future__ import annotations

from flask import abort, render_template
from flask_babel import get_locale

from portal import clock, page_cache
from portal.consent.notice import VERSIONS, blocks_of, find_version, version_in_effect
from portal.local_time import local_date
from portal.privacy import bp
from portal.privacy.services import acknowledge_days, cookies, retention, rights


@bp.route("/privacy")
def current_notice():
    """The privacy notice in effect today, and the list of every version."""
    return _notice_page(version_in_effect(local_date(clock.now())))


@bp.route("/privacy/<version>")
def notice(version: str):
    """One version of the privacy notice."""
    found = find_version(version)
    if found is None:
        abort(404)
    return _notice_page(found)


def _notice_page(shown):
    in_effect = version_in_effect(local_date(clock.now()))
    key = page_cache.visitor_key()
    key = key and (*key, shown.version, in_effect.version)

    def draw(values) -> str:
        return render_template("consent/notice.html", shown=shown, in_effect=in_effect,
                               versions=list(reversed(VERSIONS)),
                               blocks=blocks_of(shown.version, str(get_locale())))

    return page_cache.serve(key, draw)


@bp.route("/your-rights")
def your_rights():
    """Each right, how to use it here and its legal deadline; the cookies, IP logging and retention."""
    return render_template("consent/rights.html", rights=rights(), cookies=cookies(), retention=retention(),
                           acknowledge_days=acknowledge_days())
