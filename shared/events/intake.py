"""Handling a webhook delivery: verify, decide, record exactly once, fulfil, acknowledge.

Exactly once rests on the event ledger, `EVENT#<id>`, written in the same transaction as the change
the event makes: either both are stored or neither is. A duplicate of a finished event changes nothing
(one read tells); one that arrives while another invocation holds the event's lease (taken when work
follows the write, see `process`) is told to retry (409), because that invocation may yet crash, and a
2xx would lose it. A failure after the write releases the lease, answers 5xx, and Stripe's retry
starts over; the changes themselves are idempotent per event id, so a half-done attempt does no harm.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from .. import _json, telemetry
from ..errors import Code, Conflict, DomainError, InvalidRequest, StoreUnavailable
from ..orders.changes import AnyChange, InvoiceLink, OrderChange, PaymentChange, SubscriptionChange
from ..orders.fulfilment import LEASE, Fulfiller, fulfilled, persist
from ..orders.model import Order
from ..orders.notices import dispute_lost, subscription_notice
from ..orders.records import (
    Reached,
    apply_invoice_link,
    apply_order_change,
    apply_payment_change,
    apply_subscription_change,
    records_of,
)
from ..orders.reservations import settle as settle_reservation
from ..settings import Secret
from ..store.base import Item, Records, Store, TransactionFailed, VersionConflict, Write, release_after_failure
from ..store.keys import event_key, order_key
from ..store.unit import Unit
from .decide import Decision, Ignored, decide
from .shape import event_problem
from .signature import verify

MAX_BODY = 512 * 1024
LEDGER_TTL_SECONDS = 30 * 24 * 3600  # longer than Stripe's 3 days of retries and `reconcile`'s window
MAX_ATTEMPTS = 20  # reads and transactions per event when its records keep changing under it


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

    One read and one write for most events: the ledger entry and the records the change names are read
    together, and the change, the fulfilment it makes due (when the record is all there is to it) and the
    ledger entry marked done are written in one transaction (`store/unit.py`). A duplicate costs the read.

    Work that cannot be undone, or that waits on other records, runs after that write under the event's
    lease, which the same transaction takes instead of marking the event done: the seller's hook and SES
    (the order's fulfilment lease taken in the transaction too, and ended with the event's in one more
    write), notices, and the stock a checkout holds — sold when paid, released when expired or its
    delayed payment failed, and with `restock_on_refund` (checkout.toml) put back on sale when refunded
    in full. A failure there releases the leases and answers 5xx; the retry finds the change applied
    (it is idempotent per event id) and does the rest.

    The ledger entry also says what happened, for `python -m shared events`: the event's type, where
    it came from and when it was taken up, the record it changed, or why it failed. No write is added
    for that.
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
                "event_created": event["created"], "expires_at": now + LEDGER_TTL_SECONDS}
    try:
        work = _write(store, key, decision, fulfiller, taken_up, token=token, now=now,
                      lease_until=now + lease_seconds, restock_on_refund=restock_on_refund)
    except Conflict:  # a duplicate in progress is not a failure
        raise
    except Exception as exc:
        _failed(event, exc)
        _note_failure(store, key, taken_up, exc, now=now)
        raise
    if work is None:
        telemetry.count("EventsDuplicate")
        return "duplicate"
    if work.after:
        _finish(store, key, token, event, fulfiller, work, now=now, restock_on_refund=restock_on_refund)
    for order in work.fulfilled:
        fulfilled(order)
    telemetry.count("EventsApplied")
    return "applied"


@dataclass
class _Work:
    """What the write did, and what is left to do under the event's lease."""

    reached: list[Reached]
    touched: Item
    after: bool = False  # something runs after the write: the event holds a lease rather than being done
    fulfilled: list[Order] = field(default_factory=list)  # written fulfilled (no actions), to announce
    claimed: list[Order] = field(default_factory=list)  # written with our lease: run the actions
    busy: list[Order] = field(default_factory=list)  # another trigger's lease: `fulfil_if_due` tells
    notice: dict[str, Any] | None = None  # a subscription notice to tell
    stock: list[Order] = field(default_factory=list)  # orders whose reservation may move (sold, released…)
    lost: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # lost disputes to tell: claim key, notice


def _write(store: Store, key: str, decision: AnyChange, fulfiller: Fulfiller, taken_up: Item, *, token: str,
           now: int, lease_until: int, restock_on_refund: bool) -> _Work | None:
    """Apply the change and take up the event in one transaction; None when the event was done before.
    A transaction cancelled because a record changed since it was read is made again from a new read."""
    for _ in range(MAX_ATTEMPTS):
        unit = Unit(store, [key, *records_of(decision)])
        ledger = unit.get(key) or {}
        if ledger.get("done_at") is not None:
            return None
        # A lease with our token is our own: an earlier attempt's transaction was made although we were
        # told otherwise (a retry after a timeout finds its own write). Carry on under it.
        if int(ledger.get("claim_until") or 0) >= now and ledger.get("claim_token") != token:
            raise EventInProgress("This event is being processed by another request; retry shortly.")
        work = _apply(unit, decision, fulfiller)
        for kind, record in work.reached:
            taken = fulfiller.take_up(unit, record, now=now, token=token) if kind == "order" else None
            if taken is not None:
                # `take_up` wrote the order again: what the hook and the announcement see is that.
                record = unit.get(order_key(record["session_id"])) or record
                {"fulfilled": work.fulfilled, "claimed": work.claimed, "busy": work.busy}[taken].append(record)
        work.stock = [record for kind, record in work.reached if kind == "order" and _stock_due(
            record, session_event=isinstance(decision, OrderChange), restock_on_refund=restock_on_refund)]
        if fulfiller.notify is not None:
            work.lost = [lost for kind, record in work.reached if (lost := dispute_lost(kind, record))]
        work.after = bool(work.claimed or work.busy or work.notice or work.stock or work.lost)
        entry = {k: v for k, v in ledger.items() if k not in ("pk", "version", *LEASE)} | taken_up
        if work.after:
            entry |= {"claim_token": token, "claim_until": lease_until}
        else:
            entry |= {"done_at": now, "outcome": "applied", **work.touched}
        unit.put(key, entry, expected_version=int(ledger.get("version", 0)))
        try:
            unit.commit()
        except (TransactionFailed, VersionConflict):
            continue  # the event, or a record, changed since the read: read again
        return work
    raise StoreUnavailable("Too much contention on this event's records; retry.")


