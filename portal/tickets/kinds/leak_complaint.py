"""A complaint that the customer's data reached a third party: a request for protection measures
(Decree 356/2025 Art. 5: 15 days), for the board of directors at high priority."""

from flask_babel import lazy_gettext as _l

from portal.enums import Department, Priority
from portal.tickets.kinds.base import RequestKind, register


@register
class LeakComplaint(RequestKind):
    code = "leak_complaint"
    position = 70
    title = _l("Complaint: my data leaked")
    department = Department.BOARD
    priority = Priority.HIGH
    legal_days = 15
    procedure = _l(
        "The board of directors verifies what happened, then answers you with the reason and how the leak"
        " is being corrected and remedied.")

    offer = _l("Tell us if you think your data has leaked")
