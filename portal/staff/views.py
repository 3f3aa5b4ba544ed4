"""Staff sign-in (password, then TOTP), enrolment, password links, sign-out and the landing page.

Between the two steps the Flask session holds only the member's id and when the password was
right, for a few minutes; nobody is signed in until the second step passes.
"""

from __future__ import annotations

from datetime import datetime

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import format_time, ngettext
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from portal import clock
from portal.access import load_principal, restart_browser_session, staff_required
from portal.db import db
from portal.extensions import limiter
from portal.security import safe_next_path
from portal.staff import bp, services, signals, signin
from portal.staff.forms import CodeForm, EnrolForm, SetPasswordForm, SignInForm
from portal.staff.models import StaffMember
from portal.staff.passwords import MIN_LENGTH
from portal.staff.signin import Outcome

PENDING = "staff_sign_in"  # {"id": member id, "at": when the password was right, "next": path}
PENDING_SECONDS = 5 * 60
# The token of an opened password link, moved out of the URL (names, not secrets).
PASSWORD_LINK_COOKIE = "kn_staff_password_link"  # noqa: S105
PASSWORD_LINK_PATH = "/staff/password"  # noqa: S105


def _attempt_limit() -> str:
    return current_app.config["SIGN_IN_ATTEMPTS_PER_CLIENT"]


def _is_staff() -> bool:
    return current_user.is_authenticated and current_user.is_staff


def _pending_member(now: datetime) -> StaffMember | None:
    """The member who gave the right password in this browser less than five minutes ago."""
    pending = session.get(PENDING)
    if not isinstance(pending, dict) or not isinstance(pending.get("at"), (int, float)):
        return None
    if not 0 <= now.timestamp() - pending["at"] <= PENDING_SECONDS:
        session.pop(PENDING, None)
        return None
    member = db.session.get(StaffMember, pending.get("id"))
    if member is None or not member.is_active:
        session.pop(PENDING, None)
        return None
    return member


def _start_again():
    flash(_("Your sign-in took too long or was interrupted. Please start again."), "error")
    return redirect(url_for(".sign_in"), 303)


def _lock_message(member: StaffMember) -> str:
    return _("Too many wrong attempts: this account is locked for %(minutes)d minutes, until %(time)s. "
             "Nothing else is needed; try again then.", minutes=signin.LOCK_MINUTES,
             time=format_time(member.locked_until, "short"))


@bp.route("/sign-in", methods=["GET", "POST"])
@limiter.limit(_attempt_limit, methods=["POST"])
def sign_in():
    """First step: e-mail address and password."""
    if _is_staff():
        return redirect(url_for(".home"))
    form = SignInForm(next=request.args.get("next", ""))
    if not form.validate_on_submit():
        return render_template("staff/sign_in.html", form=form), 400 if form.errors else 200
    now = clock.now()
    outcome, member = signin.check_password(form.normalized_email, form.password.data, now)
    if outcome is Outcome.ACCEPTED and member.totp_enrolled_at is None:
        signin.enrolment_secret(member)
    db.session.commit()  # the audit record of a wrong password survives the error page
    if outcome is Outcome.LOCKED:
        return render_template("staff/sign_in.html", form=form, alert=_lock_message(member)), 429
    if outcome is not Outcome.ACCEPTED:
        # Wrong passwords never lock an account (signin.check_password): the per-client limit holds them back.
        form.password.errors.append(_("E-mail address or password is not right."))
        return render_template("staff/sign_in.html", form=form), 400
    session[PENDING] = {"id": member.id, "at": now.timestamp(), "next": safe_next_path(form.next.data)}
    return redirect(url_for(".enrol" if member.totp_enrolled_at is None else ".code"), 303)


@bp.route("/sign-in/code", methods=["GET", "POST"])
@limiter.limit(_attempt_limit, methods=["POST"])
def code():
    """Second step: the code from the authenticator app, or a recovery code."""
    now = clock.now()
    member = _pending_member(now)
    if member is None:
        return _start_again()
    if member.totp_enrolled_at is None:
        return redirect(url_for(".enrol"), 303)
    form = CodeForm()
    if not form.validate_on_submit():
        return render_template("staff/code.html", form=form), 400 if form.errors else 200
    outcome, method = signin.check_second_factor(member, form.code.data, now)
    if outcome is Outcome.ACCEPTED:
        next_path = _after_sign_in_path()
        _finish_sign_in(member, method, now)
        return redirect(next_path, 303)
    db.session.commit()
    if outcome is Outcome.LOCKED:
        session.pop(PENDING, None)
        return render_template("staff/sign_in.html", form=SignInForm(formdata=None),
                               alert=_lock_message(member)), 429
    if outcome is Outcome.REPLAYED:
        form.code.errors.append(_("This code has already been used. Wait for the next code in your app."))
    else:
        form.code.errors.append(ngettext("That code is not right. %(num)d attempt left.",
                                         "That code is not right. %(num)d attempts left.",
                                         signin.failures_left(member)))
    return render_template("staff/code.html", form=form), 400


