"""A report of misuse: abuse, a security violation, a third party holding the customer's data or
credentials. Like a leak complaint, for the board at high priority (15 days)."""

from flask_babel import lazy_gettext as _l

from portal.enums import Department, Priority
from portal.tickets.kinds.base import RequestKind, register


@register
class MisuseReport(RequestKind):
    code = "misuse_report"
    position = 80
    title = _l("Report of misuse")
    department = Department.BOARD
    priority = Priority.HIGH
    legal_days = 15
    procedure = _l(
        "The board of directors looks into the misuse you report, takes the measures needed to protect "
        "your data and tells you what was done.")

    offer = _l("Report misuse of your data or your account")
