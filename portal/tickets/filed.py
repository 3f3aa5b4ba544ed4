"""What a customer is told on screen once a request is filed, whichever page filed it."""

from __future__ import annotations

from flask import flash
from flask_babel import gettext as _


def say_filed(ticket, created: bool) -> None:
    """Flash the reference of a new request, or that the message joined the open one of its kind."""
    if created:
        flash(_("Your request is filed. Its reference is %(reference)s.", reference=ticket.reference), "success")
    else:
        flash(_("You already have an open request of this kind (%(reference)s): your message was added to it.",
                reference=ticket.reference), "info")
