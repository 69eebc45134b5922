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
from typing import Any, TypeGuard

from .. import _json, telemetry
from ..errors import ApiError, BadRequest, Conflict, StoreUnavailable
from ..orders.changes import OrderChange, PaymentChange, SubscriptionChange
from ..orders.fulfilment import Fulfiller
from ..orders.records import apply_order_change, apply_payment_change, apply_subscription_change
from ..settings import Secret
from ..store.base import Claim, Item, Store
from ..store.keys import event_key
from .decide import Decision, Ignored, decide
from .signature import verify

MAX_BODY = 512 * 1024
LEDGER_TTL_SECONDS = 30 * 24 * 3600  # longer than Stripe's 3 days of retries and `reconcile`'s window


class EventInProgress(Conflict):
    code = "event_in_progress"


def parse_event(payload: bytes, signature: str | None, secrets: tuple[Secret, ...],
                *, now: float | None = None) -> dict[str, Any]:
    """The verified event, or `InvalidSignature`/`BadRequest`. Nothing is parsed before verification."""
    verify(payload, signature, secrets, now=now)
    try:
        event = _json.loads(payload)
    except ValueError:
        raise BadRequest("The webhook body is not JSON.", code="invalid_payload") from None
    if not is_event(event):
        raise BadRequest("The webhook body is not a Stripe event.", code="invalid_payload")
    return event


def is_event(value: Any) -> TypeGuard[dict[str, Any]]:
    """Has the fields every handled path reads: an id, a type, a created time and a data object."""
    if not isinstance(value, dict):
        return False
    data = value.get("data")
    return (isinstance(value.get("id"), str) and bool(value["id"]) and isinstance(value.get("type"), str)
            and type(value.get("created")) is int and isinstance(data, dict) and isinstance(data.get("object"), dict))


def process(event: dict[str, Any], store: Store, fulfiller: Fulfiller, *, lease_seconds: int = 60,
            now: int | None = None, source: str = "webhook") -> str:
    """Apply one verified event exactly once. Returns `applied`, `duplicate` or `ignored`.

    The ledger entry also says what happened, for `python -m shared events`: the event's type, where
    it came from and when it was taken up (written with the claim), the record it changed (with the
    finish), or why it failed (with the release). No write is added for that: a duplicate still costs
    one conditional write, and an ignored event none.
    """
    try:
        decision = decide(event)
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError):
        raise BadRequest("The event's object lacks the fields its type needs.", code="invalid_payload") from None
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
        order, touched = _apply(store, decision)
        if order is not None:
            fulfiller.fulfil_if_due(store, order, now=now)
    except Exception as exc:
        telemetry.count("EventsFailed")
        error = exc.code if isinstance(exc, ApiError) else type(exc).__name__
        telemetry.logger().warning("event failed", extra={
            "correlation_id": event["id"], "event_type": event["type"], "error": type(exc).__name__})
        try:
            store.release(key, token, fields={"last_error": error, "failed_at": now})
        except StoreUnavailable:
            pass  # the lease will run out by itself, and Stripe's retry claims it then
        raise
    store.finish(key, token, now=now, fields={"outcome": "applied", **touched})
    telemetry.count("EventsApplied")
    return "applied"


def _apply(store: Store, decision: Decision) -> tuple[dict[str, Any] | None, Item]:
    """The change made, and which record it touched (for the ledger)."""
    if isinstance(decision, OrderChange):
        return apply_order_change(store, decision), {"order": decision.session_id}
    if isinstance(decision, PaymentChange):
        order = apply_payment_change(store, decision)
        if order is None:  # parked until its session is known
            return None, {"payment_intent": decision.payment_intent}
        return order, {"order": order["session_id"]}
    if isinstance(decision, SubscriptionChange):
        apply_subscription_change(store, decision)
        return None, {"subscription": decision.subscription_id}
    return None, {}
