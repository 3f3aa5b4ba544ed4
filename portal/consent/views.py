"""The consent switches on My data: each choice is effective at once."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from portal import clock
from portal.access import customer_required
from portal.account.models import Customer
from portal.account.services import customer_record
from portal.audit.access_log import access_history
from portal.consent.forms import ConsentSwitchForm
from portal.consent.models import CONTRACT_PURPOSES
from portal.consent.services import StaleChoice, contract_basis, switch_consent
from portal.db import db
from portal.enums import Channel, Purpose
from portal.extensions import limiter
from portal.local_time import local_date
from portal.offers import Offer, offers_from

bp = Blueprint("consent", __name__)


@offers_from
def _consent_offer():
    """The switches work: the home page may promise them."""
    return [Offer(1, _l("Give or withdraw your consent to surveys, promotions and notices"))]


@bp.route("/my-data/consents", methods=["POST"])
@customer_required
@limiter.limit("30 per minute", methods=["POST"])
def switch():
    """Give or withdraw the signed-in customer's consent for one purpose, at once."""
    if current_user.customer_id is None:
        abort(404)
    form = ConsentSwitchForm()
    if not form.validate_on_submit():
        return _my_data_again(_first_error(form)), 400
    customer = db.session.get(Customer, current_user.customer_id)
    purpose = Purpose(form.purpose.data)
    try:
        switch_consent(customer, purpose, form.granted, form.seen.data, email=current_user.email,
                       locale=str(get_locale()), now=clock.now())
        db.session.commit()
    except StaleChoice:
        db.session.rollback()
        return _my_data_again(_("Your consent for \u201c%(purpose)s\u201d changed after this page was shown "
                                "(in another tab or window?). Nothing was changed: here it is as it stands "
                                "now. Choose again if you still wish to.", purpose=purpose.title)), 409
    flash(_("Your consent for \u201c%(purpose)s\u201d is given. Thank you.", purpose=purpose.title) if form.granted
          else _("Your consent for \u201c%(purpose)s\u201d is withdrawn: we stop at once, and we tell anyone who "
                 "processes your data for us to stop too.", purpose=purpose.title), "success")
    return redirect(url_for("account.my_data", _anchor="h-consents"), 303)


def _first_error(form) -> str:
    for name in ("purpose", "choice"):
        if form.errors.get(name):
            return str(form.errors[name][0])
    return _("That choice could not be read. Nothing was changed: please choose again.")


def _my_data_again(problem: str) -> str:
    """My data again, with what was wrong with the choice beside the switches; nothing was changed."""
    customer = customer_record(db.session.get(Customer, current_user.customer_id))
    return render_template("account/my_data.html", customer=customer, email=current_user.email,
                           channels=list(Channel), history=access_history(customer.id, None),
                           history_notice=None, before=None, consent_problem=problem)


@bp.app_template_global()
def contract_basis_of(record) -> dict:
    """What rests on the contract for ``record`` today (see :func:`services.contract_basis`)."""
    running, ended_on = contract_basis(record.orders, local_date(clock.now()))
    return {"purposes": CONTRACT_PURPOSES, "orders": running, "ended_on": ended_on}
