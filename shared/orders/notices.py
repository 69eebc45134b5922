"""Notices: what the seller's hook is told besides a paid order, and where that hook comes from.

`FULFILLMENT_HOOK` names one function, called once with each paid order (a dict), as it always was:
hooks written for that keep working and are never called with anything else. A seller who wants more
defines `on_notice(notice)` in the same module; it is called with a dict whose `kind` says what happened:

- `dispute_lost`: a chargeback on an order already fulfilled (or on a renewal invoice) was lost: the
  money is gone; revoke what was granted if you wish. `order` (or `invoice`) and `dispute` describe it.
- `payment_action_required`: a subscription invoice needs the customer (3-D Secure, say):
  `hosted_invoice_url` is the page where they complete it; `customer_email` when Stripe has one.
- `trial_will_end`: a subscription's trial ends at `trial_end` (Stripe sends this three days before).

Each notice is delivered once: subscription notices under their event's ledger claim, a lost dispute
under a claim of its own (`NOTICE#…`), since the dispute, or the link that brings it to its order,
may be what arrives last.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any, Literal

from ..errors import Misconfigured
from ..store.keys import notice_key
from .model import public_view

Notify = Callable[[dict[str, Any]], None]
NOTICE_FUNCTION = "on_notice"


def load_notice_hook(spec: str) -> Notify | None:
    """`on_notice` of the module `FULFILLMENT_HOOK` names, if it defines one (`load_hook` loaded it first)."""
    module = importlib.import_module(spec.partition(":")[0])
    notify = getattr(module, NOTICE_FUNCTION, None)
    if notify is not None and not callable(notify):
        raise Misconfigured(f"FULFILLMENT_HOOK's module defines {NOTICE_FUNCTION}, but not as a function")
    return notify


def dispute_lost(kind: Literal["order", "invoice"], record: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """The claim key and notice for a lost dispute the seller should hear of, or None. Pure.

    An order lost before it was fulfilled was never fulfilled (the dispute held it back): nothing to
    take back. A renewal invoice has no fulfilment: its loss is always news."""
    if record.get("status") != "dispute_lost" or (kind == "order" and record.get("done_at") is None):
        return None
    dispute = record.get("dispute") or {}
    record_id = record["session_id"] if kind == "order" else record["invoice_id"]
    view = {k: v for k, v in public_view(record).items() if k != "held"}  # an invoice's bookkeeping
    return (notice_key("dispute_lost", record_id, str(dispute.get("id"))),
            {"kind": "dispute_lost", kind: view, "dispute": dispute})


def subscription_notice(notice: dict[str, Any], subscription: dict[str, Any]) -> dict[str, Any]:
    """What the hook gets for a subscription notice: the notice, and the subscription as recorded."""
    view = {k: v for k, v in public_view(subscription).items() if k not in ("history", "fulfilled")}
    return {**notice, "subscription_id": subscription.get("subscription_id"), "subscription": view}
