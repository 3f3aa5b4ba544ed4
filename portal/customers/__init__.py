"""Customer records entered and kept by staff on the board (a phone call, a web form, the sales
system's import): find a customer, enter one, correct one, record consent with its evidence.

Every change goes into the record's history with where it came from, and into the audit log; every
page that shows a customer's data is a view the customer reads on My data.
"""

from flask import Blueprint

bp = Blueprint("customers", __name__, url_prefix="/board/customers")

from portal.customers import views  # noqa: E402,F401  (its routes join bp)
