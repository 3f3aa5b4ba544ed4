"""The printable copy: the same data as the JSON copy, made readable. Its stable codes become the
enumerations they name (whose ``title`` the page shows in the reader's language) and its ISO
strings become dates and moments (which the page shows with ``local_date`` and ``local_datetime``).
The JSON itself is left as documented in docs/data-export.md."""

from __future__ import annotations

import contextlib
from datetime import date, datetime
from types import SimpleNamespace

from portal.account.models import field_title
from portal.enums import (
    ActorKind,
    Channel,
    ConsentMethod,
    ContactKind,
    DataSource,
    Purpose,
    Role,
    TicketStatus,
    ViewedPage,
)
from portal.rights.models import CopyFormat
from portal.tickets.kinds.base import UnknownKind, get_kind

# For each list of the copy: which field holds which enumeration's code, which a moment, which a day.
CODES = {
    "customer": {"source": DataSource},
    "contact_points": {"channel": Channel, "kind": ContactKind, "source": DataSource},
    "consents": {"purpose": Purpose, "method": ConsentMethod, "recorded_by": ActorKind},
    "history": {"by": ActorKind},
    "requests": {"status": TicketStatus},
    "access_log": {"staff_role": Role, "page": ViewedPage},
    "copies": {"format": CopyFormat},
}
MOMENTS = {"generated_at", "created_at", "processing_restricted_since", "added_at", "recorded_at", "changed_at",
           "filed_at", "due_at", "resolved_at", "at", "viewed_at", "made_at"}
DAYS = {"ordered_on", "warranty_ends_on"}


class Titled(SimpleNamespace):
    """A code the portal no longer knows, shown as it is."""

    def __str__(self) -> str:
        return self.title


def _member(enumeration, code):
    try:
        return enumeration(code)
    except ValueError:
        return Titled(value=code, title=code)


def _value(key: str, value, codes: dict):
    if value is None:
        return None
    if key in codes:
        return _member(codes[key], value)
    with contextlib.suppress(TypeError, ValueError):
        if key in MOMENTS:
            return datetime.fromisoformat(value)
        if key in DAYS:
            return date.fromisoformat(value)
    return value


def _item(values: dict, codes: dict) -> SimpleNamespace:
    return SimpleNamespace(**{key: _value(key, value, codes) for key, value in values.items()})


def _kind(code):
    try:
        return get_kind(code)
    except UnknownKind:
        return Titled(value=code, title=code)


def _request(values: dict) -> SimpleNamespace:
    request = _item({key: value for key, value in values.items() if key != "messages"}, CODES["requests"])
    request.kind = _kind(values["kind"])
    request.messages = [_item(message, {}) for message in values["messages"]]
    return request


def readable_copy(data: dict) -> SimpleNamespace:
    """``data`` (the copy as :func:`portal.rights.services.copy_of_data` makes it) for the printable page."""
    customer = _item(data["customer"], CODES["customer"])
    customer.objections = [_member(Purpose, code) for code in data["customer"]["objections"]]
    history = [_item(change, CODES["history"]) for change in data["history"]]
    for change in history:
        change.field_title = field_title(change.field)
    return SimpleNamespace(
        generated_at=_value("generated_at", data["generated_at"], {}),
        signed_in_as=data["signed_in_as"], controller=SimpleNamespace(**data["controller"]), customer=customer,
        contact_points=[_item(point, CODES["contact_points"]) for point in data["contact_points"]],
        orders=[_item(order, {}) for order in data["orders"]],
        consents=[_item(consent, CODES["consents"]) for consent in data["consents"]],
        history=history, requests=[_request(request) for request in data["requests"]],
        access_log=[_item(view, CODES["access_log"]) for view in data["access_log"]],
        copies=[_item(copy, CODES["copies"]) for copy in data["copies"]])
