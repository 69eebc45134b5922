"""Reservations: the units one checkout holds, from create-session until they are sold or released.

A reservation is made in one transaction with the stock it takes: the record (which must not exist
yet) and, for each limited line, `available -= quantity` on the condition `available >= quantity`.
Either every line gets its units or none does. From then on the record's `state` is the lock that
makes each later step happen once, whoever triggers it and however often:

    held ──payment──────────────▶ sold ──refund (restock_on_refund)──▶ restocked
      └──expiry, failed payment,
         Stripe's create failing,
         release-stale───────────▶ released ──a payment after all──▶ sold (late)

Each step is one transaction conditional on the state it leaves, with the stock counts it moves, so
two deliveries of an event, `reconcile` and `release-stale` racing each other all find the step done
but one. A payment for a released checkout (it can only happen when a session outlived what we
knew of it) takes its units back if they are still on sale, or is recorded as oversold: a unit is
never lost from the counts, and `available` never goes below zero.
"""

from __future__ import annotations

import time
from collections.abc import Container, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from .. import telemetry
from ..errors import Code, Conflict, StoreUnavailable
from ..store.base import Item, Store, TransactionFailed, Write
from ..store.keys import HELD, reservation_key, stock_key
from .stock import available_of

# The session's metadata names its reservation: events about other sessions cost no read at all.
RESERVATION_METADATA_KEY = "static_checkout_reservation"

SOLD, RELEASED, RESTOCKED = "sold", "released", "restocked"
# Finished records are kept for late and duplicate news, then expire (DynamoDB TTL): a released one
# for longer than Stripe retries an event, a sold one for longer than a refund can come.
RELEASED_KEPT_SECONDS = 30 * 86400
SOLD_KEPT_SECONDS = 400 * 86400
MAX_ATTEMPTS = 5
LIMITED = {"limited": True}  # a stock item's mark: its counts are the price's (`orders/stock.py`)

Line = tuple[str, int]  # a stock reference and a quantity
Step = Literal["sell", "release", "restock"]


class OutOfStock(Conflict):
    """A line asks for more than is on sale; nothing was reserved. `line` counts from 1."""

    code = Code.OUT_OF_STOCK

    def __init__(self, *, line: int, available: int, lines: int = 1) -> None:
        which = f" for line {line}" if lines > 1 else ""
        message = (f"Line {line} is sold out." if lines > 1 else "Sold out.") if available <= 0 \
            else f"Only {available} left{which}; lower the quantity to buy."
        super().__init__(message)
        self.line = line
        self.available = max(available, 0)

    @property
    def details(self) -> dict[str, int | str]:
        return {"line": self.line, "available": self.available}


@dataclass(frozen=True)
class Reservation:
    id: str
    lines: tuple[Line, ...]
    state: str
    hold_until: int
    session_id: str | None = None
    made_now: bool = False  # this call made it (rather than finding a retried click's)

    @classmethod
    def of(cls, item: Item, *, made_now: bool = False) -> Reservation:
        lines = tuple((str(line["stock"]), int(line["quantity"])) for line in item.get("lines", []))
        return cls(str(item["reservation_id"]), lines, str(item["state"]), int(item.get("hold_until") or 0),
                   item.get("session_id"), made_now)


def merge(lines: Sequence[Line]) -> list[tuple[int, str, int]]:
    """(line number, reference, quantity) with a reference's quantities added up on its first line."""
    merged: dict[str, tuple[int, int]] = {}
    for number, (ref, quantity) in enumerate(lines, start=1):
        first, had = merged.get(ref, (number, 0))
        merged[ref] = (first, had + quantity)
    return [(number, ref, quantity) for ref, (number, quantity) in merged.items()]


