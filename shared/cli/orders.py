"""`orders`: the recent orders, one order whole (`orders show`), and every order line for accounting and
packing (`orders export`). What a row holds is in `order_rows.py`; this reads the table and prints."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import TYPE_CHECKING, Any, TextIO

from ..money import format_amount
from ..orders import sale
from ..orders.model import public_view
from ..store.keys import order_key, orders_since, recent_orders
from . import order_rows

if TYPE_CHECKING:
    from ..web.services import Services


def add_command(commands: Any) -> None:
    """`orders [--status S] [--limit N] [--json]`, `orders show SESSION_ID`, `orders export`."""
    from .main import parse_window

    orders = commands.add_parser("orders", help="recent orders; `show` one whole; `export` their lines")
    orders.add_argument("--status")
    orders.add_argument("--limit", type=int, default=20)
    orders.add_argument("--json", action="store_true")
    actions = orders.add_subparsers(dest="action")
    show = actions.add_parser("show", help="one order: its lines, breakdown, buyer and shipping")
    show.add_argument("session_id", metavar="SESSION_ID")
    show.add_argument("--json", action="store_true", help="the order as stored (what FULFILLMENT_HOOK gets)")
    export = actions.add_parser("export", help="one row per order line, oldest order first, to stdout")
    export.add_argument("--since", type=parse_window, help="orders created in this window, e.g. 30d (default: all)")
    export.add_argument("--status", help="only orders with this status, e.g. paid")
    export.add_argument("--format", choices=("csv", "jsonl"), default="csv",
                        help="csv: amounts in the currency's units (12.50); jsonl: in its minor unit (1250)")


def run(services: Services, args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    if args.action == "show":
        return _show(services, args, out)
    if args.action == "export":
        since = int(time.time()) - args.since if args.since else 0
        index, partition, start = orders_since(since)
        orders = services.store.query_range(index, partition, start=start)
        wanted = (o for o in orders if args.status in (None, o.get("status")))
        writer = order_rows.write_csv if args.format == "csv" else order_rows.write_jsonl
        writer((row for order in wanted for row in order_rows.rows_of(public_view(order))), out)
        return 0
    return _list(services, args, out)


def _list(services: Services, args: argparse.Namespace, out: TextIO) -> int:
    # Newest first; a status filter reads further back to fill the page.
    items = services.store.query(*recent_orders(), limit=1000 if args.status else args.limit)
    rows = [public_view(o) for o in items if args.status in (None, o.get("status"))][: args.limit]
    if args.json:
        print(json.dumps(rows, indent=2, default=str), file=out)
        return 0
    for row in rows:
        when = time.strftime("%Y-%m-%d %H:%M", time.gmtime(row.get("created") or 0))
        amount = format_amount(row.get("amount_total"), row.get("currency"))
        print(f"{when}  {row['session_id'][:28]:28}  {row.get('status', ''):18}  {amount:>14}  "
              f"{'fulfilled' if row['fulfilled'] else '':9}  {row.get('customer_email') or ''}", file=out)
    if not rows:
        print("No orders.", file=out)
    return 0


def _show(services: Services, args: argparse.Namespace, out: TextIO) -> int:
    item = services.store.get(order_key(args.session_id))
    if item is None:
        print(f"orders: no order for {args.session_id}", file=sys.stderr)
        return 1
    order = public_view(item)
    if args.json:
        print(json.dumps(order, indent=2, default=str), file=out)
    else:
        print(show_text(order), file=out)
    return 0


def show_text(order: dict[str, Any]) -> str:
    """One order as a person reads it: what, who, where to, and what it added up to."""
    breakdown = order.get("sale") or {}
    currency = breakdown.get("currency") or order.get("currency")
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(order.get("created") or 0))
    text = [f"Order {order['session_id']}", f"  {order.get('status', 'open')}"
            f"{', fulfilled' if order.get('fulfilled') else ''}; created {when}; {order.get('mode') or ''}"]
    who = ", ".join(part for part in (order.get("customer_name"), order.get("customer_email"),
                                      order.get("customer_phone"), order.get("business_name")) if part)
    if who:
        text.append(f"Customer: {who}")
    for tax_id in order.get("tax_ids") or []:
        text.append(f"Tax ID: {tax_id.get('type')} {tax_id.get('value')}")
    for field in order.get("custom_fields") or []:
        shown = field.get("value_label") or field.get("value")
        text.append(f"{field.get('label') or field.get('key')}: {shown if shown is not None else '-'}")
    for name, value in (order.get("consent") or {}).items():
        text.append(f"Consent, {name.replace('_', ' ')}: {value}")
    ship_to = sale.address_lines(breakdown.get("shipping"))
    if ship_to:
        rate = (breakdown.get("shipping") or {}).get("rate_name") or (breakdown.get("shipping") or {}).get("rate")
        text += ["Ships to:" + (f" ({rate})" if rate else ""), *(f"  {line}" for line in ship_to)]
    text.append("")
    for item in order.get("line_items") or []:
        line_currency = item.get("currency") or currency
        extra = ", ".join(f"{label} {format_amount(item[name], line_currency)}"
                          for label, name in (("discount", "amount_discount"), ("tax", "amount_tax"))
                          if item.get(name))
        unit = f" at {format_amount(item['unit_amount'], line_currency)}" if item.get("unit_amount") is not None \
            else ""
        text.append(f"  {item.get('quantity')} × {item.get('description') or item.get('price')}{unit}: "
                    f"{format_amount(item.get('amount_subtotal'), line_currency)}" + (f" ({extra})" if extra else ""))
    text += [f"{label}: {format_amount(amount, currency)}" for label, amount in sale.rows(breakdown)]
    total = breakdown.get("amount_total", order.get("amount_total"))
    text.append(f"Total: {format_amount(total, currency)}")
    missed = sale.imbalance(breakdown) if breakdown else None
    if missed:
        text.append(f"Warning: subtotal − discount + shipping + tax misses Stripe's total by "
                    f"{format_amount(missed, currency)}.")
    refund = order.get("refund") or {}
    if refund.get("amount_refunded"):
        text.append(f"Refunded: {format_amount(refund['amount_refunded'], refund.get('currency'))}")
    return "\n".join(text)
