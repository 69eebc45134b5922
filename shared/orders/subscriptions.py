"""A subscription record, changed by subscription and invoice events. Pure.

Notices (`invoice.payment_action_required`, `customer.subscription.trial_will_end`) are kept by kind,
the latest of each, so the seller can see what the customer was last asked to do.
"""

from __future__ import annotations

from typing import Any

from .changes import SubscriptionChange

Subscription = dict[str, Any]
HISTORY_LIMIT = 100


def apply_subscription(record: Subscription | None, sub_id: str, change: SubscriptionChange) -> Subscription | None:
    """The record after `change`, or None when it was already applied."""
    record = dict(record) if record else {"subscription_id": sub_id, "history": [], "version": 0}
    if any(entry["event_id"] == change.event_id for entry in record["history"]):
        return None
    # Each part keeps the newest state Stripe described, whatever order the events came in.
    if change.snapshot is not None and change.created >= record.get("snapshot_created", 0):
        record.update({k: v for k, v in change.snapshot.items() if v is not None or k.startswith("cancel")})
        record["snapshot_created"] = change.created
    if change.invoice is not None and change.created >= record.get("invoice_created", 0):
        record["latest_invoice"] = change.invoice
        record["invoice_created"] = change.created
    if change.notice is not None:
        notices = dict(record.get("notices") or {})
        kind = change.notice["kind"]
        if change.created >= (notices.get(kind) or {}).get("at", 0):
            notices[kind] = {**change.notice, "at": change.created}
        record["notices"] = notices
    record["history"] = (list(record["history"]) + [
        {"event_id": change.event_id, "type": change.type, "created": change.created, "status": record.get("status")}
    ])[-HISTORY_LIMIT:]
    return record
