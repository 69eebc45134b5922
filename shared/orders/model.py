"""What an order is, and how one event changes it. Pure: no I/O, no clock.

An order is keyed by its Checkout Session id and holds *facts*: when it was paid, expired or failed,
and each refund, dispute and fraud warning by its Stripe id (`money.py`). Its status and amounts are
derived from the facts, not overwritten by each event, so events can arrive in any order, any number
of times, and the result is the same: a late `checkout.session.completed` cannot undo a refund,
`expired` cannot undo `paid`, and a failed refund stops counting whenever its news arrives.

A subscription's renewal invoices have no order; their refunds and disputes go to an invoice record
of the same shape (`apply_to_invoice`), so the same rules give their status.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from ..store.keys import STORAGE_ATTRIBUTES
from . import money, sale

Order = dict[str, Any]
Fact = Literal["paid", "awaiting_payment", "payment_failed", "expired"]

HISTORY_LIMIT = 100

# Fields copied from a Checkout Session snapshot onto the order when present.
SESSION_FIELDS = (
    "mode", "amount_total", "amount_subtotal", "currency", "presentment", "customer_email", "customer",
    "payment_intent", "subscription", "invoice", "created", "livemode", "reservation",
    "customer_name", "customer_phone", "customer_address", "business_name", "tax_ids", "custom_fields", "consent",
)
# The sale's breakdown and its lines: copied together, and only from a snapshot that tells as much as the
# one they came from (a webhook's session knows less than the success page's, read back expanded).
SALE_FIELDS = ("line_items", "sale")
# Derived from the money facts on every change: a change that removes one removes it here too.
DERIVED = ("refund", "dispute")
UNDERLYING = ("paid", "payment_failed", "expired", "awaiting_payment")


@dataclass(frozen=True)
class Change:
    """The effect of one Stripe event on one order (or invoice record)."""

    event_id: str
    type: str
    created: int
    session: dict[str, Any] = field(default_factory=dict)
    fact: Fact | None = None
    charge: dict[str, Any] | None = None  # Stripe's cumulative figure: {"id", "amount", "amount_refunded", "currency"}
    refunds: tuple[dict[str, Any], ...] = ()  # {"id", "amount", "currency", "status", "created", "charge"}
    dispute: dict[str, Any] | None = None  # {"id", "status", "open", "reason", "amount", "currency", "charge"}
    fraud_warning: dict[str, Any] | None = None  # {"id", "fraud_type", "actionable", "charge"}

    def to_dict(self) -> dict[str, Any]:
        data = {k: v for k, v in self.__dict__.items() if v not in (None, {}, ())}
        if self.refunds:
            data["refunds"] = [dict(r) for r in self.refunds]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Change:
        data = dict(data)
        legacy = data.pop("refund", None)
        if legacy is not None and "charge" not in data:
            # Parked before refunds were kept by id: Stripe's cumulative figure for an unnamed charge.
            data["charge"] = {"id": money.UNKNOWN, "amount": legacy.get("amount"),
                              "amount_refunded": legacy.get("amount_refunded")}
        if data.get("dispute") and "status" not in data["dispute"]:
            old = data["dispute"]
            data["dispute"] = {**old, "status": old.get("outcome") or ("needs_response" if old.get("open") else None)}
        data["refunds"] = tuple(data.get("refunds") or ())
        return cls(**data)


def status_of(order: Order) -> str:
    paid, _ = _charged(order)
    imposed = money.money_status(order, paid)
    if imposed is not None:
        return imposed
    facts = order.get("facts", {})
    return next((fact for fact in UNDERLYING if fact in facts), "open")


def apply(order: Order | None, session_id: str, change: Change) -> Order | None:
    """The order after `change`, or None when the change was already applied."""
    order = _copy(order) if order else {"session_id": session_id, "facts": {}, "history": [], "version": 0}
    return _apply(order, change)


def apply_to_invoice(record: Order | None, invoice_id: str, change: Change) -> Order | None:
    """An invoice record after a money change (a renewal's refund or dispute), or None when already applied."""
    record = _copy(record) if record else {"invoice_id": invoice_id, "facts": {}, "history": [], "version": 0}
    # A refund or dispute is evidence the invoice was paid: its status falls back to `paid`, not `open`.
    record["facts"]["paid"] = min(record["facts"].get("paid", change.created), change.created)
    return _apply(record, change)


def refresh(record: Order | None) -> Order | None:
    """The record with its status and figures derived again, or None when they are current: for a record
    whose amounts were written without a change (an invoice's total, learnt after its refund)."""
    if record is None:
        return None
    derived = _copy(record)
    _derive(derived)
    return derived if any(derived.get(k) != record.get(k) for k in ("status", *DERIVED)) else None


def due_for_fulfilment(order: Order) -> bool:
    """Paid, not yet fulfilled, and not taken back (refunded, disputed, lost) before it could be."""
    return order.get("done_at") is None and order.get("status") in ("paid", "partially_refunded")


def public_view(order: Order) -> dict[str, Any]:
    """The order as the CLI, the API and the seller's hook see it: no claim bookkeeping."""
    view = {k: v for k, v in order.items() if k not in STORAGE_ATTRIBUTES}
    view["fulfilled"] = order.get("done_at") is not None
    return view


def _apply(order: Order, change: Change) -> Order | None:
    if any(entry["event_id"] == change.event_id for entry in order["history"]):
        return None

    fields = SESSION_FIELDS + (SALE_FIELDS if sale.fuller(change.session.get("sale"), order.get("sale")) else ())
    for name in fields:
        value = change.session.get(name)
        # A snapshot never erases what an earlier one knew (webhook sessions carry no line items).
        if value not in (None, [], ""):
            order[name] = value

    if change.fact is not None:
        facts = order["facts"]
        # The earliest evidence of a fact is when it became true.
        facts[change.fact] = min(facts.get(change.fact, change.created), change.created)

    money.record(order, created=change.created, charge=change.charge, refunds=change.refunds,
                 dispute=change.dispute, fraud_warning=change.fraud_warning)
    _derive(order)
    order["history"] = (order["history"] + [
        {"event_id": change.event_id, "type": change.type, "created": change.created, "status": order["status"]}
    ])[-HISTORY_LIMIT:]
    return order


def _derive(order: Order) -> None:
    for name in DERIVED:
        order.pop(name, None)
    paid, currency = _charged(order)
    order.update(money.summary(order, paid, currency))
    order["status"] = status_of(order)


def _charged(order: Order) -> tuple[int | None, str | None]:
    return money.charged(order, order.get("amount_total"), order.get("currency"), order.get("presentment"))


def _copy(order: Order) -> Order:
    copied = dict(order)
    copied["facts"] = dict(order.get("facts", {}))
    copied["history"] = list(order.get("history", []))
    _adopt_legacy(copied)
    return copied


def _adopt_legacy(order: Order) -> None:
    """Orders stored before money facts were kept by id hold only the latest refund and dispute: keep
    them as facts, so the next change does not forget them."""
    refund, dispute = order.get("refund"), order.get("dispute")
    if refund and not any(order.get(name) for name in ("charges", "refunds")) and "created" in refund:
        money.record(order, created=refund["created"], charge={
            "id": money.UNKNOWN, "amount": refund.get("amount"), "amount_refunded": refund.get("amount_refunded")})
    if dispute and not order.get("disputes") and "created" in dispute:
        status = dispute.get("status") or dispute.get("outcome")
        money.record(order, created=dispute["created"], dispute={
            **{k: v for k, v in dispute.items() if k not in ("created", "outcome")},
            "status": status, "open": bool(dispute.get("open"))})
