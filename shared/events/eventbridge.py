"""Stripe events delivered through Amazon EventBridge (Stripe's event destinations) instead of a webhook.

Stripe puts each event, whole, in the `detail` of an EventBridge event on a partner event bus. AWS
authenticates that path (only Stripe writes to its partner source, and only our rule invokes the
function), so there is no signature to check; the source is still checked, so a rule pointed at the
wrong bus fails loudly. From there it is the webhook's own path: the same ledger, records and
fulfilment, exactly once. A failure raises, and EventBridge's retries (and the function's
on-failure destination) take it from there, as Stripe's retries do for webhooks.
"""

from __future__ import annotations

from typing import Any

from ..errors import Code, InvalidRequest
from ..orders.fulfilment import Fulfiller
from ..store.base import Store
from .intake import check_event, process

STRIPE_SOURCE_PREFIX = "aws.partner/stripe.com"


def handle(envelope: dict[str, Any], store: Store, fulfiller: Fulfiller, *, lease_seconds: int,
           restock_on_refund: bool = False) -> dict[str, str]:
    source = envelope.get("source")
    if not isinstance(source, str) or not source.startswith(STRIPE_SOURCE_PREFIX):
        raise InvalidRequest("Not a Stripe event source.", code=Code.INVALID_SOURCE)
    event = check_event(envelope.get("detail"), "The EventBridge detail")
    outcome = process(event, store, fulfiller, lease_seconds=lease_seconds, source="eventbridge",
                      restock_on_refund=restock_on_refund)
    return {"event_id": event["id"], "outcome": outcome}
