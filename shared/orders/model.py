"""What an order is, and how one event changes it. Pure: no I/O, no clock.

An order is keyed by its Checkout Session id and holds *facts* (paid at, expired at, the latest
refund, the latest dispute…). Its status is derived from the facts, not overwritten by each event,
so events can arrive in any order, any number of times, and the result is the same: a late
`checkout.session.completed` cannot undo a refund, and `expired` cannot undo `paid`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from ..store.keys import STORAGE_ATTRIBUTES

Order = dict[str, Any]
Fact = Literal["paid", "awaiting_payment", "payment_failed", "expired"]

HISTORY_LIMIT = 100

# Fields copied from a Checkout Session snapshot onto the order when present.
SESSION_FIELDS = (
    "mode", "amount_total", "amount_subtotal", "currency", "customer_email", "customer",
    "payment_intent", "subscription", "line_items", "created", "livemode",
)


@dataclass(frozen=True)
class Change:
    """The effect of one Stripe event on one order."""

    event_id: str
    type: str
    created: int
    session: dict[str, Any] = field(default_factory=dict)
    fact: Fact | None = None
    refund: dict[str, Any] | None = None  # {"amount_refunded", "amount"}
    dispute: dict[str, Any] | None = None  # {"id", "status", "reason", "open"}

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v not in (None, {})}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Change:
        return cls(**data)


def status_of(order: Order) -> str:
    facts = order.get("facts", {})
    dispute = order.get("dispute")
    refund = order.get("refund")
    if dispute and dispute.get("open"):
        return "disputed"
    if refund and refund.get("amount_refunded", 0) > 0:
        full = refund["amount_refunded"] >= (refund.get("amount") or order.get("amount_total") or 0)
        return "refunded" if full else "partially_refunded"
    if "paid" in facts:
        return "paid"
    if "payment_failed" in facts:
        return "payment_failed"
    if "expired" in facts:
        return "expired"
    if "awaiting_payment" in facts:
        return "awaiting_payment"
    return "open"


def apply(order: Order | None, session_id: str, change: Change) -> Order | None:
    """The order after `change`, or None when the change was already applied."""
    order = _copy(order) if order else {"session_id": session_id, "facts": {}, "history": [], "version": 0}
    if any(entry["event_id"] == change.event_id for entry in order["history"]):
        return None

    for name in SESSION_FIELDS:
        value = change.session.get(name)
        # A snapshot never erases what an earlier one knew (webhook sessions carry no line items).
        if value not in (None, [], ""):
            order[name] = value

    if change.fact is not None:
        facts = order["facts"]
        # The earliest evidence of a fact is when it became true.
        facts[change.fact] = min(facts.get(change.fact, change.created), change.created)

    if change.refund is not None:
        order["refund"] = _latest(order.get("refund"), {**change.refund, "created": change.created})
    if change.dispute is not None:
        order["dispute"] = _latest(order.get("dispute"), {**change.dispute, "created": change.created})

    order["status"] = status_of(order)
    order["history"] = (order["history"] + [
        {"event_id": change.event_id, "type": change.type, "created": change.created, "status": order["status"]}
    ])[-HISTORY_LIMIT:]
    return order


def due_for_fulfilment(order: Order) -> bool:
    """Paid, not yet fulfilled, and not taken back before it could be."""
    return order.get("done_at") is None and order.get("status") in ("paid", "partially_refunded")


def public_view(order: Order) -> dict[str, Any]:
    """The order as the CLI and API show it: no claim bookkeeping."""
    view = {k: v for k, v in order.items() if k not in STORAGE_ATTRIBUTES}
    view["fulfilled"] = order.get("done_at") is not None
    return view


def _latest(current: dict[str, Any] | None, candidate: dict[str, Any]) -> dict[str, Any]:
    # Stripe's `created` orders the events; on a tie the later-stage record wins (a closed
    # dispute over an open one, a larger cumulative refund over a smaller one).
    if current is None:
        return candidate
    if (candidate["created"], _stage(candidate)) >= (current["created"], _stage(current)):
        return candidate
    return current


def _stage(record: dict[str, Any]) -> tuple[int, int]:
    return (0 if record.get("open") else 1, record.get("amount_refunded", 0))


def _copy(order: Order) -> Order:
    copied = dict(order)
    copied["facts"] = dict(order.get("facts", {}))
    copied["history"] = list(order.get("history", []))
    return copied
