"""Which Stripe events we handle, and what each one means. Pure: event dict in, decision out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..orders.changes import OrderChange, PaymentChange, SubscriptionChange
from ..orders.lines import line_items_of
from ..orders.model import Change, Fact

HANDLED_TYPES = (
    "checkout.session.completed",
    "checkout.session.async_payment_succeeded",
    "checkout.session.async_payment_failed",
    "checkout.session.expired",
    "charge.refunded",
    "charge.dispute.created",
    "charge.dispute.closed",
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "invoice.paid",
    "invoice.payment_failed",
)

@dataclass(frozen=True)
class Ignored:
    reason: str


Decision = OrderChange | PaymentChange | SubscriptionChange | Ignored

_SESSION_FACTS: dict[str, Fact] = {
    "checkout.session.async_payment_succeeded": "paid",
    "checkout.session.async_payment_failed": "payment_failed",
    "checkout.session.expired": "expired",
}


def decide(event: dict[str, Any]) -> Decision:
    kind = event.get("type")
    obj = (event.get("data") or {}).get("object") or {}
    event_id, created = event["id"], int(event["created"])

    if isinstance(kind, str) and kind.startswith("checkout.session."):
        if kind not in HANDLED_TYPES:
            return Ignored(f"unhandled type {kind}")
        fact: Fact | None = _SESSION_FACTS.get(kind)
        if kind == "checkout.session.completed":
            fact = "paid" if obj.get("payment_status") in ("paid", "no_payment_required") else "awaiting_payment"
        return OrderChange(obj["id"], Change(event_id, kind, created, session=session_snapshot(obj), fact=fact))

    if kind == "charge.refunded" or kind in ("charge.dispute.created", "charge.dispute.closed"):
        intent = _id(obj.get("payment_intent"))
        if not intent:
            return Ignored("charge without a payment intent")
        if kind == "charge.refunded":
            change = Change(event_id, kind, created, refund={
                "amount_refunded": int(obj.get("amount_refunded") or 0), "amount": int(obj.get("amount") or 0)})
        else:
            is_open = kind == "charge.dispute.created"
            change = Change(event_id, kind, created, dispute={
                "id": obj.get("id"), "status": obj.get("status"), "reason": obj.get("reason"),
                "amount": obj.get("amount"), "open": is_open, **({} if is_open else {"outcome": obj.get("status")})})
        return PaymentChange(intent, change)

    if isinstance(kind, str) and kind.startswith("customer.subscription.") and kind in HANDLED_TYPES:
        return SubscriptionChange(obj["id"], event_id, kind, created, snapshot=subscription_snapshot(obj))

    if kind in ("invoice.paid", "invoice.payment_failed"):
        subscription = _invoice_subscription(obj)
        if not subscription:
            return Ignored("invoice without a subscription")
        line = ((obj.get("lines") or {}).get("data") or [{}])[0]
        period = line.get("period") or {}
        return SubscriptionChange(subscription, event_id, kind, created, invoice={
            "id": obj.get("id"), "status": "paid" if kind == "invoice.paid" else "payment_failed",
            "amount_paid": obj.get("amount_paid"), "amount_due": obj.get("amount_due"),
            "currency": obj.get("currency"),
            "period_start": period.get("start", obj.get("period_start")),
            "period_end": period.get("end", obj.get("period_end")),
        })

    return Ignored(f"unhandled type {kind}")


def session_snapshot(session: dict[str, Any]) -> dict[str, Any]:
    """The order-relevant fields of a Checkout Session object."""
    details = session.get("customer_details") or {}
    snapshot = {
        "mode": session.get("mode"),
        "amount_total": session.get("amount_total"),
        "amount_subtotal": session.get("amount_subtotal"),
        "currency": session.get("currency"),
        "customer_email": details.get("email") or session.get("customer_email"),
        "customer": _id(session.get("customer")),
        "payment_intent": _id(session.get("payment_intent")),
        "subscription": _id(session.get("subscription")),
        "created": session.get("created"),
        "livemode": session.get("livemode"),
        "line_items": line_items_of(session),
    }
    return {k: v for k, v in snapshot.items() if v is not None}


def subscription_snapshot(sub: dict[str, Any]) -> dict[str, Any]:
    items = ((sub.get("items") or {}).get("data") or [{}])
    first = items[0] if items else {}
    # Since API version 2025-03-31 the period lives on the subscription items.
    period_end = sub.get("current_period_end") or first.get("current_period_end")
    return {
        "status": sub.get("status"),
        "customer": _id(sub.get("customer")),
        "price": _id(first.get("price")),
        "current_period_end": period_end,
        "cancel_at_period_end": bool(sub.get("cancel_at_period_end")),
        "cancel_at": sub.get("cancel_at"),
        "canceled_at": sub.get("canceled_at"),
        # What the sales report needs to work out MRR, new and churned subscriptions without Stripe.
        "created": sub.get("created"),
        "start_date": sub.get("start_date"),
        "ended_at": sub.get("ended_at"),
        "trial_end": sub.get("trial_end"),
        "currency": sub.get("currency"),
        "items": [_item_snapshot(item) for item in items if item],
    }


def _item_snapshot(item: dict[str, Any]) -> dict[str, Any]:
    price = item.get("price")
    price = price if isinstance(price, dict) else {}
    recurring = price.get("recurring") or {}
    return {"price": _id(item.get("price")), "quantity": item.get("quantity", 1),
            "unit_amount": price.get("unit_amount"), "currency": price.get("currency"),
            "interval": recurring.get("interval"), "interval_count": recurring.get("interval_count") or 1}


def _invoice_subscription(invoice: dict[str, Any]) -> str | None:
    # Before 2025-03-31 invoices named their subscription directly; since, under parent.
    direct = _id(invoice.get("subscription"))
    if direct:
        return direct
    details = (invoice.get("parent") or {}).get("subscription_details") or {}
    return _id(details.get("subscription"))


def _id(value: Any) -> str | None:
    if isinstance(value, dict):
        return value.get("id")
    return value or None
