"""A seller's fulfilment hook, as `FULFILLMENT_HOOK=tests.hooks:grant_access` names it."""

from typing import Any

granted: list[str] = []


def grant_access(order: dict[str, Any]) -> None:
    granted.append(order["session_id"])


not_callable = 42
