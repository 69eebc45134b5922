"""What an event changes, addressed to the record it changes: an order (by session), a payment (by
payment intent, for refunds and disputes that do not name their session), or a subscription."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .model import Change


@dataclass(frozen=True)
class OrderChange:
    session_id: str
    change: Change


@dataclass(frozen=True)
class PaymentChange:
    """A change known only by its payment intent (refunds, disputes)."""

    payment_intent: str
    change: Change


@dataclass(frozen=True)
class SubscriptionChange:
    subscription_id: str
    event_id: str
    type: str
    created: int
    snapshot: dict[str, Any] | None = None
    invoice: dict[str, Any] | None = None
