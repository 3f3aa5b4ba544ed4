"""What happens to staff accounts that other parts of the portal must follow. Receivers run in the
caller's transaction, so what they change commits or rolls back with the change itself."""

from blinker import Namespace

_signals = Namespace()

# Sent with the member as sender, and ``actor`` (who changed it), ``old`` (the previous role) and
# ``now``, after a member's role has changed.
role_changed = _signals.signal("staff-role-changed")
