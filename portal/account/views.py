from flask import Blueprint, render_template
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from portal.access import customer_required
from portal.account.services import load_customer_data, staff_views_of
from portal.enums import Channel
from portal.offers import Offer, offers_from

bp = Blueprint("account", __name__)


@offers_from
def _my_data_offer():
    """My data works: the home page may promise it."""
    return [Offer(0, _l("See the personal data we hold about you"))]


@bp.route("/my-data")
@customer_required
def my_data():
    """Show everything the company holds about the signed-in customer."""
    customer, views = None, []
    if current_user.customer_id is not None:
        customer = load_customer_data(current_user.customer_id)
        views = staff_views_of(customer.id)
    return render_template("account/my_data.html", customer=customer, email=current_user.email,
                           channels=list(Channel), views=views)
