"""The price allow-list, and price look-ups cached in the warm process.

A button names a price by ID or lookup key. Only what `ALLOWED_PRICES` lists may be bought (or any
active price when it says `*`): a request for anything else is refused before Stripe is asked, so
nobody can probe the account's catalogue or buy a price the seller did not put on the site.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import Code, InvalidRequest, NotFound
from .stripe_api import StripeGateway

TTL_SECONDS = 60.0
NEGATIVE_TTL_SECONDS = 10.0


@dataclass(frozen=True)
class Price:
    id: str
    lookup_key: str | None
    active: bool
    recurring: bool
    currency: str
    unit_amount: int | None
    product_name: str
    trial_days: int | None = None
    # A recurring price's billing interval and count (("month", 1)); a cart's must all be the same.
    interval: tuple[str, int] | None = None

    @classmethod
    def from_stripe(cls, obj: dict[str, Any]) -> Price:
        product = obj.get("product")
        name = product.get("name") if isinstance(product, dict) else None
        return cls(
            id=obj["id"], lookup_key=obj.get("lookup_key"), active=bool(obj.get("active")),
            recurring=obj.get("type") == "recurring" or bool(obj.get("recurring")),
            currency=obj.get("currency") or "", unit_amount=obj.get("unit_amount"),
            product_name=name or obj.get("nickname") or obj["id"],
            trial_days=_trial_days(obj), interval=_interval(obj),
        )


def _interval(obj: dict[str, Any]) -> tuple[str, int] | None:
    recurring = obj.get("recurring")
    if not isinstance(recurring, dict) or not isinstance(recurring.get("interval"), str):
        return None
    count = recurring.get("interval_count")
    return recurring["interval"], count if isinstance(count, int) and count > 0 else 1


def _trial_days(obj: dict[str, Any]) -> int | None:
    # Trials belong to the subscription in today's API; `catalog sync` keeps the days on the price's
    # metadata so the buy button needs to name nothing but the price.
    raw = str((obj.get("metadata") or {}).get("trial_period_days") or "")
    return int(raw) if raw.isascii() and raw.isdigit() and 0 < int(raw) <= 730 else None


class PriceCatalog:
    def __init__(self, allowed: tuple[str, ...], gateway: StripeGateway, *,
                 clock: Callable[[], float] = time.monotonic, ttl: float = TTL_SECONDS) -> None:
        self.allowed = frozenset(allowed)
        self.any_price = "*" in self.allowed
        self.gateway = gateway
        self.clock = clock
        self.ttl = ttl
        self._cache: dict[str, tuple[float, Price | None]] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def resolve(self, ref: str) -> Price:
        """The active, allowed price `ref` names, or a 400 that says why not."""
        listed = self.any_price or ref in self.allowed
        # A price ID not listed may still be allowed through its lookup key; anything else is not.
        if not listed and not (ref.startswith("price_") and self._has_lookup_keys()):
            raise InvalidRequest(f"Price {ref!r} is not for sale here.", code=Code.UNKNOWN_PRICE)
        price = self._lookup(ref)
        if price is None:
            raise InvalidRequest(f"Price {ref!r} does not exist.", code=Code.UNKNOWN_PRICE)
        if not self.any_price and not ({price.id, price.lookup_key} & self.allowed):
            raise InvalidRequest(f"Price {ref!r} is not for sale here.", code=Code.UNKNOWN_PRICE)
        if not price.active:
            raise InvalidRequest(f"Price {ref!r} is no longer on sale.", code=Code.INACTIVE_PRICE)
        return price

    def _lookup(self, ref: str) -> Price | None:
        cached = self._fresh(ref)
        if cached is not None:
            return cached[1]
        # One look-up per price at a time: a burst of clicks waits for the first answer.
        with self._guard:
            lock = self._locks.setdefault(ref, threading.Lock())
        with lock:
            cached = self._fresh(ref)
            if cached is not None:
                return cached[1]
            price = self._fetch(ref)
            ttl = self.ttl if price is not None else NEGATIVE_TTL_SECONDS
            self._cache[ref] = (self.clock() + ttl, price)
            return price

    def _fetch(self, ref: str) -> Price | None:
        if ref.startswith("price_"):
            try:
                return Price.from_stripe(self.gateway.retrieve_price(ref))
            except NotFound:
                return None
        found = self.gateway.find_price(ref)
        return Price.from_stripe(found) if found else None

    def _fresh(self, ref: str) -> tuple[float, Price | None] | None:
        entry = self._cache.get(ref)
        return entry if entry is not None and entry[0] > self.clock() else None

    def _has_lookup_keys(self) -> bool:
        return any(not entry.startswith("price_") for entry in self.allowed)
