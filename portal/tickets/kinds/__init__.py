"""The request kinds. Adding a kind is adding a module here and importing it below: the import
registers it (see :mod:`.base`)."""

from portal.offers import Offer, offers_from
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
    DetailsNotStored,
    KindColumn,
    RequestKind,
    UnknownKind,
    all_kinds,
    customer_kinds,
    get_kind,
    register,
)

__all__ = ["KINDS", "DetailsNotStored", "KindColumn", "RequestKind", "UnknownKind", "all_kinds", "customer_kinds",
           "get_kind", "register"]


@offers_from
def _offers_of_kinds_customers_file():
    """The home page promises a kind's ``offer`` once customers can file the kind themselves."""
    return [Offer(kind.position, kind.offer) for kind in customer_kinds() if kind.offer is not None]
