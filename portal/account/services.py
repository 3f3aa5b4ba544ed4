"""Reading a customer's record: what My data shows the customer and the board shows beside a ticket.

The record's lists — contact points, orders, consents and the history of changes — come back in one
statement, a UNION ALL in which each list's rows fill their own columns and leave the others' empty
(NULLs cast to the column's type, so every column keeps its type on every database: dates,
enumerations, aware times). A page that shows a
record then costs one statement for it whatever its size, and the rows are plain values rather
than objects of the session.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from operator import attrgetter
from types import SimpleNamespace

from sqlalchemy import bindparam, cast, literal, null, select, union_all

from portal.account.models import ContactPoint, Customer, DataChange, Order, field_title
from portal.consent.models import ConsentEntry, evidence_label
from portal.consent.services import current_consents
from portal.db import db

# Each list of a record: its model, the columns shown, and how it is ordered.
LISTS = {
    "contact_points": (ContactPoint, ("channel", "kind", "value", "source", "created_at"), ("id",)),
    "orders": (Order, ("reference", "description", "ordered_on", "warranty_ends_on"), ("ordered_on", "id")),
    "consents": (ConsentEntry, ("purpose", "granted", "method", "evidence", "recorded_at", "actor_kind", "actor_name",
                                "notice_version"), ("-recorded_at", "-id")),
    "changes": (DataChange, ("changed_at", "actor_kind", "actor_name", "field", "old_value", "new_value", "source"),
                ("-changed_at", "-id")),
}


class ConsentLine(SimpleNamespace):
    """One entry of the consent ledger as the record shows it."""

    @property
    def evidence_label(self):
        return evidence_label(self.method, self.evidence)


class Change(SimpleNamespace):
    """One line of the history of changes."""

    @property
    def field_title(self) -> str:
        return field_title(self.field)


ITEM_CLASSES = {"changes": Change, "consents": ConsentLine}


@dataclass
class CustomerRecord:
    """A customer and the lists of their record; reads like the customer (``record.full_name``)."""

    customer: Customer
    contact_points: list = field(default_factory=list)
    orders: list = field(default_factory=list)
    consents: list = field(default_factory=list)  # the ledger, newest entry first
    changes: list = field(default_factory=list)

    @property
    def consent_state(self) -> dict:
        """Each purpose that rests on consent with its latest ledger entry (None: never asked)."""
        return current_consents(self.consents)

    def __getattr__(self, name):
        return getattr(self.customer, name)


def _label(list_name: str, column: str) -> str:
    return f"{list_name}__{column}"


def _branch(list_name: str, names: tuple[str, ...]):
    """The SELECT of one list: its own columns filled, every other list's left NULL (typed)."""
    model = LISTS[list_name][0]
    columns = [literal(list_name).label("list"), model.id.label("id")]
    for other in names:
        other_model, other_columns, _order = LISTS[other]
        for column in other_columns:
            attribute = getattr(other_model, column)
            value = attribute if other == list_name else cast(null(), attribute.type)
            columns.append(value.label(_label(other, column)))
    return select(*columns)


def _sorted(items: list, order: tuple[str, ...]) -> list:
    for key in reversed(order):
        items.sort(key=attrgetter(key.lstrip("-")), reverse=key.startswith("-"))
    return items


@lru_cache(maxsize=8)
def _statement(names: tuple[str, ...]):
    """The UNION ALL of the lists ``names``, built once (building it costs more than running it)."""
    customer = bindparam("customer_id")
    return union_all(*[_branch(name, names).where(LISTS[name][0].customer_id == customer) for name in names])


def record_lists(customer_id: int, names: tuple[str, ...] = tuple(LISTS)) -> dict[str, list]:
    """The lists ``names`` of a customer's record, in one statement."""
    found: dict[str, list] = {name: [] for name in names}
    places = _places(names)
    for row in db.session.execute(_statement(names), {"customer_id": customer_id}):
        item_class, columns = places[row[0]]
        found[row[0]].append(item_class(id=row[1], **{name: row[index] for name, index in columns}))
    return {name: _sorted(items, LISTS[name][2]) for name, items in found.items()}


@lru_cache(maxsize=8)
def _places(names: tuple[str, ...]) -> dict[str, tuple[type, tuple[tuple[str, int], ...]]]:
    """For each list, the class of its items and where each of its columns is in a row."""
    places, index = {}, 2
    for name in names:
        columns = LISTS[name][1]
        places[name] = (ITEM_CLASSES.get(name, SimpleNamespace),
                        tuple((column, index + offset) for offset, column in enumerate(columns)))
        index += len(columns)
    return places


def customer_record(customer: Customer, names: tuple[str, ...] = tuple(LISTS)) -> CustomerRecord:
    """``customer`` (already loaded) with the lists ``names`` of their record."""
    return CustomerRecord(customer, **record_lists(customer.id, names))
