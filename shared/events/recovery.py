"""Serving buyers when webhooks are late or lost: the success page and `reconcile` fulfil too.

Both go through the same idempotent paths as the webhook (`apply_order_change`, the ledger, the
order's fulfilment claim), so whichever trigger comes first does the work and the rest see it done.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from .. import telemetry
from ..checkout.stale import PAID
from ..checkout.stripe_api import StripeGateway
from ..errors import DomainError, StoreUnavailable
from ..orders.changes import OrderChange
from ..orders.fulfilment import Fulfiller
from ..orders.model import Change
from ..orders.records import apply_order_change
from ..store.base import Store
from ..store.keys import event_key, order_key
from .decide import HANDLED_TYPES, session_snapshot
from .intake import process

TYPES_PER_LIST = 20  # Stripe's limit on `types` in one events list call


def record_session(store: Store, fulfiller: Fulfiller, session: dict[str, Any]) -> dict[str, Any] | None:
    """The order for a session the buyer returned from; a paid one is recorded and fulfilled now.

    Best effort: the page still shows Stripe's answer when our store is down, and the webhook or
    `reconcile` records the order later.
    """
    session_id = session["id"]
    try:
        recorded = store.get(order_key(session_id))
        if session.get("status") != "complete" or session.get("payment_status") not in PAID:
            return recorded
        if (recorded is not None and "paid" in recorded.get("facts", {}) and recorded.get("done_at") is not None
                and (recorded.get("sale") or {}).get("detail") == "full"):
            # Paid, fulfilled and known in full (the first read back filled in what the webhook lacked): a
            # reload (or a script) asking again changes nothing, so it costs a read, never a write.
            return recorded
        change = Change(f"success_page:{session_id}", "checkout.session.retrieved", int(time.time()),
                        session=session_snapshot(session), fact="paid")
        order = apply_order_change(store, OrderChange(session_id, change))
        try:
            fulfiller.settle(store, ("order", order))
        except DomainError as exc:
            telemetry.logger().warning("success page could not fulfil", extra={"session_id": session_id,
                                                                              "code": exc.code})
        return store.get(order_key(session_id))
    except StoreUnavailable as exc:
        telemetry.logger().warning("order store unavailable", extra={"session_id": session_id, "code": exc.code})
        return None


@dataclass
class ReconcileReport:
    new: list[str] = field(default_factory=list)
    already: int = 0
    ignored: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)


def reconcile(gateway: StripeGateway, store: Store, fulfiller: Fulfiller, *, since: int, dry_run: bool = False,
              lease_seconds: int = 60, restock_on_refund: bool = False) -> ReconcileReport:
    """Apply every handled event since `since` that the ledger lacks, oldest first."""
    report = ReconcileReport()
    events = [event for start in range(0, len(HANDLED_TYPES), TYPES_PER_LIST)
              for event in gateway.events(list(HANDLED_TYPES[start:start + TYPES_PER_LIST]), since)]
    for event in sorted(events, key=lambda e: (e["created"], e["id"])):
        ledger = store.get(event_key(event["id"]))
        if ledger is not None and ledger.get("done_at") is not None:
            report.already += 1
            continue
        if dry_run:
            report.new.append(event["id"])
            continue
        try:
            outcome = process(event, store, fulfiller, lease_seconds=lease_seconds, source="reconcile",
                              restock_on_refund=restock_on_refund)
        except DomainError as exc:
            report.failed.append((event["id"], exc.code))
            continue
        if outcome == "applied":
            report.new.append(event["id"])
        elif outcome == "duplicate":
            report.already += 1
        else:
            report.ignored += 1
    return report
