"""What happens to staff accounts that other parts of the portal must follow. Receivers run in the
caller's transaction, so what they change commits or rolls back with the change itself."""

from blinker import Namespace

_signals = Namespace()

# Sent with the member as sender, and ``actor`` (who changed it), ``old`` (the previous role) and
# ``now``, after a member's role has changed.
role_changed = _signals.signal("staff-role-changed")

# Sent with the signed-in member as sender and ``now`` while their start page is drawn. Each
# receiver returns a part of the page (safe HTML, e.g. a rendered template) or None; the parts are
# shown in the order the receivers were connected. The staff pages know no ticket: the board adds
# the member's work to the start page this way.
start_page = _signals.signal("staff-start-page")
