"""Error pages in the visitor's language, for every error a person can meet."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import render_template, request
from flask.globals import request_ctx
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from portal.extensions import limiter, seconds_until_reset
from portal.security import CrossSiteRequest, safe_next_path
from portal.templating import time_to_wait


def _page(status: int, title: str, message: str, back: str | None = None):
    # An untrusted Host leaves the request without a URL adapter: draw a page that builds no URLs.
    template = "errors/error.html" if request_ctx and request_ctx.url_adapter else "errors/bare.html"
    return render_template(template, status=status, title=title, message=message, back=back), status


def handle_csrf(error: CSRFError):
    return _page(400, _("This form has expired"),
                 _("The page was open too long or came from somewhere else. Nothing was changed. "
                   "Go back, reload the page and try again."))


def handle_cross_site(error: CrossSiteRequest):
    return _page(403, _("This form came from another website"),
                 _("For your safety, the portal refuses forms sent to it from other websites. Nothing was "
                   "changed. Open the portal yourself, from its address or a bookmark, and try again."))

def _page_before() -> str | None:
    """The page of this site the visitor came from (the Referer, sent only within the site), if any."""
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc != request.host or referrer.scheme not in ("http", "https"):
        return None
    return safe_next_path(referrer.path + (f"?{referrer.query}" if referrer.query else ""))


def handle_too_many(error: HTTPException):
    """A rate limit was reached: say how long to wait, and keep a way back to the page before."""
    breached = limiter.current_limit
    if breached is not None and breached.breached:
        message = _("Too many attempts from your connection. Nothing was changed. You can try again in "
                    "%(wait)s.", wait=time_to_wait(seconds_until_reset(breached)))
    else:
        message = _("Too many attempts from your connection. Please wait a while and try again. "
                    "Nothing was changed.")
    back = _page_before() if request_ctx.url_adapter else None  # an untrusted Host has no page before
    return _page(429, _("Too many attempts"), message, back=back)


def handle_http(error: HTTPException):
    if error.response is not None:  # a page made for this error by the view or limit that raised it
        return error.response
    code = error.code or 500
    if code == 429:
        return handle_too_many(error)
    titles = {
        400: (_("Bad request"), _("The request could not be understood. Nothing was changed.")),
        404: (_("Page not found"), _("There is nothing here. Check the address, or go to the home page.")),
        405: (_("Not allowed"), _("This page cannot be used that way. Nothing was changed.")),
        413: (_("Too large"), _("What you sent is too large. Nothing was changed.")),
    }
    title, message = titles.get(code, (_("Something went wrong"), _("Please try again later.")))
    return _page(code, title, message)


def handle_unexpected(error: Exception):
    return _page(500, _("Something went wrong"),
                 _("We could not complete this. Nothing you sent has been lost; please try again later."))


def register(app) -> None:
    app.register_error_handler(CSRFError, handle_csrf)
    app.register_error_handler(CrossSiteRequest, handle_cross_site)
    app.register_error_handler(HTTPException, handle_http)
    if not app.testing:
        app.register_error_handler(Exception, handle_unexpected)
