"""What a request kind is, and the registry of kinds.

Every ticket has a kind. The ticket core (:mod:`portal.tickets.services`) does what every request
needs — reference, thread, statuses, routing, clocks, assignment, escalation — and asks the ticket's
kind for everything particular to it: the form a customer fills in, the details it stores beside
the ticket, what must be true before it is resolved or rejected, what the customer and the staff
see of it, and its default queue, priority and legal clock. A kind is a subclass of
:class:`RequestKind` in a module of this package, registered with :func:`register`.

A kind is also the string it is stored as (``"question"``), so it compares, sorts and serialises as
that string while carrying its rules.
"""

from __future__ import annotations

from typing import ClassVar

from flask_babel import lazy_gettext as _l
from sqlalchemy import String
from sqlalchemy.types import TypeDecorator

from portal.enums import Department, Priority, TicketStatus

KINDS: dict[str, RequestKind] = {}


class UnknownKind(LookupError):
    """No kind is registered under this code."""


class DetailsNotStored(Exception):
    """A kind could not store what its form carries (its files, say); nothing was filed. ``field`` is
    the form field the message belongs beside (None: the form as a whole)."""

    message: object = _l("We could not file this just now. What you typed is still here: please try again.")
    field: str | None = None


class RequestKind(str):
    """One kind of customer request. Subclasses set the class attributes and override the hooks."""

    code: ClassVar[str]
    title: ClassVar[object]  # a lazily translated string
    position: ClassVar[int]  # where it stands in every list people see
    department: ClassVar[Department]
    priority: ClassVar[Priority] = Priority.NORMAL
    # The fulfilment period of Decree 356/2025 Art. 5 in days, and the one extension it allows.
    legal_days: ClassVar[int]
    # The longer period the Decree gives when a processor or a third party must act (None: none).
    longer_days: ClassVar[int | None] = None
    # How the company handles this kind of request, told to the customer on receipt (lazily translated).
    procedure: ClassVar[object] = _l("A member of our staff reads your request and answers you in writing.")
    # The form a customer files this kind with; None: customers cannot file it themselves (yet).
    customer_form: ClassVar[type | None] = None
    # What the home page promises a customer about this kind (a lazily translated phrase), shown only
    # while customers can file it; None: nothing to promise.
    offer: ClassVar[object | None] = None
    # A table of this kind's own details (one row per ticket, keyed by ``ticket_id``), if it has any.
    detail_model: ClassVar[type | None] = None
    # Whether a new request of this kind joins the customer's open one of the same kind as a message
    # (False: each is a ticket of its own, with its own details — every complaint is about events of
    # its own, and its details and evidence must not be dropped into another's thread).
    joins_open_request: ClassVar[bool] = True
    # Template partials drawn on the customer's and the staff's ticket page, with ``ticket`` and
    # ``details`` in their context.
    customer_partial: ClassVar[str | None] = None
    staff_partial: ClassVar[str | None] = None

    def __new__(cls):
        return str.__new__(cls, cls.code)

    def __reduce__(self):
        return get_kind, (str(self),)

    @property
    def extension_days(self) -> int:
        """The law's one extension: at most the ordinary period again, whichever period applies."""
        return self.legal_days

    @property
    def is_filed_by_customers(self) -> bool:
        return self.customer_form is not None

    # --- hooks --------------------------------------------------------------------------------

    def first_message(self, form) -> str:
        """The text of the customer's first message, from their filled-in form."""
        return form.message.data.strip()

    def details_from(self, form):
        """This kind's detail row for a new ticket, from the customer's form (None: no details)."""
        return None

    def outcome_problem(self, ticket, status: TicketStatus, reason: str | None):
        """Why ``ticket`` cannot be moved to ``status`` (resolved or rejected) yet, or None."""
        return None

    def erase_personal(self, details) -> None:
        """Erase what this kind's detail row holds of the customer's own words and files, when the
        customer's data is erased (the row stays, for the register of requests)."""


def register(kind_class: type[RequestKind]) -> type[RequestKind]:
    """Add a kind to the registry (a class decorator)."""
    kind = kind_class()
    if kind in KINDS:
        raise ValueError(f"request kind {kind!r} is registered twice")
    KINDS[str(kind)] = kind
    return kind_class


def get_kind(code) -> RequestKind:
    """The registered kind whose code is ``code`` (a kind is its own code)."""
    try:
        return KINDS[str(code)]
    except KeyError:
        raise UnknownKind(code) from None


def all_kinds() -> list[RequestKind]:
    return sorted(KINDS.values(), key=lambda kind: kind.position)


def customer_kinds() -> list[RequestKind]:
    """The kinds a customer can file themselves, in the order they are offered."""
    return [kind for kind in all_kinds() if kind.is_filed_by_customers]


class KindColumn(TypeDecorator):
    """A ticket's kind, stored as its code and read back as the registered kind. A code that is not
    registered cannot be written; the registry, not a CHECK constraint, is where kinds are listed,
    so adding a kind needs no migration unless it brings a table of its own."""

    impl = String(20)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else str(get_kind(value))

    def process_result_value(self, value, dialect):
        return None if value is None else get_kind(value)
