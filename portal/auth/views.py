"""Customer sign-in pages. GET and HEAD never use anything up; only POSTs do."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, g, make_response, redirect, render_template, request, session, url_for
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from limits import parse_many

from portal import clock, page_cache
from portal.access import load_principal, restart_browser_session
from portal.auth import services
from portal.auth.forms import ChooseRecordForm, CodeForm, ContinueForm, SignInForm, SignOutForm
from portal.auth.records import choose_record, record_choices
from portal.db import db
from portal.extensions import limiter, on_posts, seconds_until_reset
from portal.hashing import keyed_hash
from portal.security import safe_next_path
from portal.templating import time_to_wait

bp = Blueprint("auth", __name__)

NONCE_COOKIE = "kn_signin_nonce"  # set in the browser that asked for the link
LINK_COOKIE = "kn_signin_link"  # the token, moved out of the URL before any page is shown
COOKIE_PATH = "/sign-in"
HINTED_ADDRESS = "sign_in_address"  # session key: the address a notification's link filled in


def _client_request_limit() -> str:
    return current_app.config["SIGN_IN_REQUESTS_PER_CLIENT"]


def _client_attempt_limit() -> str:
    return current_app.config["SIGN_IN_ATTEMPTS_PER_CLIENT"]


def _count_this_attempt() -> None:
    """Mark this post as a real attempt: it asked for a link for a valid address, or tried a link or a
    code. Only real attempts use up the per-client allowance; an empty, mistyped or expired form
    changes nothing and is simply shown again with its error."""
    g.sign_in_attempt = True


def _was_a_real_attempt(response) -> bool:
    return g.get("sign_in_attempt", False)


def _sign_in_limited(limit):
    """The per-client limit on link requests is reached: show the sign-in form again, with what was
    typed, how long to wait, and nothing sent."""
    message = _("Too many attempts from your connection. Nothing was changed. You can try again in "
                "%(wait)s.", wait=time_to_wait(seconds_until_reset(limit)))
    page = render_template("auth/sign_in.html", form=SignInForm(), limit_message=message)
    return make_response(page, 429)


def _address_allows_another_link(address: str) -> bool:
    """Count a link against the per-address limit (3 an hour), in the rate-limit storage."""
    key = keyed_hash(address)
    allowed = True
    for item in parse_many(current_app.config["SIGN_IN_LINKS_PER_ADDRESS"]):
        allowed = limiter.limiter.hit(item, "sign-in-address", key) and allowed
    return allowed


def _set_cookie(response, name: str, value: str) -> None:
    response.set_cookie(name, value, max_age=current_app.config["SIGN_IN_LINK_MINUTES"] * 60,
                        path=COOKIE_PATH, secure=current_app.config["SESSION_COOKIE_SECURE"],
                        httponly=True, samesite="Lax")


def _clear_sign_in_cookies(response, names=(NONCE_COOKIE, LINK_COOKIE)) -> None:
    for name in names:
        response.delete_cookie(name, path=COOKIE_PATH, secure=current_app.config["SESSION_COOKIE_SECURE"],
                               httponly=True, samesite="Lax")


@bp.route("/sign-in", methods=["GET", "POST"])
@on_posts(limiter.limit(_client_request_limit, methods=["POST"], deduct_when=_was_a_real_attempt,
                       on_breach=_sign_in_limited))
def sign_in():
    """Ask for an e-mail address and send it a sign-in link and code."""
    if current_user.is_authenticated and current_user.is_customer:
        return redirect(safe_next_path(request.args.get("next")) or url_for("account.my_data"))
    hinted = request.method == "GET" and session.get(HINTED_ADDRESS)
    if request.method == "GET" and not hinted:  # the same page for every visitor: drawn once
        return page_cache.serve(page_cache.visitor_key(), lambda values: render_template(
            "auth/sign_in.html", form=SignInForm(next=request.args.get("next", "")), hinted=None))
    form = SignInForm(next=request.args.get("next", ""))
    if hinted:
        form.email.data = hinted
    if not form.validate_on_submit():
        return render_template("auth/sign_in.html", form=form, hinted=hinted), 400 if form.errors else 200
    _count_this_attempt()
    address = form.normalized_email
    if not _address_allows_another_link(address):
        message = _("Too many sign-in links were asked for this address. Please wait an hour and try again.")
        return render_template("auth/sign_in.html", form=form, limit_message=message), 429
    issued = services.issue_link(address, safe_next_path(form.next.data), str(get_locale()), clock.now())
    db.session.commit()
    response = redirect(url_for(".link_sent"), 303)
    _set_cookie(response, NONCE_COOKIE, issued.nonce)
    return response


@bp.route("/sign-in/for/<hint>")
def sign_in_for(hint: str):
    """The link of a notification e-mail: sign-in with the address the e-mail went to filled in, and
    the page it is about as the destination. The hint leaves the URL at once (into the session)."""
    next_path = safe_next_path(request.args.get("next"))
    address = services.address_from_hint(hint, clock.now())
    if address and not current_user.is_authenticated:
        session[HINTED_ADDRESS] = address
    response = redirect(url_for(".sign_in", next=next_path), 303)
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.route("/sign-in/sent")
def link_sent():
    """Tell the visitor to open the e-mail; the page is the same for known and unknown addresses."""
    return page_cache.serve(page_cache.visitor_key(), lambda values: render_template(
        "auth/link_sent.html", minutes=current_app.config["SIGN_IN_LINK_MINUTES"]))


@bp.route("/sign-in/link/<token>")
def open_link(token: str):
    """Move the token from the URL into a cookie, then show the Continue page at a clean URL."""
    response = redirect(url_for(".continue_sign_in"), 303)
    _set_cookie(response, LINK_COOKIE, token[:100])
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _link_from_cookie():
    link = services.find_link(request.cookies.get(LINK_COOKIE))
    if link is None or not link.is_usable(clock.now()):
        return None
    return link


def _link_unusable(too_many_codes: bool = False):
    """Forget the dead link, but keep the nonce: it still marks this browser as the one that asked,
    so the newer link (or the right one, after a mistyped or stale one) still offers "Continue"."""
    page = render_template("auth/link_unusable.html", too_many_codes=too_many_codes)
    response = current_app.make_response((page, 410))
    _clear_sign_in_cookies(response, names=(LINK_COOKIE,))
    return response


@bp.route("/sign-in/continue", methods=["GET", "POST"])
@limiter.limit(_client_attempt_limit, methods=["POST"], deduct_when=_was_a_real_attempt)
def continue_sign_in():
    """Show "Continue" in the browser that asked for the link, the code form anywhere else."""
    link = _link_from_cookie()
    if link is None:
        return _link_unusable()
    same_browser = services.nonce_matches(link, request.cookies.get(NONCE_COOKIE))
    if not same_browser:
        # A mail scanner or another device: pressing "Continue" there must not sign anybody in.
        return render_template("auth/code.html", form=CodeForm())
    form = ContinueForm()
    if form.validate_on_submit():
        _count_this_attempt()
        if not services.consume(link, clock.now()):
            return _link_unusable()
        return _signed_in(link)
    return render_template("auth/continue.html", form=form)


@bp.route("/sign-in/code", methods=["POST"])
@limiter.limit(_client_attempt_limit, deduct_when=_was_a_real_attempt)
def enter_code():
    """Sign in with the code from the e-mail (another device, or a browser without the nonce)."""
    link = _link_from_cookie()
    if link is None:
        return _link_unusable()
    form = CodeForm()
    if not form.validate_on_submit():
        return render_template("auth/code.html", form=form), 400
    _count_this_attempt()
    result = services.try_code(link, form.code.data, clock.now())
    if result is services.CodeResult.ACCEPTED:
        return _signed_in(link)
    db.session.commit()  # the count of wrong codes must survive the error page
    if result is services.CodeResult.WRONG:
        form.code.errors.append(ngettext("That code is not right. %(num)d attempt left.",
                                         "That code is not right. %(num)d attempts left.",
                                         services.attempts_left(link)))
        return render_template("auth/code.html", form=form), 400
    return _link_unusable(too_many_codes=result is services.CodeResult.LOCKED)


def _signed_in(link):
    """Start a fresh session (new cookie, new server-side row) for the customer of ``link``."""
    key = services.start_session(link, clock.now())
    db.session.commit()
    restart_browser_session()
    login_user(load_principal(f"c:{key}"))
    response = redirect(link.next_path or url_for("account.my_data"), 303)
    _clear_sign_in_cookies(response)
    return response


@bp.route("/sign-out", methods=["POST"])
def sign_out():
    """End the session on the server as well as in the browser."""
    form = SignOutForm()
    if form.validate_on_submit() and current_user.is_authenticated:
        current_user.end_session(clock.now(), "signed_out")  # a staff member's session too
        db.session.commit()
    logout_user()
    restart_browser_session()
    flash(_("You are signed out."), "info")
    return redirect(url_for("auth.sign_in"), 303)


# --- one address, several records ----------------------------------------------------------------------

# Pages a customer who has not chosen a record yet may still open: signing in and out, the chooser,
# the home page and the language switch. Every other page waits for the choice.
BEFORE_CHOICE = ("auth", "main")


@bp.before_app_request
def _choose_a_record_first():
    """Send a customer whose address is held by several records to the chooser until they choose."""
    if request.endpoint in (None, "static") or request.blueprint in BEFORE_CHOICE:
        return None
    if current_user.is_authenticated and getattr(current_user, "must_choose_record", False):
        return redirect(url_for("auth.choose_record", next=request.full_path.rstrip("?")), 303)
    return None


@bp.route("/sign-in/records", methods=["GET", "POST"], endpoint="choose_record")
def choose_record_page():
    """Choose which of the records that hold this address to see (name and one hint each)."""
    if not current_user.is_authenticated or not current_user.is_customer:
        return redirect(url_for(".sign_in", next=url_for(".choose_record")), 303)
    form = ChooseRecordForm(next=request.args.get("next", ""))
    status = 200
    if form.validate_on_submit():
        chosen = form.record.data if (form.record.data or "").isdigit() and len(form.record.data) < 12 else None
        if chosen and choose_record(current_user.session_id, current_user.email, int(chosen), clock.now()):
            db.session.commit()
            return redirect(safe_next_path(form.next.data) or url_for("account.my_data"), 303)
        db.session.rollback()
        form.record.errors = [_("Choose one of the records below.")]
        status = 400
    elif form.is_submitted():
        status = 400
    return render_template("auth/choose_record.html", form=form, choices=record_choices(current_user.email),
                           chosen=current_user.customer_id), status
