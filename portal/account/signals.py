"""What happens to a customer's record that other parts of the portal must follow. Receivers run in
the caller's transaction, so what they change commits or rolls back with the change itself.

My data knows no ticket: customer care hears of a correction through these signals (the correction
request kind answers them, see ``portal/tickets/kinds/correction.py``)."""

from blinker import Namespace

_signals = Namespace()

# Sent with the customer (a Customer) as sender and ``changes`` (the DataChange rows just added),
# ``email`` and ``locale`` (the customer's verified address and language) and ``now``, after the
# customer changed their own data.
data_corrected = _signals.signal("customer-data-corrected")

# Sent with the customer as sender and ``name`` (the proposed full name), ``email``, ``locale`` and
# ``now``, when a customer asks for their name to be changed. Receivers return the reference of the
# request that carries it.
name_change_proposed = _signals.signal("customer-name-change-proposed")
