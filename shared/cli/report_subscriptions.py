"""The report's subscription figures: MRR now and over time, new and ended per month, churn, trials and
failed payments. Pure, from our subscription records (see `report.DEFINITIONS`)."""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from typing import Any

from ._periods import DAY, month_starts, next_month

# Statuses whose subscriptions never count as paying: never paid, or stopped without ending.
NOT_PAYING = ("incomplete", "incomplete_expired", "unpaid", "paused")
NEVER_STARTED = ("incomplete", "incomplete_expired")
_PER_MONTH = {"day": 365 / 12, "week": 52 / 12, "month": 1.0, "year": 1 / 12}


def currency_of(sub: dict[str, Any]) -> str | None:
    items = sub.get("items") or []
    return sub.get("currency") or (items[0].get("currency") if items else None)


def monthly(sub: dict[str, Any]) -> float | None:
    """The subscription's prices times quantities, as a month's worth; None when a price is unknown."""
    items = sub.get("items") or []
    if not items:
        return None
    total = 0.0
    for item in items:
        per = _PER_MONTH.get(str(item.get("interval")))
        if item.get("unit_amount") is None or per is None:
            return None
        total += int(item["unit_amount"]) * int(item.get("quantity") or 1) * per / int(item.get("interval_count") or 1)
    return total


def started(sub: dict[str, Any]) -> int:
    return int(sub.get("start_date") or sub.get("created") or 0)


def ended(sub: dict[str, Any]) -> int | None:
    """When it ended; records from before `ended_at` was kept fall back to `canceled_at`."""
    if sub.get("ended_at"):
        return int(sub["ended_at"])
    if sub.get("status") in ("canceled", "incomplete_expired") and sub.get("canceled_at"):
        return int(sub["canceled_at"])
    return None


def paying_span(sub: dict[str, Any], now: int) -> tuple[int, int | None] | None:
    """From when to when (None: still) the subscription paid; None if it never did."""
    if sub.get("status") in NOT_PAYING:
        return None
    start = max(started(sub), int(sub.get("trial_end") or 0))
    if sub.get("status") == "trialing" and start <= now:
        start = now + 1  # still in a trial whose end we do not know
    end = ended(sub)
    return None if end is not None and end <= start else (start, end)


def subscription_figures(subs: list[dict[str, Any]], starts: list[int], bucket: str, *, since: int,
                         now: int) -> dict[str, Any]:
    counts = Counter(str(s.get("status") or "unknown") for s in subs)
    spans: list[tuple[int, int | None, str, float]] = []
    unpriced = 0
    failed_count, failed_due = 0, Counter[str]()
    for sub in subs:
        currency = currency_of(sub) or ""
        invoice = sub.get("latest_invoice") or {}
        if sub.get("status") in ("past_due", "unpaid"):
            failed_count += 1
            if invoice.get("status") == "payment_failed":
                failed_due[currency] += int(invoice.get("amount_due") or 0)
        amount = monthly(sub)
        span = paying_span(sub, now)
        if amount is None:
            unpriced += span is not None
        elif span is not None:
            spans.append((span[0], span[1], currency, amount))
    step = 7 * DAY if bucket == "week" else DAY
    points = [min(start + step, now) for start in starts]
    series = _mrr_series(spans, points)
    live = [s for s in subs if s.get("status") not in NEVER_STARTED]
    return {
        "counts": dict(sorted(counts.items())),
        "mrr": {currency: values[-1] for currency, values in series.items() if values and values[-1]},
        "mrr_series": {currency: [{"at": at, "mrr": value} for at, value in zip(points, values, strict=True)]
                       for currency, values in series.items()},
        "trialing": counts["trialing"],
        "past_due": {"subscriptions": failed_count, "amount_due": dict(sorted(failed_due.items()))},
        "months": _months(live, since, now),
        "churn_rate_30d": _churn(live, now - 30 * DAY, now),
        "unpriced": unpriced,
    }


def _mrr_series(spans: list[tuple[int, int | None, str, float]], points: list[int]) -> dict[str, list[int]]:
    """MRR per currency at each point: one sweep over the starts and ends, not every span at every point."""
    changes = sorted([(start, amount, currency) for start, _, currency, amount in spans] +
                     [(end, -amount, currency) for _, end, currency, amount in spans if end is not None])
    running: dict[str, float] = defaultdict(float)
    currencies = sorted({currency for _, _, currency, _ in spans})
    series: dict[str, list[int]] = {currency: [] for currency in currencies}
    i = 0
    for point in points:
        while i < len(changes) and changes[i][0] <= point:
            running[changes[i][2]] += changes[i][1]
            i += 1
        for currency in currencies:
            series[currency].append(max(round(running[currency]), 0))
    return series


def _live_at(subs: list[dict[str, Any]], moment: int) -> int:
    return sum(1 for s in subs if started(s) < moment and ((end := ended(s)) is None or end >= moment))


def _churn(subs: list[dict[str, Any]], start: int, end: int) -> float | None:
    live = _live_at(subs, start)
    gone = sum(1 for s in subs if (e := ended(s)) is not None and start <= e < end and started(s) < start)
    return round(gone / live, 4) if live else None


def _months(subs: list[dict[str, Any]], since: int, now: int) -> list[dict[str, Any]]:
    rows = []
    for start in month_starts(since, now):
        end = next_month(start)
        rows.append({
            "month": time.strftime("%Y-%m", time.gmtime(start)),
            "new": sum(1 for s in subs if start <= started(s) < end),
            "canceled": sum(1 for s in subs if (e := ended(s)) is not None and start <= e < end),
            "active_at_start": _live_at(subs, start),
            "churn_rate": _churn(subs, start, end),
        })
    return rows