def reserve(store: Store, reservation_id: str, lines: Sequence[Line], *, hold_until: int,
            now: int | None = None, limited: Container[str] | None = None) -> Reservation | None:
    """Take every limited line's units for this checkout, or none: `OutOfStock` names the first line
    short. None when no line is limited (nothing to hold). A reservation already made under this id
    (a retried click) is returned as it is, and nothing more is taken.

    One transaction, and no read before it: the record (which must not exist yet) and, for each line
    `limited` names (every line when None: what the caller believes, e.g. a warm instance's cache), the
    units on the conditions that the price is limited and has them. What fails says why, from the item
    as it was: the record exists (a retried click: that is its reservation), a line is short (how many are
    left), or a line's price is not limited after all (its stock item gone or set unlimited: tried again
    without it, so such a line is never refused, and a limited one never sold without its units)."""
    now = int(time.time()) if now is None else now
    merged = merge(lines)
    wanted = [line for line in merged if limited is None or line[1] in limited]
    for _ in range(len(wanted) + MAX_ATTEMPTS):
        if not wanted:
            return None
        record = {"reservation_id": reservation_id, "state": HELD, "reserved_at": now, "hold_until": hold_until,
                  "lines": [{"stock": ref, "quantity": quantity} for _, ref, quantity in wanted]}
        writes = [Write(reservation_key(reservation_id), new=True, set=record)]
        writes += [Write(stock_key(ref), equals=LIMITED, at_least={"available": quantity},
                         add={"available": -quantity, "held": quantity}) for _, ref, quantity in wanted]
        try:
            store.transact(writes)
        except TransactionFailed as failed:
            if 0 in failed.failed:  # made before by the same click, retried
                existing = failed.failed[0]
                if existing is None:
                    raise StoreUnavailable("The reservation could not be read back; retry.") from None
                return Reservation.of(existing)
            left = {position - 1: available_of(item) for position, item in failed.failed.items()}
            for position, available in sorted(left.items()):
                if available is not None and available < wanted[position][2]:
                    raise OutOfStock(line=wanted[position][0], available=available, lines=len(merged)) from None
            # The rest are not limited after all (or, an item that looks able, moved meanwhile): again without them.
            unlimited = {position for position, available in left.items() if available is None}
            wanted = [line for position, line in enumerate(wanted) if position not in unlimited]
            continue
        return Reservation.of(record, made_now=True)
    raise StoreUnavailable("The stock kept changing while it was reserved; retry.")


def attach(store: Store, reservation_id: str, session_id: str) -> bool:
    """Record the session Stripe made for a held reservation. False when the reservation is no longer
    held by this session (released meanwhile): that session must not be paid for."""
    try:
        store.transact([Write(reservation_key(reservation_id), equals={"state": HELD},
                              set={"session_id": session_id})])
    except TransactionFailed as failed:
        current = failed.failed.get(0) or {}
        return current.get("session_id") == session_id and current.get("state") in (SOLD, RESTOCKED)
    return True


def release(store: Store, reservation_id: str, *, reason: str, now: int | None = None) -> bool:
    """Put a held reservation's units back on sale. True when this call did it."""
    return _advance(store, reservation_id, "release", reason=reason, now=now)


def sell(store: Store, reservation_id: str, *, session_id: str | None = None, now: int | None = None) -> bool:
    """The checkout was paid: its units are sold. True when this call did it."""
    return _advance(store, reservation_id, "sell", session_id=session_id, now=now)


def restock(store: Store, reservation_id: str, *, now: int | None = None) -> bool:
    """The sale was refunded and the seller restocks on refunds: its units go back on sale."""
    return _advance(store, reservation_id, "restock", now=now)


def next_step(order: Item, *, restock_on_refund: bool) -> Step | None:
    """What an order's facts ask of its reservation. Pure: facts accumulate whatever the order of events,
    so a payment wins over an expiry that was told first, and a refund restocks only after the sale."""
    facts = order.get("facts") or {}
    if restock_on_refund and order.get("status") == "refunded":
        return "restock"
    if "paid" in facts:
        return "sell"
    if "expired" in facts or "payment_failed" in facts:
        return "release"
    return None


