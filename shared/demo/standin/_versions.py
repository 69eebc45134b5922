"""Events as an endpoint of an older API version receives them. Stripe renders each webhook payload in
the endpoint's own version; the stand-in models the change the checkout code reads in two shapes: until
2025-03-31.basil a completed Checkout Session's shipping address was `shipping_details` at the top,
since then it is `collected_information.shipping_details`.
"""

from __future__ import annotations

import copy
from typing import Any

JSON = dict[str, Any]
BASIL = "2025-03-31"


def for_version(event: JSON, api_version: str | None) -> JSON:
    """`event` as an endpoint pinned to `api_version` gets it (None: the account's, the current one)."""
    if api_version is None or api_version[:10] >= BASIL:
        return event
    older = copy.deepcopy(event)
    obj = older["data"]["object"]
    if obj.get("object") == "checkout.session":
        collected = obj.get("collected_information") or {}
        obj["shipping_details"] = collected.pop("shipping_details", None)
    older["api_version"] = api_version
    return older
