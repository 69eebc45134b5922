"""`orders export`: each order line as a row, for accounting and packing.

One row per line of each order; an order with no lines recorded gives one row with the line columns
empty. Who bought, where it ships and the order's status are on every row, so a packing list can be
sorted or filtered by any column. The order's own money (subtotal, discount with its promotion codes,
shipping, tax, total) is on its first row only (`line` 1), so summing a column gives what was sold,
not that times the number of lines; each line's money is on its own row.

The same rows in two formats: JSONL keeps Stripe's integers in the currency's minor unit (1250, with
`currency_exponent` beside them) and lists as arrays; CSV writes amounts in the currency's units as
exact decimals ("12.50", "500" for JPY) and lists as `a; b`. Text the buyer typed that a spreadsheet
would read as a formula is written with a leading `'` in CSV.
"""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Iterable
from typing import Any, TextIO

from ..money import exponent, in_units
from ..orders.lines import LINE_FIELDS
from ..orders.sale import promotion_codes

Row = dict[str, Any]

ORDER_COLUMNS = ("order_id", "created", "status", "fulfilled", "line", "lines")
BUYER_COLUMNS = ("customer_name", "customer_email", "customer_phone", "business_name", "tax_ids",
                 "ship_name", "ship_line1", "ship_line2", "ship_city", "ship_state", "ship_postal_code",
                 "ship_country", "shipping_rate", "custom_fields", "terms_of_service")
LINE_COLUMNS = tuple(f"line_{name}" for name in LINE_FIELDS if name != "currency")
MONEY_COLUMNS = ("order_subtotal", "order_discount", "promotion_codes", "order_shipping", "order_tax",
                 "order_tax_included", "order_total")
COLUMNS = (*ORDER_COLUMNS, *BUYER_COLUMNS, "currency", "currency_exponent", *LINE_COLUMNS, *MONEY_COLUMNS)
AMOUNTS = frozenset({"line_unit_amount", "line_amount_subtotal", "line_amount_discount", "line_amount_tax",
                     "line_amount_total", *(c for c in MONEY_COLUMNS if c != "promotion_codes")})
_ORDER_MONEY = {"order_subtotal": "amount_subtotal", "order_discount": "amount_discount",
                "order_shipping": "amount_shipping", "order_tax": "amount_tax",
                "order_tax_included": "amount_tax_included", "order_total": "amount_total"}
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def rows_of(order: dict[str, Any]) -> list[Row]:
    """The order's rows, values typed as JSON has them (amounts in the minor unit)."""
    sale = order.get("sale") or {}
    # Orders recorded before the breakdown was: their seller's totals are all there is.
    sale = sale or {"currency": order.get("currency"), "amount_subtotal": order.get("amount_subtotal"),
                    "amount_total": order.get("amount_total")}
    currency = sale.get("currency")
    shipping = sale.get("shipping") or {}
    where = shipping.get("address") or {}
    lines = order.get("line_items") or [{}]
    common: Row = {
        "order_id": order.get("session_id"),
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(order["created"])) if order.get("created")
        else None,
        "status": order.get("status"),
        "fulfilled": bool(order.get("fulfilled")),
        "lines": len(order.get("line_items") or []),
        **{name: order.get(name) for name in ("customer_name", "customer_email", "customer_phone", "business_name",
                                              "tax_ids", "custom_fields")},
        "ship_name": shipping.get("name"),
        **{f"ship_{part}": where.get(part) for part in ("line1", "line2", "city", "state", "postal_code", "country")},
        "shipping_rate": shipping.get("rate_name") or shipping.get("rate"),
        "terms_of_service": (order.get("consent") or {}).get("terms_of_service"),
        "currency": currency,
        "currency_exponent": exponent(currency) if currency else None,
    }
    rows = []
    for index, line in enumerate(lines, start=1):
        row = {**common, "line": index if line else None,
               **{f"line_{name}": line.get(name) for name in LINE_FIELDS if name != "currency"}}
        first = index == 1
        row.update({column: sale.get(field) if first else None for column, field in _ORDER_MONEY.items()})
        row["promotion_codes"] = promotion_codes(sale) if first else None
        rows.append({column: row.get(column) for column in COLUMNS})
    return rows


def write_jsonl(rows: Iterable[Row], out: TextIO) -> None:
    for row in rows:
        out.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n")


def write_csv(rows: Iterable[Row], out: TextIO) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([_cell(column, row[column], row.get("currency")) for column in COLUMNS])


def _cell(column: str, value: Any, currency: str | None) -> str:
    if value is None or value == []:
        return ""
    if column in AMOUNTS and type(value) is int and currency:
        return in_units(value, currency)
    if isinstance(value, bool):
        return "true" if value else "false"
    if column == "tax_ids":
        text = "; ".join(f"{t.get('type')} {t.get('value')}" for t in value)
    elif column == "custom_fields":
        text = "; ".join(f"{f.get('key')}={f.get('value') if f.get('value') is not None else ''}" for f in value)
    elif column == "promotion_codes":
        text = "; ".join(value)
    else:
        text = str(value)
    return f"'{text}" if text.startswith(_FORMULA) else text
