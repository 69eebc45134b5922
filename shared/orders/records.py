"""Applying changes to stored records: read, decide (pure), versioned write, retry; and routing the
changes that do not name their record to the one they belong to.

Refunds, disputes and fraud warnings name a payment intent, not a session. Each payment intent has a
`PAYMENT#` item linking it to what it paid for: the Checkout order (`session_id`: a one-time payment,
or a subscription's first invoice once that is known) or an invoice (`invoice_id`). An `INVOICE#` item
links the first invoice of a subscription Checkout to its order (the session names its invoice, never
its payment), and a renewal's refunds and disputes are applied to the invoice record itself.

    charge.refunded(pi) → PAYMENT#pi ─session_id→ ORDER#cs
                                     └invoice_id→ INVOICE#in ─session_id→ ORDER#cs
                                                             └(renewal)  → the invoice record itself

Links arrive in any order, so each hop parks what comes before its link: a payment intent keeps
changes under `parked` until it knows its invoice or session, and an unlinked invoice keeps the
changes it applied to itself under `held`, handing them on if a session later claims it. A link is
one unconditional write that bumps the item's version and returns it, so a change parking itself at
the same moment (holding the old version) fails its write and, reading again, finds the link: no
change is lost to a race. Parked and held changes are kept, and handed on again by every later
linking write: a crash between the link and the hand-on is repaired by the retry, and the target
applies each change once (by event id, and money facts by their Stripe ids).

The webhook hands these functions a unit of work (`store/unit.py`) rather than the store: the records
`records_of` names are read in one request, and every write — the links too, then conditional on the
version read — is made in one transaction with the event's ledger entry. A concurrent change to any of
them cancels the whole and the event is applied again from a fresh read, so the reasoning above holds
with the links' writes conditional as well.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from .. import telemetry
from ..errors import StoreUnavailable
from ..store.base import Item, Records, VersionConflict
from ..store.keys import invoice_key, order_key, payment_key, subscription_key
from . import sale
from .changes import AnyChange, InvoiceLink, OrderChange, PaymentChange, SubscriptionChange
from .model import Change, Order, apply, apply_to_invoice, refresh
from .subscriptions import apply_subscription

MAX_ATTEMPTS = 20
ON_ORDER = "on_order"  # an invoice record's status once its money is on its Checkout order

Reached = tuple[Literal["order", "invoice"], Item]  # a record a change was applied to, as stored


def records_of(change: AnyChange) -> list[str]:
    """The records a change reads first, to ask for in one request; others it reaches (the order behind a
    payment, say) are read when found."""
    if isinstance(change, OrderChange):
        snapshot = change.change.session
        return [order_key(change.session_id),
                *([payment_key(snapshot["payment_intent"])] if snapshot.get("payment_intent") else []),
                *([invoice_key(snapshot["invoice"])] if snapshot.get("invoice") else [])]
    if isinstance(change, PaymentChange):
        return [payment_key(change.payment_intent), *([invoice_key(change.invoice_id)] if change.invoice_id else [])]
    if isinstance(change, InvoiceLink):
        intent = change.payment_intent
        return [invoice_key(change.invoice_id), *([payment_key(intent)] if intent else [])]
    return [subscription_key(change.subscription_id), *(records_of(change.link) if change.link is not None else [])]


def update(store: Records, key: str, decide: Callable[[Item | None], Item | None]) -> Item | None:
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


def apply_order_change(store: Records, oc: OrderChange) -> Order:
    """A session's change, with whatever waited for the session: changes parked under its payment
    intent, and those its first invoice held."""
    snapshot = oc.change.session
    missed = sale.imbalance(snapshot["sale"]) if snapshot.get("sale") else None
    if missed:
        # Stripe's figures are the record, as they are; this says our reading of them needs a look.
        telemetry.logger().warning("sale figures do not add up", extra={
            "correlation_id": oc.session_id, "imbalance": missed})
    waiting: list[Change] = []
    if snapshot.get("payment_intent"):
        waiting += link_payment(store, snapshot["payment_intent"], oc.session_id)
    if snapshot.get("invoice"):
        invoice = link_invoice(store, snapshot["invoice"], oc.session_id)
        waiting += [Change.from_dict(h) for h in invoice.get("held", [])]
        paid_by = invoice.get("payment_intent")
        if paid_by and paid_by != snapshot.get("payment_intent"):
            # Its payment was linked to the invoice first: link it to the order too, so its refunds
            # and disputes reach the order in one hop, not two.
            waiting += link_payment(store, paid_by, oc.session_id)
    return apply_to_order(store, oc.session_id, [oc.change, *waiting])


def apply_to_order(store: Records, session_id: str, changes: list[Change]) -> Order:
    def decide(current: Item | None) -> Item | None:
        order, changed = current, False
        for change in changes:
            after = apply(order, session_id, change)
            if after is not None:
                order, changed = after, True
        return order if changed else None

    result = update(store, order_key(session_id), decide)
    assert result is not None  # `changes` is never empty, so the order exists after it
    return result


def apply_payment_change(store: Records, pc: PaymentChange) -> list[Reached]:
    """Apply to what the payment paid for, or park the change until that is known ([] when parked)."""
    key = payment_key(pc.payment_intent)
    route: dict[str, Any] = {}

    def park(current: Item | None) -> Item | None:
        route.clear()
        current = current or {}
        parked = list(current.get("parked", []))
        route["parked"] = parked
        for target in ("session_id", "invoice_id"):
            if current.get(target):
                route[target] = current[target]
                return None
        if pc.invoice_id:
            # The change names its invoice itself: that is the link.
            route["invoice_id"] = pc.invoice_id
            return {**current, "payment_intent": pc.payment_intent, "invoice_id": pc.invoice_id, "parked": parked}
        if any(p["event_id"] == pc.change.event_id for p in parked):
            return None
        return {**current, "payment_intent": pc.payment_intent, "parked": parked + [pc.change.to_dict()]}

    update(store, key, park)
    changes = [*(Change.from_dict(p) for p in route["parked"]), pc.change]
    if "session_id" in route:
        return [("order", apply_to_order(store, route["session_id"], changes))]
    if "invoice_id" in route:
        return apply_invoice_changes(store, route["invoice_id"], changes)
    return []


def apply_invoice_changes(store: Records, invoice_id: str, changes: list[Change]) -> list[Reached]:
    """Money changes for an invoice: onto its Checkout order when it has one, else onto its own record."""
    linked: dict[str, Any] = {}

    def decide(current: Item | None) -> Item | None:
        linked.clear()
        if current and current.get("session_id"):
            linked.update(session_id=current["session_id"], held=current.get("held", []))
            return None
        record, changed = current, False
        held = list((current or {}).get("held", []))
        for change in changes:
            after = apply_to_invoice(record, invoice_id, change)
            if after is not None:
                record, changed = after, True
            if not any(h["event_id"] == change.event_id for h in held):
                held.append(change.to_dict())
        return {**record, "held": held} if changed and record is not None else None

    result = update(store, invoice_key(invoice_id), decide)
    if linked:
        held = [Change.from_dict(h) for h in linked["held"]]
        return [("order", apply_to_order(store, linked["session_id"], [*held, *changes]))]
    return [("invoice", result)] if result is not None else []


def link_payment(store: Records, payment_intent: str, session_id: str) -> list[Change]:
    """Link the payment intent to its session; returns the changes parked there so far."""
    linked = store.set_fields(payment_key(payment_intent), {"payment_intent": payment_intent,
                                                             "session_id": session_id})
    return [Change.from_dict(p) for p in linked.get("parked", [])]


def link_invoice(store: Records, invoice_id: str, session_id: str) -> Item:
    """Make the invoice the session's first invoice; returns it, with the changes it held so far. Its own
    status and figures are cleared in the same write: from now on its money is on the order."""
    return store.set_fields(invoice_key(invoice_id), {
        "invoice_id": invoice_id, "session_id": session_id, "status": ON_ORDER, "refund": None, "dispute": None})


def apply_invoice_link(store: Records, link: InvoiceLink) -> list[Reached]:
    """Record what an invoice event tells about the invoice and, when it names the payment, link the
    payment intent to the invoice (and straight to its order when the invoice already has one), handing
    on whatever was parked under the payment intent. Two writes, no reads."""
    key = invoice_key(link.invoice_id)
    invoice = store.set_fields(key, {"invoice_id": link.invoice_id, **link.details,
                                     **({"payment_intent": link.payment_intent} if link.payment_intent else {})})
    reached: list[Reached] = []
    if invoice.get("held") and not invoice.get("session_id"):
        # Money reached this invoice before its total was known: derive its status again (rare: a read
        # and a write more).
        refreshed = update(store, key, lambda current: None if current is None or current.get("session_id")
                           else refresh(current))
        if refreshed is not None and not refreshed.get("session_id"):
            reached.append(("invoice", refreshed))
    if not link.payment_intent:
        return reached
    target = {"invoice_id": link.invoice_id}
    if invoice.get("session_id"):
        target["session_id"] = invoice["session_id"]
    payment = store.set_fields(payment_key(link.payment_intent), {"payment_intent": link.payment_intent, **target})
    parked = [Change.from_dict(p) for p in payment.get("parked", [])]
    if not parked:
        return reached
    if "session_id" in target:
        return [*reached, ("order", apply_to_order(store, target["session_id"], parked))]
    return [*reached, *apply_invoice_changes(store, link.invoice_id, parked)]


def apply_subscription_change(store: Records, sc: SubscriptionChange) -> tuple[Item, list[Reached]]:
    result = update(store, subscription_key(sc.subscription_id),
                    lambda current: apply_subscription(current, sc.subscription_id, sc))
    assert result is not None
    reached = apply_invoice_link(store, sc.link) if sc.link is not None else []
    return result, reached
