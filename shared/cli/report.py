"""The sales report, worked out from our own order and subscription records. Pure: the records and
the time come in, one JSON-ready dict goes out, which the terminal, `--json` and `--html` all show.

Amounts stay in each currency's minor units, per currency: nothing is ever summed across currencies.
`DEFINITIONS` says what each figure means; the report carries them, and docs/sellers.md too.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Any

from ._periods import DAY, bucket_starts, floor
from .report_subscriptions import currency_of, subscription_figures

SCHEMA = "static-checkout.report/1"
TOP = 10

DEFINITIONS = {
    "orders": "Checkout sessions created in the window that were paid. One that charged nothing (a free "
              "trial's start, a full discount) is a no-charge order: not in revenue or products, paid in conversion.",
    "gross": "What those orders charged (their amount_total).",
    "refunded": "What was refunded of them.",
    "disputed": "What is under an open dispute, or was lost in one; a won dispute gives the money back.",
    "net": "Gross less refunded and disputed.",
    "average_order_value": "Gross divided by orders.",
    "series": "Gross and net by the day (or week, Monday to Sunday, UTC) each order was paid.",
    "top_products": "Products by what their lines charged (an order's total shared among its lines) and units.",
    "conversion": "Per product: sessions paid divided by sessions that ended (paid, expired or failed); "
                  "sessions still open are left out.",
    "abandoned": "Sessions that expired unpaid, and what they would have charged.",
    "mrr": "Monthly recurring revenue: each paying subscription's prices times quantities, turned into a month "
           "(a year is 1/12, a week 52/12, a day 365/12). Paying: started, past any trial, not ended, and not "
           "unpaid, paused or incomplete. Renewal invoices are not orders: they are here.",
    "mrr_series": "MRR at the end of each day or week, from when each subscription started, left its trial and "
                  "ended, at today's prices.",
    "new": "Subscriptions that started in the month (trials included).",
    "canceled": "Subscriptions that ended in the month.",
    "churn_rate": "Of the subscriptions live at the month's start, the share that ended in it (churn_rate_30d: "
                  "the same for the last 30 days).",
    "trialing": "Subscriptions in a free trial now.",
    "past_due": "Subscriptions whose latest payment failed (past_due or unpaid), and what their open invoices ask.",
}


def build(orders: Iterable[dict[str, Any]], subscriptions: Iterable[dict[str, Any]], *, since: int, now: int,
          currency: str | None = None, bucket: str | None = None) -> dict[str, Any]:
    """The report for orders created from `since` to `now`, and subscriptions as of `now`."""
    currency = currency.lower() if currency else None
    bucket = bucket or ("day" if now - since <= 62 * DAY else "week")
    starts = bucket_starts(since, now, bucket)
    sales = _Sales(starts, bucket)
    for order in orders:
        if int(order.get("created") or 0) >= since and currency in (None, order.get("currency")):
            sales.add(order)
    subs = [s for s in subscriptions if currency in (None, currency_of(s))]
    return {
        "schema": SCHEMA, "generated_at": now, "since": since, "until": now, "bucket": bucket, "currency": currency,
        "orders": sales.revenue(), "conversion": sales.conversion(), "abandoned": sales.abandoned(),
        "subscriptions": subscription_figures(subs, starts, bucket, since=since, now=now),
        "definitions": DEFINITIONS,
    }


# --- orders ---


def ended_as(order: dict[str, Any]) -> str | None:
    """How a Checkout session ended: paid, failed or expired; None while it is still open."""
    facts = order.get("facts") or {}
    if "paid" in facts:
        return "paid"
    if "payment_failed" in facts:
        return "failed"
    return "expired" if "expired" in facts else None


def taken_back(order: dict[str, Any], amount: int) -> tuple[int, int]:
    """(refunded, disputed) of an order charging `amount`; together never more than it."""
    refund = order.get("refund") or {}
    refunded = min(in_order_currency(order, amount, refund.get("amount_refunded"), refund.get("currency"),
                                     of=refund.get("amount")), amount)
    dispute = order.get("dispute") or {}
    lost = dispute.get("open") or "lost" in (dispute.get("outcome"), dispute.get("status"))
    disputed = min(in_order_currency(order, amount, dispute.get("amount"), dispute.get("currency")),
                   amount - refunded) if dispute and lost else 0
    return refunded, disputed


def in_order_currency(order: dict[str, Any], amount: int, value: Any, currency: Any, *, of: Any = None) -> int:
    """`value` (in `currency`) as the same share of the order's `amount`. A buyer who paid in their own
    currency (Adaptive Pricing) is refunded, and disputes, in it: `of` is what they paid in it, else the
    order's `presentment` amount says."""
    value = int(value or 0)
    if not currency or currency == order.get("currency") or not value:
        return value
    presentment = order.get("presentment") or {}
    paid = of or (presentment.get("amount") if presentment.get("currency") == currency else None)
    return round(amount * value / int(paid)) if paid else value


