"""Which Stripe events we handle, and what each one means. Pure: event dict in, decision out.

Payloads follow the endpoint's API version, so both shapes are read where they differ: before
2025-03-31.basil an invoice named its `subscription`, `payment_intent` and `charge`, and a charge its
`invoice`; since, the subscription is under `parent.subscription_details`, the payment under
`payments[].payment` (and in `invoice_payment.paid`), and charges no longer name invoices. Sessions
carried the buyer's currency with `currency_conversion` before; since, the seller's, with
`presentment_details` (`shared/money.py` reads both).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..money import session_amounts
from ..orders.changes import InvoiceLink, OrderChange, PaymentChange, SubscriptionChange
from ..orders.lines import line_items_of
from ..orders.model import Change, Fact
from ..orders.money import CLOSED_DISPUTE
from ..orders.reservations import RESERVATION_METADATA_KEY
from ..orders.sale import buyer_of, sale_of

HANDLED_TYPES = (
    "checkout.session.completed",
    "checkout.session.async_payment_succeeded",
    "checkout.session.async_payment_failed",
    "checkout.session.expired",
    "charge.refunded",
    "charge.refund.updated",
    "refund.created",
    "refund.updated",
    "refund.failed",
    "charge.dispute.created",
    "charge.dispute.closed",
    "radar.early_fraud_warning.created",
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "customer.subscription.trial_will_end",
    "invoice.paid",
    "invoice.payment_failed",
    "invoice.payment_action_required",
    "invoice_payment.paid",
)


@dataclass(frozen=True)
class Ignored:
    reason: str


Decision = OrderChange | PaymentChange | SubscriptionChange | InvoiceLink | Ignored
Event = dict[str, Any]

_SESSION_FACTS: dict[str, Fact] = {
    "checkout.session.async_payment_succeeded": "paid",
    "checkout.session.async_payment_failed": "payment_failed",
    "checkout.session.expired": "expired",
}


def decide(event: Event) -> Decision:
    kind = event.get("type")
    if kind not in HANDLED_TYPES:
        return Ignored(f"unhandled type {kind}")
    assert isinstance(kind, str)
    obj = (event.get("data") or {}).get("object") or {}
    family = next(prefix for prefix in _DECIDERS if kind.startswith(prefix))
    return _DECIDERS[family](kind, obj, event["id"], int(event["created"]))


def _session(kind: str, obj: dict[str, Any], event_id: str, created: int) -> Decision:
    fact: Fact | None = _SESSION_FACTS.get(kind)
    if kind == "checkout.session.completed":
        fact = "paid" if obj.get("payment_status") in ("paid", "no_payment_required") else "awaiting_payment"
    return OrderChange(obj["id"], Change(event_id, kind, created, session=session_snapshot(obj), fact=fact))


def _charge_refunded(kind: str, charge: dict[str, Any], event_id: str, created: int) -> Decision:
    intent = _id(charge.get("payment_intent"))
    if not intent:
        return Ignored("charge without a payment intent")
    # Before 2022-11-15 the charge lists its refunds: each is a fact of its own.
    listed = ((charge.get("refunds") or {}).get("data")) or []
    refunds = tuple(fact for fact in (refund_fact(r, charge["id"]) for r in listed) if fact is not None)
    figure = {"id": charge["id"], "amount": charge.get("amount"), "amount_refunded": charge.get("amount_refunded") or 0,
              "currency": charge.get("currency")}
    return PaymentChange(intent, Change(event_id, kind, created, charge=figure, refunds=refunds),
                         invoice_id=_id(charge.get("invoice")))


def _refund(kind: str, refund: dict[str, Any], event_id: str, created: int) -> Decision:
    intent = _id(refund.get("payment_intent"))
    fact = refund_fact(refund)
    if not intent or fact is None:
        return Ignored("refund without a payment intent, an amount or a status")
    return PaymentChange(intent, Change(event_id, kind, created, refunds=(fact,)))


def _dispute(kind: str, dispute: dict[str, Any], event_id: str, created: int) -> Decision:
    intent = _id(dispute.get("payment_intent"))
    if not intent:
        return Ignored("dispute without a payment intent")
    status = dispute.get("status")
    is_open = kind != "charge.dispute.closed" and status not in CLOSED_DISPUTE
    return PaymentChange(intent, Change(event_id, kind, created, dispute={
        "id": dispute["id"], "status": status, "open": is_open, "reason": dispute.get("reason"),
        "amount": dispute.get("amount"), "currency": dispute.get("currency"), "charge": _id(dispute.get("charge"))}))


def _fraud_warning(kind: str, warning: dict[str, Any], event_id: str, created: int) -> Decision:
    intent = _id(warning.get("payment_intent"))
    if not intent:
        return Ignored("early fraud warning without a payment intent")
    return PaymentChange(intent, Change(event_id, kind, created, fraud_warning={
        "id": warning["id"], "fraud_type": warning.get("fraud_type"), "actionable": warning.get("actionable"),
        "charge": _id(warning.get("charge"))}))


def _subscription(kind: str, sub: dict[str, Any], event_id: str, created: int) -> Decision:
    notice = {"kind": "trial_will_end", "trial_end": sub.get("trial_end")} \
        if kind == "customer.subscription.trial_will_end" else None
    return SubscriptionChange(sub["id"], event_id, kind, created, snapshot=subscription_snapshot(sub), notice=notice)


def _invoice(kind: str, invoice: dict[str, Any], event_id: str, created: int) -> Decision:
    subscription = _invoice_subscription(invoice)
    if not subscription:
        return Ignored("invoice without a subscription")
    if kind == "invoice.payment_action_required":
        return SubscriptionChange(subscription, event_id, kind, created, notice={
            "kind": "payment_action_required", "invoice": invoice.get("id"),
            "hosted_invoice_url": invoice.get("hosted_invoice_url"), "amount_due": invoice.get("amount_due"),
            "currency": invoice.get("currency"), "customer_email": invoice.get("customer_email")})
    line = ((invoice.get("lines") or {}).get("data") or [{}])[0]
    period = line.get("period") or {}
    paid = kind == "invoice.paid"
    link = None
    if paid and invoice.get("id"):
        details = {"subscription_id": subscription, "billing_reason": invoice.get("billing_reason"),
                   "amount_total": invoice.get("amount_paid"), "currency": invoice.get("currency"), "paid_at": created}
        link = InvoiceLink(invoice["id"], _invoice_payment_intent(invoice),
                           {k: v for k, v in details.items() if v is not None})
    return SubscriptionChange(subscription, event_id, kind, created, invoice={
        "id": invoice.get("id"), "status": "paid" if paid else "payment_failed",
        "amount_paid": invoice.get("amount_paid"), "amount_due": invoice.get("amount_due"),
        "currency": invoice.get("currency"),
        "period_start": period.get("start", invoice.get("period_start")),
        "period_end": period.get("end", invoice.get("period_end")),
    }, link=link)


def _invoice_payment(kind: str, payment: dict[str, Any], event_id: str, created: int) -> Decision:
    invoice = _id(payment.get("invoice"))
    intent = _id((payment.get("payment") or {}).get("payment_intent"))
    if not invoice or not intent:
        return Ignored("invoice payment without an invoice or a payment intent")
    return InvoiceLink(invoice, intent)


_DECIDERS: dict[str, Callable[[str, dict[str, Any], str, int], Decision]] = {
    "checkout.session.": _session,
    "charge.refunded": _charge_refunded,
    "charge.refund.": _refund,
    "refund.": _refund,
    "charge.dispute.": _dispute,
    "radar.early_fraud_warning.": _fraud_warning,
    "customer.subscription.": _subscription,
    "invoice.": _invoice,
    "invoice_payment.": _invoice_payment,
}


def refund_fact(refund: Any, charge: str | None = None) -> dict[str, Any] | None:
    """A refund object as a fact, or None when it lacks what a fact needs (an id, an amount, a status)."""
    if not isinstance(refund, dict) or not refund.get("id") or refund.get("amount") is None \
            or not refund.get("status"):
        return None
    return {"id": refund["id"], "amount": refund["amount"], "currency": refund.get("currency"),
            "status": refund["status"], "created": refund.get("created"),
            "charge": _id(refund.get("charge")) or charge}


def session_snapshot(session: dict[str, Any]) -> dict[str, Any]:
    """The order-relevant fields of a Checkout Session object: what it is, who bought, and the whole sale
    (`orders/sale.py`) with its lines (`orders/lines.py`)."""
    details = session.get("customer_details") or {}
    snapshot = {
        "mode": session.get("mode"),
        **session_amounts(session),
        "customer_email": details.get("email") or session.get("customer_email"),
        "customer": _id(session.get("customer")),
        "payment_intent": _id(session.get("payment_intent")),
        "subscription": _id(session.get("subscription")),
        "invoice": _id(session.get("invoice")),
        "created": session.get("created"),
        "livemode": session.get("livemode"),
        "line_items": line_items_of(session),
        "sale": sale_of(session),
        **buyer_of(session),
        # The stock this checkout holds (create-session's reservation), to sell or release with it.
        "reservation": _text((session.get("metadata") or {}).get(RESERVATION_METADATA_KEY)),
    }
    return {k: v for k, v in snapshot.items() if v is not None}


def _text(value: Any) -> str | None:
    # Metadata anyone with the secret key can edit: only a string names a reservation.
    return value if isinstance(value, str) and value else None


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


def _invoice_payment_intent(invoice: dict[str, Any]) -> str | None:
    # Before 2025-03-31 the invoice named its payment intent; since, its payments list does (when the
    # payload includes it: otherwise `invoice_payment.paid` brings the link).
    direct = _id(invoice.get("payment_intent"))
    if direct:
        return direct
    payments = [p for p in ((invoice.get("payments") or {}).get("data") or []) if isinstance(p, dict)]
    payments.sort(key=lambda p: p.get("status") != "paid")
    for entry in payments:
        intent = _id((entry.get("payment") or {}).get("payment_intent"))
        if intent:
            return intent
    return None


def _id(value: Any) -> str | None:
    if isinstance(value, dict):
        return value.get("id")
    return value or None
