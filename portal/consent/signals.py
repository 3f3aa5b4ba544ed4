"""What happens to consent that other parts of the portal must follow. Receivers run in the
caller's transaction, so what they change commits or rolls back with the consent entry itself."""

from blinker import Namespace

_signals = Namespace()

# Sent with the customer (the model) as sender and ``entry`` (the new withdrawal), ``email`` (the
# address the customer signed in with), ``locale`` and ``now``, after a customer has withdrawn
# consent on this portal. The ticket core answers by opening, or adding to, the customer's
# consent-withdrawal request, so that partners who process the data are told to stop; consent
# knows no ticket.
consent_withdrawn = _signals.signal("consent-withdrawn")