def settle(store: Store, order: Item, *, restock_on_refund: bool, now: int | None = None) -> bool:
    """Bring an order's reservation (if it has one) up to what its facts say; True when that changed it."""
    reservation_id = order.get("reservation")
    step = next_step(order, restock_on_refund=restock_on_refund) if reservation_id else None
    if step is None:
        return False
    if step == "restock":
        sold = _advance(store, str(reservation_id), "sell", session_id=order.get("session_id"), now=now)
        return _advance(store, str(reservation_id), "restock", now=now) or sold
    reason = "expired" if "expired" in (order.get("facts") or {}) else "payment_failed"
    return _advance(store, str(reservation_id), step, reason=reason, session_id=order.get("session_id"), now=now)


def _advance(store: Store, reservation_id: str, step: Step, *, reason: str | None = None,
             session_id: str | None = None, now: int | None = None) -> bool:
    """One step of the state machine, as one transaction conditional on the state it leaves; read
    again and retried when another writer moved the record (or the stock) in between."""
    now = int(time.time()) if now is None else now
    key = reservation_key(reservation_id)
    for _ in range(MAX_ATTEMPTS):
        item = store.get(key)
        if item is None:
            return False  # never made (Stripe's session outlived our record's TTL), or not ours
        writes = _writes(item, step, reason=reason, session_id=session_id, now=now)
        if not writes:
            return False  # done before, or not a step from this state
        try:
            store.transact(writes)
        except TransactionFailed as failed:
            if 0 in failed.failed:
                continue  # the record moved: what is it now?
            # Only a late sale has conditions on stock: its units went meanwhile. Sold without stock,
            # and recorded as such for the seller to look into.
            try:
                store.transact(_oversold(item, now=now))
            except TransactionFailed:
                continue
            telemetry.count("StockOversold")
            telemetry.logger().warning("paid checkout had no stock left", extra={"reservation": reservation_id})
            return True
        return True
    raise StoreUnavailable("The reservation kept changing; retry.")


def _writes(item: Item, step: Step, *, reason: str | None, session_id: str | None, now: int) -> list[Write]:
    """The transaction for `step` from the record's state, or [] when there is none to make."""
    state, lines = item.get("state"), Reservation.of(item).lines
    session: dict[str, Any] = {"session_id": session_id} if session_id and not item.get("session_id") else {}
    if step == "release" and state == HELD:
        return [Write(item["pk"], equals={"state": HELD}, set={
            "state": RELEASED, "released_at": now, "release_reason": reason or "released",
            "expires_at": now + RELEASED_KEPT_SECONDS, **session})] + [
            Write(stock_key(ref), add={"available": quantity, "held": -quantity}) for ref, quantity in lines]
    if step == "sell" and state == HELD:
        return [Write(item["pk"], equals={"state": HELD}, set={
            "state": SOLD, "sold_at": now, "expires_at": now + SOLD_KEPT_SECONDS, **session})] + [
            Write(stock_key(ref), add={"held": -quantity, "sold": quantity}) for ref, quantity in lines]
    if step == "sell" and state == RELEASED:
        return [Write(item["pk"], equals={"state": RELEASED}, set={
            "state": SOLD, "sold_at": now, "late": True, "expires_at": now + SOLD_KEPT_SECONDS, **session})] + [
            Write(stock_key(ref), at_least={"available": quantity}, add={"available": -quantity, "sold": quantity})
            for ref, quantity in lines]
    if step == "restock" and state == SOLD:
        # Units sold without stock (oversold) were never there to put back on sale.
        back, sign = ("oversold", -1) if item.get("oversold") else ("available", 1)
        return [Write(item["pk"], equals={"state": SOLD}, set={"state": RESTOCKED, "restocked_at": now})] + [
            Write(stock_key(ref), add={back: sign * quantity, "sold": -quantity}) for ref, quantity in lines]
    return []


def _oversold(item: Item, *, now: int) -> list[Write]:
    lines = Reservation.of(item).lines
    return [Write(item["pk"], equals={"state": RELEASED}, set={
        "state": SOLD, "sold_at": now, "late": True, "oversold": True, "expires_at": now + SOLD_KEPT_SECONDS})] + [
        Write(stock_key(ref), add={"oversold": quantity, "sold": quantity}) for ref, quantity in lines]
