"""The lines a Checkout Session sold, in one shape whatever told us: the session's expanded `line_items`
(a session read back from Stripe), or the metadata create-session recorded them in, so the webhook path
knows them without calling Stripe back. This module is the one place that knows both. Pure.

A line: `description`, `price` (its id), `unit_amount`, `quantity`, `currency`, and Stripe's four line
amounts: `amount_subtotal` (price × quantity, before discounts and taxes), `amount_discount`,
`amount_tax` and `amount_total`. What the source does not tell is None: the metadata records the
subtotal only, so a line's discount, tax and total are known from it only when the whole session had
no discount and no tax (then they are 0, 0 and the subtotal, exactly). The success page's read of the
session (`events/recovery.py`) fills in the rest.

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
from ..money import session_amounts
from ._read import ident, text, whole

# Metadata key under which create-session records the line items, so the webhook path knows them
# without calling Stripe back; the pieces after the first add `_2`, `_3`, …
ITEMS_METADATA_KEY = "static_checkout_items"
METADATA_VALUE_LIMIT = 500  # Stripe's, per value
# Stripe takes 50 keys; 20 lines of the longest price IDs and names need fewer than 35 (tests/test_cart.py).
MAX_ITEMS_KEYS = 40

LINE_FIELDS = ("description", "price", "unit_amount", "quantity", "currency",
               "amount_subtotal", "amount_discount", "amount_tax", "amount_total")

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
    """The session's lines: from its expanded line items when it has them, else from our record."""
    if has_expanded_lines(session):
        return [_expanded_line(item) for item in session["line_items"]["data"] if isinstance(item, dict)]
    recorded = recorded_items(session.get("metadata") or {})
    if not recorded:
        return []
    try:
        items = _json.loads(recorded.encode())
    except ValueError:
        return []
    if not isinstance(items, list):  # metadata anyone with the key can edit: not always what we wrote
        return []
    plain = _without_discount_or_tax(session)
    # Recorded in the price's currency: the seller's, which older API versions moved to
    # `currency_conversion` when the buyer paid in another.
    currency = session_amounts(session)["currency"]
    return [_recorded_line(item, currency, plain) for item in items if isinstance(item, dict)]


def has_expanded_lines(session: dict[str, Any]) -> bool:
    """Whether the session came with its line items (read back from Stripe, expanded), not only our record:
    then it knows each line's discount and tax."""
    expanded = session.get("line_items")
    # A list with more to come is the first page only: not the whole sale.
    return isinstance(expanded, dict) and bool(expanded.get("data")) and not expanded.get("has_more")


def _expanded_line(item: dict[str, Any]) -> dict[str, Any]:
    price = item.get("price")
    return {
        "description": text(item.get("description")),
        "price": ident(price),
        "unit_amount": whole(price.get("unit_amount")) if isinstance(price, dict) else None,
        "quantity": whole(item.get("quantity")),
        "currency": text(item.get("currency")),
        **{name: whole(item.get(name)) for name in ("amount_subtotal", "amount_discount", "amount_tax",
                                                     "amount_total")},
    }


def _recorded_line(item: dict[str, Any], currency: Any, plain: bool) -> dict[str, Any]:
    quantity = whole(item.get("quantity"))
    # create-session records price × quantity as `amount_total`: the line's subtotal, before any
    # discount or tax Checkout adds.
    subtotal = whole(item.get("amount_subtotal", item.get("amount_total")))
    unit = whole(item.get("unit_amount"))
    if unit is None and subtotal is not None and quantity and subtotal % quantity == 0:
        unit = subtotal // quantity
    return {
        "description": text(item.get("description")),
        "price": text(item.get("price")),
        "unit_amount": unit,
        "quantity": quantity,
        "currency": text(currency),
        "amount_subtotal": subtotal,
        "amount_discount": 0 if plain and subtotal is not None else None,
        "amount_tax": 0 if plain and subtotal is not None else None,
        "amount_total": subtotal if plain else None,
    }


def _without_discount_or_tax(session: dict[str, Any]) -> bool:
    """Whether Stripe says the session had neither a discount nor a tax (so each line's total is its subtotal)."""
    totals = session.get("total_details")
    if not isinstance(totals, dict):
        # Stripe sends the breakdown with every session that has lines; a session without one (a sample
        # event, `trigger`'s) charged its lines at their price.
        return totals is None
    return not totals.get("amount_discount") and not totals.get("amount_tax")


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
