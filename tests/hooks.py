"""A seller's fulfilment hook, as `FULFILLMENT_HOOK=tests.hooks:grant_access` names it, and the notice hook
its module may define (`on_notice`)."""

from typing import Any

granted: list[str] = []
told: list[dict[str, Any]] = []


def grant_access(order: dict[str, Any]) -> None:
    granted.append(order["session_id"])


def on_notice(notice: dict[str, Any]) -> None:
    told.append(notice)


not_callable = 42
