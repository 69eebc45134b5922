"""Handling a webhook delivery: verify, decide, record exactly once, fulfil, acknowledge.

Exactly once rests on the event ledger: one conditional write claims `EVENT#<id>` with a lease.
A duplicate of a finished event changes nothing; one that arrives while another invocation holds
the lease is told to retry (409), because that invocation may yet crash, and a 2xx would lose it.
A failure after the claim releases it, answers 5xx, and Stripe's retry starts over; the changes
themselves are idempotent per event id, so a half-done first attempt does no harm.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from .. import _json, telemetry
from ..errors import Code, Conflict, DomainError, InvalidRequest
from ..orders.changes import InvoiceLink, OrderChange, PaymentChange, SubscriptionChange
from ..orders.fulfilment import Fulfiller, persist
from ..orders.notices import subscription_notice
from ..orders.records import (
    Reached,
    apply_invoice_link,
    apply_order_change,
    apply_payment_change,
    apply_subscription_change,
)
from ..orders.reservations import settle as settle_reservation
from ..settings import Secret
from ..store.base import Claim, Item, Store, release_after_failure
from ..store.keys import event_key
from .decide import Decision, Ignored, decide
from .shape import event_problem
from .signature import verify

MAX_BODY = 512 * 1024
LEDGER_TTL_SECONDS = 30 * 24 * 3600  # longer than Stripe's 3 days of retries and `reconcile`'s window


class EventInProgress(Conflict):
    code = Code.EVENT_IN_PROGRESS


def parse_event(payload: bytes, signature: str | None, secrets: tuple[Secret, ...],
                *, now: float | None = None) -> dict[str, Any]:
    """The verified event, or `InvalidSignature`/`InvalidRequest`. Nothing is parsed before verification."""
    verify(payload, signature, secrets, now=now)
    try:
        event = _json.loads(payload)
    except ValueError:
        raise InvalidRequest("The webhook body is not JSON.", code=Code.INVALID_PAYLOAD) from None
    return check_event(event, "The webhook body")


def check_event(value: Any, what: str = "The event") -> dict[str, Any]:
    """`value` as an event `decide` can read, or `InvalidRequest` (`invalid_payload`) naming what is wrong."""
    problem = event_problem(value)
    if problem is not None:
        raise InvalidRequest(f"{what} is not a Stripe event we can read: {problem}.", code=Code.INVALID_PAYLOAD)
    assert isinstance(value, dict)
    return value


def process(event: dict[str, Any], store: Store, fulfiller: Fulfiller, *, lease_seconds: int = 60,
            now: int | None = None, source: str = "webhook", restock_on_refund: bool = False) -> str:
    """Apply one verified event exactly once. Returns `applied`, `duplicate` or `ignored`.

    An order whose checkout holds stock (its session's reservation) takes its reservation along under
    the same claim: sold when paid, released when expired or its delayed payment failed, and — with
    `restock_on_refund` (checkout.toml) — put back on sale when refunded in full. Each of those is a
    conditional step of its own (`orders/reservations.py`), so a retry after a failure here redoes none.

    The ledger entry also says what happened, for `python -m shared events`: the event's type, where
    it came from and when it was taken up (written with the claim), the record it changed (with the
    finish), or why it failed (with the release). No write is added for that: a duplicate still costs
    one conditional write, and an ignored event none.
    """
    check_event(event)
    try:
        decision = decide(event)
    except Exception as exc:
        # The event has the shape `decide` reads, so this is our bug: a 5xx Stripe retries, and the
        # alarm on EventsFailed, rather than a 4xx nobody looks at.
        _failed(event, exc)
        raise
    if isinstance(decision, Ignored):
        telemetry.count("EventsIgnored")
        return "ignored"

    now = int(time.time()) if now is None else now
    key, token = event_key(event["id"]), uuid.uuid4().hex
    taken_up = {"event_id": event["id"], "type": event["type"], "source": source, "seen_at": now,
                "event_created": event["created"]}
    claim = store.claim(key, token, now=now, until=now + lease_seconds, expires_at=now + LEDGER_TTL_SECONDS,
                        fields=taken_up)
    if claim is Claim.DONE:
        telemetry.count("EventsDuplicate")
        return "duplicate"
    if claim is Claim.IN_PROGRESS:
        raise EventInProgress("This event is being processed by another request; retry shortly.")
    try:
        reached = _apply(store, decision, fulfiller)
        _settle_stock(store, decision, reached, restock_on_refund=restock_on_refund, now=now)
        for record in reached:
            fulfiller.settle(store, record, now=now)
    except Exception as exc:
        _failed(event, exc)
        error = exc.code.value if isinstance(exc, DomainError) else type(exc).__name__
        release_after_failure(store, key, token, correlation_id=event["id"],
                              fields={"last_error": error, "failed_at": now})
        raise
    # The seller's notice hook may have run under this claim: losing this write would run it again.
    touched = {"outcome": "applied", **_touched(decision, reached)}
    persist(lambda: store.finish(key, token, now=now, fields=touched))
    telemetry.count("EventsApplied")
    return "applied"


def _failed(event: dict[str, Any], exc: Exception) -> None:
    telemetry.count("EventsFailed")
    telemetry.logger().warning("event failed", extra={
        "correlation_id": event["id"], "event_type": event["type"], "error": type(exc).__name__})


def _apply(store: Store, decision: Decision, fulfiller: Fulfiller) -> list[Reached]:
    """Store the decision; the records it reached, to fulfil or tell of."""
    if isinstance(decision, OrderChange):
        return [("order", apply_order_change(store, decision))]
    if isinstance(decision, PaymentChange):
        return apply_payment_change(store, decision)
    if isinstance(decision, InvoiceLink):
        return apply_invoice_link(store, decision)
    if isinstance(decision, SubscriptionChange):
        subscription, reached = apply_subscription_change(store, decision)
        if decision.notice is not None:
            # Told under this event's claim: the ledger makes it once.
            fulfiller.tell(subscription_notice(decision.notice, subscription))
        return reached
    return []


def _settle_stock(store: Store, decision: Decision, reached: list[Reached], *, restock_on_refund: bool,
                  now: int) -> None:
    """The reservation of each order reached, if it has one: nothing is read for any other order.
    A session's own events sell or release; money events matter only when refunds restock."""
    session_event = isinstance(decision, OrderChange)
    for kind, record in reached:
        if kind != "order" or not record.get("reservation"):
            continue
        if session_event or (restock_on_refund and record.get("status") == "refunded"):
            settle_reservation(store, record, restock_on_refund=restock_on_refund, now=now)


def _touched(decision: Decision, reached: list[Reached]) -> Item:
    """The record the event changed, for the ledger (`python -m shared events`)."""
    if isinstance(decision, OrderChange):
        return {"order": decision.session_id}
    if isinstance(decision, SubscriptionChange):
        return {"subscription": decision.subscription_id}
    # Money reaches an order, or a renewal's invoice record; a payment not yet linked parks it.
    for kind, record in reached:
        if kind == "order":
            return {"order": record["session_id"]}
    if isinstance(decision, InvoiceLink):
        return {"invoice": decision.invoice_id}
    if isinstance(decision, PaymentChange):
        invoice = next((r.get("invoice_id") for kind, r in reached if kind == "invoice"), decision.invoice_id)
        return {"invoice": invoice} if invoice else {"payment_intent": decision.payment_intent}
    return {}
