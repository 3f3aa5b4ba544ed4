"""The development mailbox: every e-mail the portal has sent, readable in the browser.

Registered only when PORTAL_ENV is "development" and mail goes to the mailbox transport."""

from flask import Blueprint, abort, render_template
from sqlalchemy import select

from portal.db import db
from portal.outbox.models import OutboxMessage

bp = Blueprint("mailbox", __name__, url_prefix="/dev/mailbox")


@bp.route("/")
def inbox():
    """List the newest messages first."""
    messages = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(200)).all()
    return render_template("mailbox/inbox.html", messages=messages)


@bp.route("/<int:message_id>")
def show(message_id: int):
    """Show one message as text (with its links clickable) and its delivery attempts."""
    message = db.session.get(OutboxMessage, message_id) or abort(404)
    return render_template("mailbox/message.html", message=message)
