"""The sales report for a terminal: aligned tables, small sparklines, the definitions underneath."""

from __future__ import annotations

import textwrap
import time
from collections.abc import Sequence
from typing import Any

from ..money import format_amount

BARS = "▁▂▃▄▅▆▇█"
SPARK_WIDTH = 40


def sparkline(values: Sequence[float], *, level: bool = False) -> str:
    """One character per value, scaled to the largest. Longer series are squeezed to SPARK_WIDTH: flows
    (revenue) add up within a group, levels (MRR) keep each group's last value."""
    values = squeeze(values, SPARK_WIDTH, level=level)
    top = max(values, default=0)
    if top <= 0:
        return BARS[0] * len(values)
    return "".join(BARS[0] if v <= 0 else BARS[max(1, min(7, round(v / top * 7)))] for v in values)


def squeeze(values: Sequence[float], width: int, *, level: bool) -> list[float]:
    if len(values) <= width:
        return list(values)
    size = -(-len(values) // width)
    groups = [values[i:i + size] for i in range(0, len(values), size)]
    return [group[-1] if level else sum(group) for group in groups]


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], *, left: int = 1) -> str:
    """Columns padded to their widest cell; the first `left` columns flush left, numbers flush right."""
    cells = [[str(c) for c in headers]] + [[("" if c is None else str(c)) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = []
    for row in cells:
        parts = [cell.ljust(width) if i < left else cell.rjust(width) for i, (cell, width) in
                 enumerate(zip(row, widths, strict=True))]
        lines.append("  ".join(parts).rstrip())
    return "\n".join(lines)


def percent(rate: float | None) -> str:
    return "-" if rate is None else f"{rate * 100:.1f}%"


def day(stamp: int) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(stamp))


def render(report: dict[str, Any]) -> str:
    scope = f", {report['currency'].upper()} only" if report["currency"] else ""
    parts = [f"Sales report: orders created {day(report['since'])} to {day(report['until'])} (UTC), "
             f"by {report['bucket']}{scope}"]
    parts += [_revenue(report), _products(report), _conversion(report), _subscriptions(report), _definitions(report)]
    return "\n\n".join(part for part in parts if part)


def _revenue(report: dict[str, Any]) -> str:
    rows = []
    for currency, r in report["orders"].items():
        money = [format_amount(r[k], currency) for k in ("gross", "refunded", "disputed", "net")]
        rows.append([currency.upper(), r["orders"], r["no_charge_orders"], *money,
                     format_amount(r["average_order_value"], currency),
                     sparkline([point["net"] for point in r["series"]])])
    if not rows:
        return "Orders\nNo paid orders in this window."
    headers = ["currency", "orders", "no-charge", "gross", "refunded", "disputed", "net", "average",
               f"net by {report['bucket']}"]
    return "Orders\n" + table(headers, rows)


def _products(report: dict[str, Any]) -> str:
    blocks = []
    for currency, r in report["orders"].items():
        for key, title in product_tables(r):
            rows = [[p["product"][:40], format_amount(p["revenue"], currency), p["units"]] for p in r[key]]
            if rows:
                heading = f"Top products {title}, {currency.upper()}"
                blocks.append(f"{heading}\n" + table(["product", "revenue", "units"], rows))
    return "\n\n".join(blocks)


def _conversion(report: dict[str, Any]) -> str:
    rows = [[c["product"][:40], c["paid"], c["expired"], c["failed"], percent(c["rate"]),
             ", ".join(format_amount(v, k) for k, v in c["abandoned_value"].items()) or "-"]
            for c in report["conversion"]]
    if not rows:
        return "Conversion\nNo Checkout session ended in this window."
    abandoned = report["abandoned"]
    value = ", ".join(format_amount(v, k) for k, v in abandoned["value"].items()) or "nothing"
    headers = ["product", "paid", "expired", "failed", "rate", "abandoned value"]
    return (f"Conversion per product\n{table(headers, rows)}\n"
            f"Abandoned: {abandoned['sessions']} session(s) expired unpaid, worth {value}.")


def _subscriptions(report: dict[str, Any]) -> str:
    subs = report["subscriptions"]
    lines = ["Subscriptions"]
    mrr_rows = [[currency.upper(), format_amount(subs["mrr"].get(currency, 0), currency),
                 sparkline([p["mrr"] for p in series], level=True)] for currency, series in subs["mrr_series"].items()]
    if mrr_rows:
        lines.append(table(["currency", "MRR", f"MRR by {report['bucket']}"], mrr_rows))
    counts = subs["counts"]
    past_due = subs["past_due"]
    due = ", ".join(format_amount(v, k) for k, v in past_due["amount_due"].items())
    lines.append(f"active {counts.get('active', 0)}, trialing {subs['trialing']}, past due {past_due['subscriptions']}"
                 f"{f' (owing {due})' if due else ''}, canceled {counts.get('canceled', 0)}; "
                 f"churn over the last 30 days {percent(subs['churn_rate_30d'])}")
    if subs["unpriced"]:
        lines.append(f"{subs['unpriced']} paying subscription(s) left out of MRR: their records predate price amounts "
                     "(the next subscription event fills them in).")
    months = [[m["month"], m["new"], m["canceled"], m["active_at_start"], percent(m["churn_rate"])]
              for m in subs["months"]]
    if months:
        lines.append(table(["month", "new", "canceled", "live at start", "churn"], months))
    return "\n".join(lines)


def _definitions(report: dict[str, Any]) -> str:
    wrapped = [textwrap.fill(f"{name}: {text}", width=110, subsequent_indent="    ")
               for name, text in report["definitions"].items()]
    return "Definitions\n" + "\n".join(wrapped)


def product_tables(revenue: dict[str, Any]) -> list[tuple[str, str]]:
    """The top products by revenue, and by units when that order differs."""
    tables = [("top_products", "by revenue")]
    names = [[p["product"] for p in revenue[key]] for key in ("top_products", "top_products_by_units")]
    return tables + ([("top_products_by_units", "by units")] if names[0] != names[1] else [])
