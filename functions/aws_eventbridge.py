"""AWS Lambda, invoked by an EventBridge rule on Stripe's partner event bus (see serverless.yml).
Its first invocation runs with the garbage collector paused (functions/coldstart.py)."""

from typing import Any

from functions.coldstart import first_call_without_gc
from shared import telemetry
from shared.events.eventbridge import handle
from shared.web.services import Services

services = Services()  # built lazily on the first event, then kept while the container is warm


@first_call_without_gc
def handler(event: dict[str, Any], context: Any) -> dict[str, str]:
    try:
        return handle(event, services.store, services.fulfiller,
                      lease_seconds=services.settings.event_lease_seconds,
                      restock_on_refund=services.checkout_options.restock_on_refund)
    finally:
        telemetry.flush()
