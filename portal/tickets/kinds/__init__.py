"""The request kinds. Adding a kind is adding a module here and importing it below: the import
registers it (see :mod:`.base`)."""

from portal.tickets.kinds import (  # noqa: F401  (each import registers its kind)
    access,
    consent_withdrawal,
    correction,
    erasure,
    leak_complaint,
    misuse_report,
    other,
    question,
    restriction,
)
from portal.tickets.kinds.base import (
    KINDS,
    KindColumn,
    RequestKind,
    UnknownKind,
    all_kinds,
    customer_kinds,
    get_kind,
    register,
)

__all__ = ["KINDS", "KindColumn", "RequestKind", "UnknownKind", "all_kinds", "customer_kinds", "get_kind",
           "register"]
