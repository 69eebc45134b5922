"""Applying changes to stored orders and subscriptions: read, decide (pure), versioned write, retry.

Refunds and disputes name a payment intent, not a session. Each payment intent has a `PAYMENT#`
item that links it to its session once the session is known, and parks the changes that arrive
before that. Both sides meet on that one item with versioned writes, so whichever lands second
sees the other: no change is lost to the race between `completed` and an early `charge.refunded`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import StoreUnavailable
from ..store.base import Item, Store, VersionConflict
from ..store.keys import order_key, payment_key, subscription_key
from .changes import OrderChange, PaymentChange, SubscriptionChange
from .model import Change, Order, apply
from .subscriptions import apply_subscription

MAX_ATTEMPTS = 20


def update(store: Store, key: str, decide: Callable[[Item | None], Item | None]) -> Item | None:
    """Apply `decide` to the item under optimistic concurrency. Returns the item as stored."""
    for _ in range(MAX_ATTEMPTS):
        current = store.get(key)
        proposed = decide(current)
        if proposed is None:
            return current
        version = (current or {}).get("version", 0)
        try:
            store.put(key, proposed, expected_version=version)
        except VersionConflict:
            continue
        return {**proposed, "version": version + 1}
    raise StoreUnavailable(f"Too much contention on {key.split('#')[0]}; retry.")


def apply_order_change(store: Store, oc: OrderChange) -> Order:
    payment_intent = oc.change.session.get("payment_intent")
    parked: list[Change] = link_payment(store, payment_intent, oc.session_id) if payment_intent else []

    def decide(current: Item | None) -> Item | None:
        order, changed = current, False
        for change in [oc.change, *parked]:
            after = apply(order, oc.session_id, change)
            if after is not None:
                order, changed = after, True
        return order if changed else None

    result = update(store, order_key(oc.session_id), decide)
    assert result is not None
    return result


def apply_payment_change(store: Store, pc: PaymentChange) -> Order | None:
    """Apply to the linked order, or park the change until its session arrives. None when parked."""
    key = payment_key(pc.payment_intent)
    linked: dict[str, Any] = {}

    def park(current: Item | None) -> Item | None:
        linked.clear()
        if current and current.get("session_id"):
            linked["session_id"] = current["session_id"]
            return None
        parked = list((current or {}).get("parked", []))
        if any(p["event_id"] == pc.change.event_id for p in parked):
            return None
        return {**(current or {}), "payment_intent": pc.payment_intent, "parked": parked + [pc.change.to_dict()]}

    update(store, key, park)
    if not linked:
        return None
    return apply_order_change(store, OrderChange(linked["session_id"], pc.change))


def link_payment(store: Store, payment_intent: str, session_id: str) -> list[Change]:
    """Link the payment intent to its session; returns the changes parked there so far.

    One unconditional write that bumps the version: a refund parking itself at the same moment
    holds the old version, so its write fails and, reading again, it finds the link.
    """
    linked = store.set_fields(payment_key(payment_intent), {"payment_intent": payment_intent,
                                                             "session_id": session_id})
    return [Change.from_dict(p) for p in linked.get("parked", [])]


def apply_subscription_change(store: Store, sc: SubscriptionChange) -> Item:
    result = update(store, subscription_key(sc.subscription_id),
                    lambda current: apply_subscription(current, sc.subscription_id, sc))
    assert result is not None
    return result
