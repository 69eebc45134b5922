"""The price allow-list, and price look-ups cached in the warm process.

A button names a price by ID or lookup key. Only what `ALLOWED_PRICES` lists may be bought (or any
active price when it says `*`). A request for anything else is refused before Stripe is asked about
it, with the same answer whether or not such a price exists, so nobody can probe the account's
catalogue through us or buy a price the seller did not put on the site. A price ID not listed is
for sale only when it is the price a listed lookup key names: the listed keys are resolved to their
prices (cached like every look-up), and an unlisted ID is compared with those.

The cache is bounded (`MAX_CACHED` entries, the least recently used dropped first), and so are the
locks that make a burst of clicks wait for one look-up (a fixed set, shared by hash). Beside it, with the
same lifetime and bound, the catalog keeps which prices have limited stock (`limited.py`).
"""

from __future__ import annotations

import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import Code, InvalidRequest, NotFound
from ._expiring import Expiring
from .limited import LimitedPrices
from .stripe_api import StripeGateway

TTL_SECONDS = 60.0
NEGATIVE_TTL_SECONDS = 10.0
# Under `*` any price ID may be asked about; an allow-list holds a handful. Either way the warm process
# keeps at most this many (about 0.5 KB each).
MAX_CACHED = 512
LOCKS = 16


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
    interval: str | None = None  # recurring prices: day, week, month or year, every interval_count
    interval_count: int = 1

    @property
    def billing(self) -> tuple[str, int] | None:
        """A recurring price's interval and count (("month", 1)); a cart's must all be the same."""
        return None if self.interval is None else (self.interval, self.interval_count)

    @classmethod
    def from_stripe(cls, obj: dict[str, Any]) -> Price:
        product = obj.get("product")
        name = product.get("name") if isinstance(product, dict) else None
        recurring = obj.get("recurring") or {}
        return cls(
            id=obj["id"], lookup_key=obj.get("lookup_key"), active=bool(obj.get("active")),
            recurring=obj.get("type") == "recurring" or bool(obj.get("recurring")),
            currency=obj.get("currency") or "", unit_amount=obj.get("unit_amount"),
            product_name=name or obj.get("nickname") or obj["id"],
            trial_days=_trial_days(obj), interval=recurring.get("interval"),
            interval_count=int(recurring.get("interval_count") or 1),
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
        self.lookup_keys = sorted(ref for ref in self.allowed if ref != "*" and not ref.startswith("price_"))
        self.gateway = gateway
        self.ttl = ttl
        self._cache: Expiring[str, Price | None] = Expiring(MAX_CACHED, clock)
        self._locks = [threading.Lock() for _ in range(LOCKS)]
        # Which prices have limited stock, as long as a price is kept: an unlimited cart then reads nothing.
        self.limited = LimitedPrices(clock=clock, ttl=ttl, size=MAX_CACHED)

    def resolve(self, ref: str) -> Price:
        """The active, allowed price `ref` names, or a 400 that says why not."""
        if self.any_price or ref in self.allowed:
            price = self._lookup(ref)
        elif ref.startswith("price_"):
            price = self._behind_a_listed_lookup_key(ref)
        else:
            price = None
        if price is None or not (self.any_price or {price.id, price.lookup_key} & self.allowed):
            # One answer for "no such price" and "not this site's": the difference is not the buyer's business.
            raise InvalidRequest(f"Price {ref!r} is not for sale here.", code=Code.UNKNOWN_PRICE)
        if not price.active:
            raise InvalidRequest(f"Price {ref!r} is no longer on sale.", code=Code.INACTIVE_PRICE)
        return price

    def cached(self, ref: str) -> bool:
        """Whether `resolve(ref)` would be answered without asking Stripe."""
        if self.any_price or ref in self.allowed:
            return ref in self._cache.fresh([ref])
        if ref.startswith("price_"):
            return len(self._cache.fresh(self.lookup_keys)) == len(self.lookup_keys)
        return True  # refused without a look-up

    def _behind_a_listed_lookup_key(self, price_id: str) -> Price | None:
        """An unlisted ID is for sale only as the price a listed lookup key names. The look-ups are of the
        seller's own keys, cached; the unlisted ID itself never reaches Stripe."""
        for key in self.lookup_keys:
            price = self._lookup(key)
            if price is not None and price.id == price_id:
                return price
        return None

    def _lookup(self, ref: str) -> Price | None:
        cached = self._cache.fresh([ref])
        if ref in cached:
            return cached[ref]
        # One look-up per price at a time: a burst of clicks waits for the first answer.
        with self._locks[zlib.crc32(ref.encode()) % LOCKS]:
            cached = self._cache.fresh([ref])
            if ref in cached:
                return cached[ref]
            price = self._fetch(ref)
            self._cache.put(ref, price, ttl=self.ttl if price is not None else NEGATIVE_TTL_SECONDS)
            return price

    def _fetch(self, ref: str) -> Price | None:
        if ref.startswith("price_"):
            try:
                return Price.from_stripe(self.gateway.retrieve_price(ref))
            except NotFound:
                return None
        found = self.gateway.find_price(ref)
        return Price.from_stripe(found) if found else None
