"""The lines a Checkout Session sold: from its expanded `line_items`, or from the metadata create-session
recorded them in, so the webhook path knows them without calling Stripe back.

Stripe's metadata values hold at most 500 characters, and a cart of 20 lines does not fit in one: the
lines' JSON is cut into pieces of at most 500 bytes (so the limit holds whether Stripe counts characters
or bytes), kept under `static_checkout_items`, `static_checkout_items_2`, `static_checkout_items_3`, …
A one-line purchase fits in the first, as before carts, so sessions made before them read the same.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from .. import _json

# Metadata key under which create-session records the line items, so the webhook path knows them
# without calling Stripe back; the pieces after the first add `_2`, `_3`, …
ITEMS_METADATA_KEY = "static_checkout_items"
METADATA_VALUE_LIMIT = 500  # Stripe's, per value
# Stripe takes 50 keys; 20 lines of the longest price IDs and names need fewer than 35 (tests/test_cart.py).
MAX_ITEMS_KEYS = 40


def items_key(piece: int) -> str:
    """The metadata key of the `piece`-th piece (1 for the first)."""
    return ITEMS_METADATA_KEY if piece == 1 else f"{ITEMS_METADATA_KEY}_{piece}"


ITEMS_KEYS = tuple(items_key(n) for n in range(1, MAX_ITEMS_KEYS + 1))


def items_metadata(items: list[dict[str, Any]]) -> dict[str, str]:
    """The metadata recording `items`, in as many keys as it takes."""
    text = json.dumps(items, separators=(",", ":"), ensure_ascii=False)
    pieces = _pieces(text, METADATA_VALUE_LIMIT)
    if len(pieces) > MAX_ITEMS_KEYS:  # a cart is at most 20 lines of bounded text: this is a bug of ours
        raise ValueError(f"{len(items)} lines need {len(pieces)} metadata keys")
    return {items_key(n): piece for n, piece in enumerate(pieces, start=1)}


def recorded_items(metadata: Mapping[str, Any]) -> str | None:
    """The lines' JSON as create-session recorded it: the pieces joined, in order."""
    pieces = []
    for key in ITEMS_KEYS:
        piece = metadata.get(key)
        if not isinstance(piece, str) or not piece:
            break
        pieces.append(piece)
    return "".join(pieces) or None


def line_items_of(session: dict[str, Any]) -> list[dict[str, Any]]:
    expanded = session.get("line_items")
    # An expanded list holds the first 10 lines; one with more says `has_more`, and the metadata has them all.
    if isinstance(expanded, dict) and expanded.get("data") and not expanded.get("has_more"):
        return [
            {"description": item.get("description"), "quantity": item.get("quantity"),
             "amount_total": item.get("amount_total"), "currency": item.get("currency"),
             "price": _id(item.get("price"))}
            for item in expanded["data"]
        ]
    recorded = recorded_items(session.get("metadata") or {})
    if recorded:
        try:
            items = _json.loads(recorded.encode())
        except ValueError:
            return []
        if not isinstance(items, list):  # metadata anyone with the key can edit: not always what we wrote
            return []
        return [dict(item, currency=session.get("currency")) for item in items if isinstance(item, dict)]
    return []


def _pieces(text: str, limit: int) -> list[str]:
    """`text` cut into pieces of at most `limit` UTF-8 bytes, never inside a character."""
    pieces: list[str] = []
    start, size = 0, 0
    for index, char in enumerate(text):
        width = len(char.encode("utf-8", "surrogatepass"))
        if size + width > limit:
            pieces.append(text[start:index])
            start, size = index, 0
        size += width
    pieces.append(text[start:])
    return [piece for piece in pieces if piece]


def _id(value: Any) -> str | None:
    if isinstance(value, dict):
        return value.get("id")
    return value or None
