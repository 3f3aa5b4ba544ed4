"""Pages that belong to no feature: the home page, the language switch, the health check."""

from flask import Blueprint, redirect, render_template, session, url_for
from flask_login import current_user

from portal import page_cache
from portal.db import db
from portal.i18n import LOCALES
from portal.main.forms import LanguageForm
from portal.offers import current_offers
from portal.security import safe_next_path

bp = Blueprint("main", __name__)


@bp.route("/")
def index():
    """Send signed-in customers to their data, everyone else to a short introduction that promises
    only what the portal's features offer today."""
    if current_user.is_authenticated:
        return redirect(url_for("staff.home" if current_user.is_staff else "account.my_data"))
    offers = current_offers()
    key = page_cache.visitor_key()  # and what is offered today: a feature may start offering more
    key = key and (*key, *(offer.position for offer in offers))
    return page_cache.serve(key, lambda values: render_template("main/index.html", offers=offers))


@bp.route("/language", methods=["POST"])
def set_language():
    """Remember the chosen language in the session and, for a customer, on their record."""
    form = LanguageForm()
    if form.validate_on_submit() and form.locale.data in LOCALES:
        session["locale"] = form.locale.data
        if current_user.is_authenticated:
            current_user.remember_language(form.locale.data)
            db.session.commit()
    return redirect(safe_next_path(form.next.data) or url_for("main.index"), 303)


@bp.route("/healthz")
def health():
    db.session.execute(db.text("SELECT 1"))
    return {"status": "ok"}
