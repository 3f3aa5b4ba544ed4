"""The administrator's staff pages: invite, change role, deactivate or reactivate, start a reset.

An administrator never sets or sees a password: members choose their own through an e-mailed link.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal import clock
from portal.access import staff_required
from portal.db import db
from portal.enums import Role
from portal.staff import bp, services
from portal.staff.forms import ActionForm, InviteForm, RoleForm
from portal.staff.models import StaffMember


def _member_or_404(member_id: int) -> StaffMember:
    member = db.session.get(StaffMember, member_id)
    if member is None:
        abort(404)
    return member


def _to_member(member: StaffMember):
    return redirect(url_for(".member", member_id=member.id), 303)


@bp.route("/admin/members", methods=["GET", "POST"])
@staff_required("staff.manage")
def members():
    """List the staff and invite a new member, who chooses a password through the e-mailed link."""
    form = InviteForm()
    if form.validate_on_submit():
        member = services.invite_member(form.normalized_email, form.full_name.data, Role(form.role.data),
                                        current_user.staff, clock.now())
        db.session.commit()
        flash(_("%(name)s was added. An invitation was sent to %(email)s.", name=member.full_name,
                email=member.email), "success")
        return _to_member(member)
    return render_template("staff/members.html", form=form, members=services.list_members(), now=clock.now(),
                           invite_hours=services.LINK_HOURS["invite"]), 400 if form.errors else 200


@bp.route("/admin/members/<int:member_id>")
@staff_required("staff.manage")
def member(member_id: int):
    """One member: their state, and the changes an administrator can make."""
    member = _member_or_404(member_id)
    return _member_page(member, RoleForm(role=str(member.role)))


def _member_page(member: StaffMember, role_form: RoleForm, status: int = 200):
    return render_template("staff/member.html", member=member, role_form=role_form, action_form=ActionForm(),
                           now=clock.now(), reset_hours=services.LINK_HOURS["reset"]), status


@bp.route("/admin/members/<int:member_id>/role", methods=["POST"])
@staff_required("staff.manage")
def change_role(member_id: int):
    """Give the member another role; it applies from their next page."""
    member = _member_or_404(member_id)
    form = RoleForm()
    if not form.validate_on_submit():
        return _member_page(member, form, 400)
    try:
        changed = services.change_role(member, Role(form.role.data), current_user.staff, clock.now())
    except services.LastAdministrator:
        form.role.errors.append(_("At least one active administrator must remain."))
        return _member_page(member, form, 400)
    db.session.commit()
    if changed:
        flash(_("%(name)s is now: %(role)s.", name=member.full_name, role=member.role.title), "success")
    return _to_member(member)


@bp.route("/admin/members/<int:member_id>/deactivate", methods=["GET", "POST"])
@staff_required("staff.manage")
def deactivate(member_id: int):
    """Stop the member from signing in; they are signed out at once. Nothing is deleted. The member
    page only leads here: the GET asks to confirm, and only the confirmation's button posts."""
    member = _member_or_404(member_id)
    if request.method == "GET":
        if not member.is_active:
            return _to_member(member)
        return render_template("staff/deactivate.html", member=member, action_form=ActionForm(),
                               is_self=_is_self(member))
    try:
        services.deactivate(member, current_user.staff, clock.now())
    except services.LastAdministrator:
        flash(_("At least one active administrator must remain."), "error")
        return _to_member(member)
    db.session.commit()
    flash(_("%(name)s is deactivated and signed out everywhere.", name=member.full_name), "success")
    return redirect(url_for(".members") if not _is_self(member) else url_for(".sign_in"), 303)


@bp.route("/admin/members/<int:member_id>/reactivate", methods=["POST"])
@staff_required("staff.manage")
def reactivate(member_id: int):
    member = _member_or_404(member_id)
    services.reactivate(member, current_user.staff, clock.now())
    db.session.commit()
    flash(_("%(name)s can sign in again.", name=member.full_name), "success")
    return _to_member(member)


@bp.route("/admin/members/<int:member_id>/password-reset", methods=["POST"])
@staff_required("staff.manage")
def start_password_reset(member_id: int):
    """E-mail the member a link to choose a new password (a new invitation if they never chose one)."""
    member = _member_or_404(member_id)
    if not member.is_active:
        abort(404)
    purpose = services.start_password_reset(member, current_user.staff, clock.now())
    db.session.commit()
    if purpose == "invite":
        flash(_("A new invitation was sent to %(email)s.", email=member.email), "success")
    else:
        flash(_("A password reset link was sent to %(email)s. Their current password works until they "
                "choose a new one.", email=member.email), "success")
    return _to_member(member)


@bp.route("/admin/members/<int:member_id>/authenticator-reset", methods=["POST"])
@staff_required("staff.manage")
def reset_authenticator(member_id: int):
    """Forget a member's authenticator (lost phone); they enrol a new one at their next sign-in."""
    member = _member_or_404(member_id)
    services.reset_authenticator(member, current_user.staff, clock.now())
    db.session.commit()
    flash(_("%(name)s was signed out and will set up a new authenticator app at the next sign-in.",
            name=member.full_name), "success")
    return _to_member(member)


def _is_self(member: StaffMember) -> bool:
    return current_user.is_authenticated and current_user.staff.id == member.id
