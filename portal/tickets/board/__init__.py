"""The website admin board: the queues, the ticket page, the dashboard and the queue settings.

Views are thin: they read the forms, call the ticket rules in :mod:`portal.tickets.services`, and
commit once. Each page has its module; what the board's templates share is in :mod:`.display`.
"""

from flask import Blueprint

bp = Blueprint("board", __name__, url_prefix="/board")

from portal.tickets.board import dashboard, display, queue, settings_page, start_page, ticket_page  # noqa: E402,F401,I001
from portal.tickets.board import corrections  # noqa: E402,F401,I001