def line_shares(order: dict[str, Any], amount: int) -> list[tuple[str, int, int]]:
    """(product, share of the order's amount, units) per line: an order's total, shared among its lines in
    proportion to what each lists (so a trial or a discount leaves the products' sum equal to the total)."""
    lines = order.get("line_items") or [{}]
    listed = [max(int(line.get("amount_total") or 0), 0) for line in lines]
    whole = sum(listed)
    shares = [amount * part // whole if whole else (amount if i == 0 else 0) for i, part in enumerate(listed)]
    shares[-1] += amount - sum(shares)
    return [(product_of(line), share, int(line.get("quantity") or 1))
            for line, share in zip(lines, shares, strict=True)]


def product_of(line: dict[str, Any]) -> str:
    return str(line.get("description") or line.get("price") or "(no line items)")


class _Sales:
    def __init__(self, starts: list[int], bucket: str) -> None:
        self.starts, self.bucket = starts, bucket
        self.index = {start: i for i, start in enumerate(starts)}
        self.totals: dict[str, Counter[str]] = defaultdict(Counter)
        self.series: dict[str, list[Counter[str]]] = {}
        self.products: dict[str, dict[str, Counter[str]]] = defaultdict(lambda: defaultdict(Counter))
        self.ended: dict[str, Counter[str]] = defaultdict(Counter)
        self.lost_value: dict[str, Counter[str]] = defaultdict(Counter)  # product -> currency -> value
        self.abandoned_sessions = 0
        self.abandoned_value: Counter[str] = Counter()

    def add(self, order: dict[str, Any]) -> None:
        outcome = ended_as(order)
        if outcome is None:
            return
        currency = str(order.get("currency") or "")
        amount = max(int(order.get("amount_total") or 0), 0)
        shares = line_shares(order, amount)
        for product, share, _ in shares:
            self.ended[product][outcome] += 1
            if outcome == "expired":
                self.lost_value[product][currency] += share
        if outcome == "expired":
            self.abandoned_sessions += 1
            self.abandoned_value[currency] += amount
        if outcome != "paid":
            return
        totals = self.totals[currency]
        if amount == 0:
            totals["no_charge_orders"] += 1
            return
        refunded, disputed = taken_back(order, amount)
        net = amount - refunded - disputed
        totals.update(orders=1, gross=amount, refunded=refunded, disputed=disputed, net=net)
        paid_at = int((order.get("facts") or {})["paid"])
        if currency not in self.series:
            self.series[currency] = [Counter() for _ in self.starts]
        series = self.series[currency]
        slot = self.index.get(floor(paid_at, self.bucket))
        if slot is None:  # paid outside the window it was created in: the nearest end of it
            slot = 0 if paid_at < self.starts[0] else len(self.starts) - 1
        series[slot].update(orders=1, gross=amount, net=net)
        for product, share, units in shares:
            self.products[currency][product].update(revenue=share, units=units)

    def revenue(self) -> dict[str, Any]:
        report = {}
        for currency in sorted(self.totals):
            t = self.totals[currency]
            products: list[dict[str, Any]] = [{"product": name, "revenue": c["revenue"], "units": c["units"]}
                                              for name, c in self.products[currency].items()]
            series = self.series.get(currency) or [Counter() for _ in self.starts]
            report[currency] = {
                "orders": t["orders"], "no_charge_orders": t["no_charge_orders"], "gross": t["gross"],
                "refunded": t["refunded"], "disputed": t["disputed"], "net": t["net"],
                "average_order_value": round(t["gross"] / t["orders"]) if t["orders"] else None,
                "series": [{"start": start, "gross": c["gross"], "net": c["net"], "orders": c["orders"]}
                           for start, c in zip(self.starts, series, strict=True)],
                "top_products": sorted(products, key=lambda p: (-p["revenue"], -p["units"], p["product"]))[:TOP],
                "top_products_by_units": sorted(products, key=lambda p: (-p["units"], -p["revenue"],
                                                                         p["product"]))[:TOP],
            }
        return report

    def conversion(self) -> list[dict[str, Any]]:
        rows = []
        for product, c in self.ended.items():
            ended = c["paid"] + c["expired"] + c["failed"]
            rows.append({"product": product, "paid": c["paid"], "expired": c["expired"], "failed": c["failed"],
                         "ended": ended, "rate": round(c["paid"] / ended, 4) if ended else None,
                         "abandoned_value": dict(sorted((k, v) for k, v in self.lost_value[product].items() if v))})
        return sorted(rows, key=lambda r: (-r["ended"], r["product"]))

    def abandoned(self) -> dict[str, Any]:
        return {"sessions": self.abandoned_sessions,
                "value": dict(sorted((k, v) for k, v in self.abandoned_value.items() if v))}
