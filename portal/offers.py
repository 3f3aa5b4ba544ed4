"""What the portal offers customers, as the home page lists it.

The home page promises only what works. Each feature that gives customers something registers a
source of offers here (:func:`offers_from`); a source is asked every time the page is drawn, so an
offer appears the moment its feature exists and says it works (a request kind gets a form customers
can file, for instance), and no list of features to come is written anywhere.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Offer:
    """One thing a customer can do here: a short phrase, lazily translated, and where it stands."""

    position: int
    text: object


_sources: list[Callable[[], Iterable[Offer]]] = []


def offers_from(source: Callable[[], Iterable[Offer]]) -> Callable[[], Iterable[Offer]]:
    """Register a function that lists what its feature offers now (a decorator)."""
    if source not in _sources:
        _sources.append(source)
    return source


def current_offers() -> list[Offer]:
    """Every offer of every registered feature, in the order people see them."""
    return sorted((offer for source in _sources for offer in source()), key=lambda offer: offer.position)
