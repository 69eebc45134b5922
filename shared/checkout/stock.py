"""Stock at checkout: create-session holds the units before Stripe is asked, and pages read what is left.

`create_with_stock` is the one call create-session makes. Which of the cart's prices are limited, the
warm instance knows (`limited.py`): a cart with none goes straight to Stripe, with no DynamoDB call. A
cart with some reserves them in one transaction (all or none, `OutOfStock` naming the first short line),
creates the session with the reservation's window as its `expires_at` and the reservation's id in its
metadata, and releases at once if Stripe fails. A retried click (the same idempotency key) finds its
reservation in that same transaction and gets the same session; a click whose earlier checkout is over
(paid, expired, failed) starts a new one.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future
from typing import Any

from .. import telemetry
from ..errors import Code, DomainError, InvalidRequest, StoreUnavailable
from ..orders import stock
from ..orders.reservations import RESERVATION_METADATA_KEY, Reservation, attach, release, reserve
from ..store.base import Store
from ..store.keys import HELD
from ..stripe_ids import PRICE_REF
from .limited import LimitedPrices
from .prices import TTL_SECONDS, Price, PriceCatalog
from .stripe_api import StripeGateway

PAGE_TTL_SECONDS = 5.0  # how stale the page's view of stock may be, per warm instance (and in caches)
MAX_PRICES = 20  # prices one stock request may ask about: a cart's worth


def stock_ref(price: Price) -> str:
    """Where a price's stock is counted: under its lookup key (which follows the catalog item to a new
    price), else its ID."""
    return price.lookup_key or price.id


def newly_limited(ref: str) -> str:
    """What the seller is told on limiting a price that sold unlimited: instances already running learn it
    late (`limited.py`)."""
    return (f"{ref} was unlimited: function instances already running hold its units from at most "
            f"{TTL_SECONDS:.0f} s from now (until then they may sell it unchecked).")


def create_with_stock(store: Store, gateway: StripeGateway, lines: Sequence[tuple[Price, int]],
                      params: dict[str, Any], *, idempotency_key: str, expires_at: int,
                      limits: LimitedPrices | None = None, early: Iterable[Future[dict[str, bool]]] = (),
                      now: int | None = None) -> dict[str, Any]:
    """The Checkout Session for these lines, their limited units held for it until `expires_at`.

    `lines` are the cart's (price, quantity) in the order the buyer sent them; `OutOfStock.line`
    counts in that order from 1. `params` are the create call's; `expires_at` is the session's end.
    `limits` says which prices are limited (the catalog's, with `early` its reads under way); without
    it, the stock is read each time.
    """
    limits = limits if limits is not None else LimitedPrices(ttl=0.0, size=0)
    refs = [(stock_ref(price), quantity) for price, quantity in lines]
    believed = limits.which(store, [ref for ref, _ in refs], early=early)
    if not believed:
        return gateway.create_session(params, idempotency_key=idempotency_key)
    reservation = _reserve(store, limits, idempotency_key, refs, believed, expires_at, now)
    if reservation is not None and not reservation.made_now and reservation.state != HELD:
        # That click's checkout is over (paid, expired, or Stripe failed it): this one starts another.
        idempotency_key = f"{idempotency_key}-{uuid.uuid4().hex[:12]}"
        reservation = _reserve(store, limits, idempotency_key, refs, believed, expires_at, now)
    if reservation is None:
        return gateway.create_session(params, idempotency_key=idempotency_key)
    # A retried click sends what the first sent (its window included), so Stripe answers it the same.
    params = {**params, "expires_at": reservation.hold_until,
              "metadata": {**params.get("metadata", {}), RESERVATION_METADATA_KEY: reservation.id},
              "line_items": _fixed_quantities(params.get("line_items", []), lines, reservation.lines)}
    try:
        session = gateway.create_session(params, idempotency_key=reservation.id)
    except Exception:  # whatever stopped it (Stripe refusing, timing out, or a bug): not swallowed, re-raised
        if reservation.made_now:
            _release_quietly(store, reservation.id)
        raise
    if reservation.made_now:
        # Nothing releases a hold made by this call before it answers but this call (a retry of the click
        # finds the hold and never releases it; release-stale waits for the window's end), so the session
        # stands as held without a second write: its metadata names the reservation, which is how events
        # and release-stale find one from the other.
        return session
    try:
        held = attach(store, reservation.id, session["id"])
    except StoreUnavailable:
        # The session stands, held; `release-stale` finds it by its metadata if it is never paid.
        telemetry.logger().warning("reservation not linked to its session", extra={"session_id": session["id"]})
        return session
    if not held:
        # Released while Stripe answered (the first click's Stripe call failed meanwhile): nobody may pay this.
        _expire_quietly(gateway, session["id"])
        raise StoreUnavailable("This checkout's hold on the stock ended before Stripe answered; please try again.")
    return session


def _reserve(store: Store, limits: LimitedPrices, key: str, refs: Sequence[tuple[str, int]], believed: set[str],
             expires_at: int, now: int | None) -> Reservation | None:
    """`reserve` the lines believed limited, and tell `limits` what the transaction learnt: a line it left
    out (its stock item gone or set unlimited) is not limited. Only a reservation this call made says which
    lines are (a found one holds what its first click's did)."""
    reservation = reserve(store, key, refs, hold_until=expires_at, now=now, limited=believed)
    if reservation is None or reservation.made_now:
        held = {ref for ref, _ in reservation.lines} if reservation is not None else set()
        limits.note({ref: ref in held for ref in believed})
    return reservation


def _fixed_quantities(items: list[dict[str, Any]], lines: Sequence[tuple[Price, int]],
                      held: Sequence[tuple[str, int]]) -> list[dict[str, Any]]:
    """The line items, a limited price's without `adjustable_quantity`: the units held are the units sold,
    so the buyer cannot change them on Stripe's page (more would not be held, fewer would be sold as held)."""
    limited = {price.id for price, _ in lines if stock_ref(price) in {ref for ref, _ in held}}
    return [{k: v for k, v in item.items() if k != "adjustable_quantity"} if item.get("price") in limited else item
            for item in items]


def _release_quietly(store: Store, reservation_id: str) -> None:
    try:
        release(store, reservation_id, reason="stripe_failed")
    except DomainError as exc:  # the buyer hears Stripe's error; `release-stale` frees the units later
        telemetry.logger().warning("reservation not released", extra={"reservation": reservation_id,
                                                                       "code": exc.code})


def _expire_quietly(gateway: StripeGateway, session_id: str) -> None:
    try:
        gateway.expire_session(session_id)
    except DomainError as exc:  # `release-stale` expires it when it finds it open
        telemetry.logger().warning("session not expired", extra={"session_id": session_id, "code": exc.code})


class StockView:
    """What is left, as pages see it: each price read at most once per `ttl` seconds on a warm instance."""

    def __init__(self, *, ttl: float = PAGE_TTL_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.clock = clock
        self._cache: dict[str, tuple[float, int | None]] = {}
        self._lock = threading.Lock()

    def available(self, store: Store, refs: Sequence[str]) -> dict[str, int | None]:
        now = self.clock()
        with self._lock:
            fresh = {ref: entry[1] for ref in refs if (entry := self._cache.get(ref)) and entry[0] > now}
        missing = [ref for ref in dict.fromkeys(refs) if ref not in fresh]
        if missing:
            read = stock.read(store, missing)
            with self._lock:
                if len(self._cache) > 10_000:  # prices come from the allow-list; a bound all the same
                    self._cache.clear()
                self._cache.update({ref: (now + self.ttl, value) for ref, value in read.items()})
            fresh.update(read)
        return {ref: fresh[ref] for ref in refs}


def parse_stock_query(values: Sequence[str]) -> list[str]:
    """The price references a stock request names (`?priceId=a&priceId=b`), or a 400 saying what is wrong."""
    if not values:
        raise InvalidRequest("Name at least one price: ?priceId=…", code=Code.MISSING_PRICE)
    refs = list(dict.fromkeys(values))
    if len(refs) > MAX_PRICES:
        raise InvalidRequest(f"Ask about at most {MAX_PRICES} prices at once.", code=Code.TOO_MANY_PRICES)
    for ref in refs:
        if not PRICE_REF.fullmatch(ref):
            raise InvalidRequest("priceId must be a Stripe price ID or lookup key.", code=Code.UNKNOWN_PRICE)
    return refs


def stock_levels(catalog: PriceCatalog, view: StockView, store: Store, refs: Sequence[str]
                 ) -> dict[str, Mapping[str, int | None]]:
    """`{ref: {"available": n}}` for each price a page names (null: unlimited); only prices on sale here."""
    prices = {ref: catalog.resolve(ref) for ref in refs}
    levels = view.available(store, [stock_ref(price) for price in prices.values()])
    return {ref: {"available": levels[stock_ref(price)]} for ref, price in prices.items()}
