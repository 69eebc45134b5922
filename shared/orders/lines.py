"""The lines a Checkout Session sold: from its expanded `line_items`, or from the metadata create-session
recorded them in, so the webhook path knows them without calling Stripe back."""

from __future__ import annotations

from typing import Any

from .. import _json

# Metadata key under which create-session records the line items, so the webhook path knows them
# without calling Stripe back.
ITEMS_METADATA_KEY = "static_checkout_items"



def line_items_of(session: dict[str, Any]) -> list[dict[str, Any]]:
    expanded = session.get("line_items")
    if isinstance(expanded, dict) and expanded.get("data"):
        return [
            {"description": item.get("description"), "quantity": item.get("quantity"),
             "amount_total": item.get("amount_total"), "currency": item.get("currency"),
             "price": _id(item.get("price"))}
            for item in expanded["data"]
        ]
    recorded = (session.get("metadata") or {}).get(ITEMS_METADATA_KEY)
    if recorded:
        try:
            items = _json.loads(recorded.encode())
        except ValueError:
            return []
        if not isinstance(items, list):  # metadata anyone with the key can edit: not always what we wrote
            return []
        return [dict(item, currency=session.get("currency")) for item in items if isinstance(item, dict)]
    return []


def _id(value: Any) -> str | None:
    if isinstance(value, dict):
        return value.get("id")
    return value or None