def _finish(store: Store, key: str, token: str, event: dict[str, Any], fulfiller: Fulfiller, work: _Work, *,
            now: int, restock_on_refund: bool) -> None:
    """What runs under the event's lease, then the lease ended with the orders' in one write; on a
    failure both are released, saying why, and the failure answers 5xx."""
    claimed = [order_key(order["session_id"]) for order in work.claimed]
    try:
        if work.notice is not None:
            fulfiller.tell(work.notice)
        for order in work.stock:
            settle_reservation(store, order, restock_on_refund=restock_on_refund, now=now)
        for order in work.claimed:
            fulfiller.run(order)
        for order in work.busy:
            fulfiller.fulfil_if_due(store, order, now=now)
        for notice_key, notice in work.lost:
            fulfiller.notify_once(store, notice_key, notice, now=now)
    except Exception as exc:
        error = exc.code.value if isinstance(exc, DomainError) else type(exc).__name__
        for order_lease in claimed:
            release_after_failure(store, order_lease, token, correlation_id=event["id"])
        release_after_failure(store, key, token, correlation_id=event["id"],
                              fields={"last_error": error, "failed_at": now})
        raise
    # The seller's code may have run under these leases: losing this write would run it again.
    outcome = {"outcome": "applied", **work.touched}
    try:
        if claimed:
            writes = [Write(order, equals={"claim_token": token}, set={"done_at": now}, remove=LEASE)
                      for order in claimed]
            writes.append(Write(key, equals={"claim_token": token}, set={"done_at": now, **outcome}, remove=LEASE))
            persist(lambda: _end_leases(store, writes))
        else:
            persist(lambda: store.finish(key, token, now=now, fields=outcome))
    except VersionConflict:
        # Our lease is gone. Most often the write was made, and a retry of it (after a timeout) found
        # its own work: the event is done, which is all that matters now. Otherwise the lease ran out
        # and another invocation has the event: this one answers 5xx.
        if (store.get(key) or {}).get("done_at") is None:
            raise
    work.fulfilled += work.claimed


def _note_failure(store: Store, key: str, taken_up: Item, exc: Exception, *, now: int) -> None:
    """Nothing was written, but the ledger says the event failed (for `python -m shared events`): in a
    claim whose lease is over already, so Stripe's retry takes the event up at once. Best effort."""
    error = exc.code.value if isinstance(exc, DomainError) else type(exc).__name__
    try:
        store.claim(key, uuid.uuid4().hex, now=now, until=now - 1, expires_at=taken_up["expires_at"],
                    fields={**{k: v for k, v in taken_up.items() if k != "expires_at"}, "last_error": error,
                            "failed_at": now})
    except Exception as second:  # any: the first failure is the one to report
        telemetry.logger().warning("event failure not noted", extra={
            "correlation_id": taken_up["event_id"], "error": type(second).__name__})


def _end_leases(store: Store, writes: list[Write]) -> None:
    """The orders' leases and the event's, ended in one transaction (`finish`, for several items)."""
    try:
        store.transact(writes)
    except TransactionFailed as exc:
        # A lease ran out before the work under it was done and another invocation took it: that one
        # finishes (our work was done, and is idempotent), and this one answers 5xx rather than 2xx,
        # as `finish` does.
        raise VersionConflict() from exc


def _failed(event: dict[str, Any], exc: Exception) -> None:
    telemetry.count("EventsFailed")
    telemetry.logger().warning("event failed", extra={
        "correlation_id": event["id"], "event_type": event["type"], "error": type(exc).__name__})


def _apply(records: Records, decision: AnyChange, fulfiller: Fulfiller) -> _Work:
    """Store the decision; the records it reached, to fulfil or tell of."""
    notice = None
    if isinstance(decision, OrderChange):
        reached: list[Reached] = [("order", apply_order_change(records, decision))]
    elif isinstance(decision, PaymentChange):
        reached = apply_payment_change(records, decision)
    elif isinstance(decision, InvoiceLink):
        reached = apply_invoice_link(records, decision)
    else:
        subscription, reached = apply_subscription_change(records, decision)
        if decision.notice is not None and fulfiller.notify is not None:
            # Told under this event's lease, after the write: the ledger makes it once.
            notice = subscription_notice(decision.notice, subscription)
    return _Work(reached, _touched(decision, reached), notice=notice)


def _stock_due(record: Item, *, session_event: bool, restock_on_refund: bool) -> bool:
    """Whether an order's reservation may move: a session's own events sell or release it; money events
    matter only when refunds restock. Orders without a reservation cost nothing."""
    return bool(record.get("reservation")) and (
        session_event or (restock_on_refund and record.get("status") == "refunded"))


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
