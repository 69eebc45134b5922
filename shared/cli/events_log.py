"""`python -m shared events`: what the webhook and EventBridge paths did, read from the event ledger.

The operator's log without CloudWatch: each event taken up in the window, its type, where it came
from, what became of it and the record it changed. The ledger holds what cost a write anyway (the
entry written with the event's change, a lease's end or release); a duplicate delivery is one read and
an ignored event no call at all, so neither is there: their counts are the `EventsDuplicate` and
`EventsIgnored` metrics.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass

from ..store.base import Item, Store
from ..store.keys import ledger_since

RECORDED = ("applied", "failed", "in_progress")
NOT_RECORDED = ("duplicate", "ignored")
OUTCOMES = RECORDED + NOT_RECORDED
NOT_RECORDED_NOTE = ("Duplicate deliveries and ignored events are not written to the ledger (that would cost a "
                     "DynamoDB write per delivery); their counts are the EventsDuplicate and EventsIgnored metrics.")


@dataclass(frozen=True)
class Entry:
    event_id: str
    type: str
    outcome: str  # applied, failed (released after an error, or its invocation stopped), in_progress
    source: str  # webhook, eventbridge, reconcile
    at: int  # when it was last taken up
    event_created: int | None
    done_at: int | None
    order: str | None  # the Checkout Session of the order it changed
    subscription: str | None
    invoice: str | None  # a subscription renewal's invoice (its payment, or its refund or dispute)
    payment_intent: str | None  # a refund or dispute parked until its order is known
    error: str | None  # the last failure's code, even when a retry then applied it

    @property
    def touched(self) -> str:
        if self.order:
            return f"order {self.order}"
        if self.subscription:
            return f"subscription {self.subscription}"
        if self.invoice:
            return f"invoice {self.invoice}"
        if self.payment_intent:
            return f"parked on {self.payment_intent}"
        return ""

    def line(self) -> str:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(self.at))
        what = self.touched if self.outcome == "applied" else self.error or ""
        if self.outcome == "applied" and self.error:
            what += f" (after a failure: {self.error})"
        return f"{when}  {self.event_id:30}  {self.type:40}  {self.outcome:11}  {self.source:11}  {what}"


def outcome_of(item: Item, now: int) -> str:
    if item.get("done_at") is not None:
        return "applied"
    if int(item.get("claim_until") or 0) >= now:
        return "in_progress"
    return "failed"  # released after an error, or its invocation stopped and the lease ran out


def entries(items: Iterable[Item], *, now: int, outcome: str | None = None) -> list[Entry]:
    """Ledger items as entries, newest first, optionally of one outcome. Pure."""
    found = []
    for item in items:
        result = outcome_of(item, now)
        entry = Entry(
            event_id=str(item.get("event_id") or ""), type=str(item.get("type") or ""), outcome=result,
            source=str(item.get("source") or ""), at=int(item.get("seen_at") or 0),
            event_created=item.get("event_created"), done_at=item.get("done_at"), order=item.get("order"),
            subscription=item.get("subscription"), invoice=item.get("invoice"),
            payment_intent=item.get("payment_intent"),
            error=item.get("last_error") or ("lease_expired" if result == "failed" else None))
        if outcome in (None, entry.outcome):
            found.append(entry)
    return sorted(found, key=lambda e: (e.at, e.event_id), reverse=True)


def read(store: Store, *, since: int, until: int) -> Iterator[Item]:
    """Every ledger entry taken up in the window, a day's partition at a time."""
    for index, partition, start in ledger_since(since, until):
        yield from store.query_range(index, partition, start=start)


def summary(found: list[Entry], since: int) -> str:
    counts = Counter(entry.outcome for entry in found)
    window = time.strftime("%Y-%m-%d %H:%M", time.gmtime(since))
    return (f"{counts['applied']} applied, {counts['failed']} failed, {counts['in_progress']} in progress "
            f"since {window} UTC.")


def as_json(found: list[Entry]) -> list[dict[str, object]]:
    return [asdict(entry) for entry in found]
