"""A question about the customer's data or how the company handles it ("provide information")."""

from flask_babel import lazy_gettext as _l

from portal.enums import Department
from portal.tickets.forms import RequestMessageForm
from portal.tickets.kinds.base import RequestKind, register


@register
class Question(RequestKind):
    code = "question"
    position = 10
    title = _l("Question")
    department = Department.CARE
    legal_days = 10  # Decree 356/2025 Art. 5: provide information, 10 days
    procedure = _l(
        "A member of customer care reads your question, checks our records if needed and answers you in "
        "writing.")

    offer = _l("Ask a question about your data or how we use it")
    customer_form = RequestMessageForm
