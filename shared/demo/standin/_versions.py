"""Events as an endpoint of an older API version receives them. Stripe renders each webhook payload in
the endpoint's own version; the stand-in models the changes the checkout and webhook code read in two
shapes. Until 2025-03-31.basil:
- a completed Checkout Session's shipping address was `shipping_details` at the top (since:
  `collected_information.shipping_details`);
- an invoice named its `subscription` and its `payment_intent` at the top (since: the subscription under
  `parent.subscription_details`, the payment in its `payments` list, which webhooks do not include, and
  in an `invoice_payment.paid` event, a type older endpoints never get);
- a subscription had its `current_period_start`/`_end` at the top (since: on its items).
"""

from __future__ import annotations

import copy
from typing import Any

JSON = dict[str, Any]
BASIL = "2025-03-31"


def for_version(event: JSON, api_version: str | None, invoice_payments: dict[str, JSON]) -> JSON | None:
    """`event` as an endpoint pinned to `api_version` gets it (None: the account's, the current one), or
    None when that version has no such event. `invoice_payments`: the stand-in's, by invoice id."""
    if api_version is None or api_version[:10] >= BASIL:
        return event
    if event["type"].startswith("invoice_payment."):
        return None
    older = copy.deepcopy(event)
    obj = older["data"]["object"]
    if obj.get("object") == "checkout.session":
        collected = obj.get("collected_information") or {}
        obj["shipping_details"] = collected.pop("shipping_details", None)
    elif obj.get("object") == "invoice":
        details = (obj.pop("parent", None) or {}).get("subscription_details") or {}
        paid = invoice_payments.get(obj["id"]) or {}
        obj.update(subscription=details.get("subscription"),
                   subscription_details={"metadata": details.get("metadata") or {}},
                   payment_intent=(paid.get("payment") or {}).get("payment_intent"))
    elif obj.get("object") == "subscription":
        items = obj["items"]["data"]
        obj.update(current_period_start=min(i["current_period_start"] for i in items),
                   current_period_end=max(i["current_period_end"] for i in items))
    older["api_version"] = api_version
    return older