@bp.route("/sign-in/enrol", methods=["GET", "POST"])
@limiter.limit(_attempt_limit, methods=["POST"])
def enrol():
    """First sign-in: set up the authenticator app, then show the recovery codes once."""
    now = clock.now()
    member = _pending_member(now)
    if member is None or not member.totp_secret:
        return _start_again()
    if member.totp_enrolled_at is not None:
        return redirect(url_for(".code"), 303)
    form = EnrolForm()
    if form.validate_on_submit():
        codes = signin.confirm_enrolment(member, form.code.data, now)
        if codes:
            next_path = _after_sign_in_path()
            _finish_sign_in(member, "enrolment", now)
            # Shown in this response only: never stored in the session, never shown again.
            return render_template("staff/recovery_codes.html", codes=codes, next_path=next_path)
        form.code.errors.append(_("That code is not right. Check that the time on your phone is set "
                                  "automatically, and type the code the app shows now."))
    return render_template("staff/enrol.html", form=form, qr=signin.qr_data_uri(member),
                           secret=signin.grouped(member.totp_secret), email=member.email), \
        400 if form.errors else 200


def _after_sign_in_path() -> str:
    pending = session.get(PENDING) or {}
    return safe_next_path(pending.get("next")) or url_for(".home")


def _finish_sign_in(member: StaffMember, method: str, now: datetime) -> None:
    """Start a fresh session (new cookie, new server-side row) for ``member``."""
    key = signin.complete_sign_in(member, now, method)
    db.session.commit()
    restart_browser_session()
    login_user(load_principal(f"s:{key}"))


@bp.route("/sign-out", methods=["POST"])
def sign_out():
    """End the session on the server as well as in the browser."""
    if _is_staff():
        current_user.end_session(clock.now(), "signed_out")
        db.session.commit()
    logout_user()
    restart_browser_session()
    flash(_("You are signed out."), "info")
    return redirect(url_for(".sign_in"), 303)


@bp.route("/password/<token>")
def open_password_link(token: str):
    """The link from an invitation or a reset e-mail: move its token from the URL into a cookie, then
    show the form at a clean URL, so that no Referer, log line or history entry carries the token.
    A GET uses nothing up."""
    response = redirect(url_for(".set_password"), 303)
    response.headers["Referrer-Policy"] = "no-referrer"
    link = services.find_password_link(token[:100])
    if not services.link_is_usable(link, clock.now()):
        _forget_password_link(response)  # and any older one: the clean URL says this link is unusable
        return response
    lifetime = int((link.expires_at - clock.now()).total_seconds())
    response.set_cookie(PASSWORD_LINK_COOKIE, token[:100], max_age=lifetime, path=PASSWORD_LINK_PATH,
                        secure=current_app.config["SESSION_COOKIE_SECURE"], httponly=True, samesite="Lax")
    return response


def _forget_password_link(response) -> None:
    response.delete_cookie(PASSWORD_LINK_COOKIE, path=PASSWORD_LINK_PATH,
                           secure=current_app.config["SESSION_COOKIE_SECURE"], httponly=True, samesite="Lax")


def _link_unusable():
    response = current_app.make_response((render_template("staff/link_unusable.html"), 410))
    _forget_password_link(response)
    return response


@bp.route("/password", methods=["GET", "POST"])
@limiter.limit(_attempt_limit, methods=["POST"])
def set_password():
    """Choose a password with the link opened in this browser (its token is in a cookie)."""
    now = clock.now()
    link = services.find_password_link(request.cookies.get(PASSWORD_LINK_COOKIE))
    if not services.link_is_usable(link, now):
        return _link_unusable()
    member = services.link_member(link)
    form = SetPasswordForm(member.email)
    if form.validate_on_submit():
        if not services.set_password_with_link(link, form.password.data, now):
            return _link_unusable()
        db.session.commit()
        flash(_("Your password is set. You can sign in now."), "success")
        response = redirect(url_for(".sign_in"), 303)
        _forget_password_link(response)
        return response
    return render_template("staff/set_password.html", form=form, member=member,
                           purpose=services.link_purpose(link), min_length=MIN_LENGTH), 400 if form.errors else 200


@bp.route("/")
@staff_required()
def home():
    """The staff start page: who is signed in, and each member's work (from the parts of the portal
    that answer :data:`signals.start_page`)."""
    member = current_user.staff
    parts = [part for _receiver, part in signals.start_page.send(member, now=clock.now()) if part]
    return render_template("staff/home.html", member=member, parts=parts)
