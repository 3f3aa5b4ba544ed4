from datetime import date

from flask import render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from portal import clock, page_cache
from portal.access import customer_required
from portal.account import bp
from portal.account.services import customer_record
from portal.audit.access_log import access_history
from portal.enums import Channel
from portal.local_time import local_date
from portal.offers import Offer, offers_from


@offers_from
def _my_data_offer():
    """My data works: the home page may promise it."""
    return [Offer(0, _l("See the personal data we hold about you"))]


@bp.route("/my-data")
@customer_required
def my_data():
    """Show everything the company holds about the signed-in customer, and who among the staff
    was shown it (a page of days at a time: ``views_before`` is the day the next page starts before)."""
    before, notice = _day_before(request.args.get("views_before"))

    def draw(values) -> str:
        customer = history = None
        if current_user.customer_id is not None:
            customer = customer_record(current_user.customer)
            # A link that expired while waiting is not shown (the page is kept until the record moves).
            customer.pending_emails = [line for line in customer.pending_emails if line.expires_at > clock.now()]
            history = access_history(customer.id, before)
        return render_template("account/my_data.html", customer=customer, email=current_user.email,
                               channels=list(Channel), history=history, history_notice=notice, before=before)

    # and today: what rests on the contract ends with a warranty's last day (consent's section)
    return page_cache.serve(("customer", *current_user.record_version, local_date(clock.now())), draw)


def _day_before(value: str | None) -> tuple[date | None, str | None]:
    """The day the access history starts before, and what was wrong with it (the newest days then)."""
    if not value:
        return None, None
    try:
        return date.fromisoformat(value), None
    except ValueError:
        return None, _("That page link is not valid. Here are the newest days.")
