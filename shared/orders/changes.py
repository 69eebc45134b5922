"""What an event changes, addressed to the record it changes: an order (by session), a payment (by
payment intent, for refunds, disputes and fraud warnings, which do not name their session), a
subscription, or the link between an invoice and the payment that paid it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .model import Change


@dataclass(frozen=True)
class OrderChange:
    session_id: str
    change: Change


@dataclass(frozen=True)
class PaymentChange:
    """A change known only by its payment intent (refunds, disputes, fraud warnings).

    `invoice_id` is set when the event itself names the invoice the payment paid (a charge before API
    version 2025-03-31): that links the payment to the invoice as a side effect.
    """

    payment_intent: str
    change: Change
    invoice_id: str | None = None


@dataclass(frozen=True)
class InvoiceLink:
    """What an invoice event tells about an invoice: which payment paid it (`invoice_payment.paid`, or
    `invoice.paid` before 2025-03-31) and which subscription it bills."""

    invoice_id: str
    payment_intent: str | None = None
    details: dict[str, Any] = field(default_factory=dict)  # subscription_id, billing_reason, amount_total, …


@dataclass(frozen=True)
class SubscriptionChange:
    subscription_id: str
    event_id: str
    type: str
    created: int
    snapshot: dict[str, Any] | None = None
    invoice: dict[str, Any] | None = None
    # Something the seller may want to tell the customer: recorded, and passed to the notice hook.
    notice: dict[str, Any] | None = None
    link: InvoiceLink | None = None


AnyChange = OrderChange | PaymentChange | InvoiceLink | SubscriptionChange  # what `records.py` applies
