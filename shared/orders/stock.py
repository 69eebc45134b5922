"""A price's stock: how many units are on sale (`available`), in open checkouts (`held`), and sold.

One item per limited price, keyed by its stock reference (its lookup key, else its ID: see
`store.keys.stock_key`). Only an item marked `limited: true` limits its price: a price without one is
unlimited, as is one set `unlimited` (`limited: false`, its counts kept). The counts only move together
in transactions (`reservations.py`), so `available + held + sold` — the total — changes only when the
seller changes it:

- `set_available` (`stock set`): this many on sale now, whatever was there; units in open checkouts
  stay held and come back if those checkouts end unpaid;
- `add_available` (`stock add`): more (or, negative, fewer) on sale, atomically, never below zero;
- `sync_total` (`catalog sync`, `stock: 12` in catalog.yml): the total the file states, by moving the
  difference into or out of `available`, so running it again changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import Code, InvalidRequest
from ..store.base import Item, Store, TransactionFailed, Write
from ..store.keys import all_stock, stock_key

MAX_ATTEMPTS = 10


@dataclass(frozen=True)
class Stock:
    ref: str
    available: int | None  # None: unlimited
    held: int = 0
    sold: int = 0
    oversold: int = 0  # sold without a unit to sell (a payment for a checkout released too early): to look into

    @property
    def total(self) -> int:
        return (self.available or 0) + self.held + self.sold

    @classmethod
    def of(cls, ref: str, item: Item | None) -> Stock:
        if item is None:
            return cls(ref, None)
        counts = {name: int(item.get(name) or 0) for name in ("held", "sold", "oversold")}
        return cls(ref, available_of(item), **counts)


def available_of(item: Item | None) -> int | None:
    """The units on sale, as an item says; None when the price is unlimited: no item, or one not marked
    `limited` — set unlimited, or made by a release after its item was deleted by hand (counts of nothing).
    The mark is what a reservation's condition checks (`reservations.LIMITED`), so both agree."""
    if item is None or item.get("limited") is not True:
        return None
    return int(item.get("available") or 0)


def read(store: Store, refs: Sequence[str]) -> dict[str, int | None]:
    """What is on sale for each reference (None: unlimited), in one read."""
    items = store.get_many([stock_key(ref) for ref in refs])
    return {ref: available_of(items.get(stock_key(ref))) for ref in refs}


def current(store: Store, ref: str) -> Stock:
    return Stock.of(ref, store.get(stock_key(ref)))


def listing(store: Store) -> Iterator[Stock]:
    """Every price with stock, by reference."""
    for item in store.query_range(*all_stock()):
        yield Stock.of(str(item["ref"]), item)


def set_available(store: Store, ref: str, available: int | None) -> Stock:
    """`available` on sale now (None: unlimited from now on)."""
    if available is not None and available < 0:
        raise InvalidRequest("Stock cannot be negative.", code=Code.INVALID_QUANTITY)
    fields = {"ref": ref, "limited": False} if available is None else {"ref": ref, "limited": True,
                                                                     "available": available}
    return Stock.of(ref, store.set_fields(stock_key(ref), fields))


def add_available(store: Store, ref: str, amount: int) -> Stock:
    """`amount` more on sale (fewer when negative, but never below zero), in one conditional write."""
    for _ in range(MAX_ATTEMPTS):
        current = store.get(stock_key(ref))
        if current is not None and current.get("limited") is False:
            raise InvalidRequest(f"{ref} is unlimited; `stock set {ref} N` limits it.", code=Code.INVALID_QUANTITY)
        have = available_of(current) or 0
        if have + amount < 0:
            raise InvalidRequest(f"{ref} has {have} on sale: it cannot lose {-amount}.", code=Code.INVALID_QUANTITY)
        write = Write(stock_key(ref), new=current is None, at_least={"available": -amount} if amount < 0 else {},
                      equals={"limited": True} if current is not None else {},
                      set={"ref": ref, "limited": True}, add={"available": amount})
        try:
            store.transact([write])
        except TransactionFailed:
            continue  # created, unlimited or sold down meanwhile: look again
        return Stock.of(ref, store.get(stock_key(ref)))
    raise InvalidRequest(f"{ref} keeps changing; try again.", code=Code.INVALID_QUANTITY)


def sync_total(store: Store, ref: str, total: int) -> tuple[Stock, int]:
    """Make the total (available + held + sold) `total` by changing what is on sale; returns the stock
    and the change made to `available`. When more are held or sold than `total`, nothing stays on sale."""
    for _ in range(MAX_ATTEMPTS):
        item = store.get(stock_key(ref))
        before = Stock.of(ref, item)
        on_sale = before.available or 0
        change = max(total - before.held - before.sold, 0) - on_sale
        if item is not None and item.get("limited") is not False and change == 0:
            return before, 0
        # Conditional on the counts read: a sale or release in between means reading again.
        seen: dict[str, Any] = {name: item[name] for name in ("available", "held", "sold")
                                if item is not None and name in item}
        write = Write(stock_key(ref), new=item is None, equals=seen, set={"ref": ref, "limited": True},
                      add={"available": change})
        try:
            store.transact([write])
        except TransactionFailed:
            continue
        return Stock.of(ref, store.get(stock_key(ref))), change
    raise InvalidRequest(f"{ref} keeps changing; sync again.", code=Code.INVALID_QUANTITY)
