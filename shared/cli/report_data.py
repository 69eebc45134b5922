"""What the sales report reads: our own records, with paginated Queries, never Stripe.

Only the attributes the report uses are asked for (an order's history, for one, is not): half the bytes
to receive and parse.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..store.base import Item, Store
from ..store.keys import all_subscriptions
from ..store.keys import orders_since as orders_range

ORDER_ATTRIBUTES = ("created", "currency", "amount_total", "presentment", "facts", "refund", "dispute",
                    "line_items")
SUBSCRIPTION_ATTRIBUTES = ("subscription_id", "status", "currency", "items", "created", "start_date", "trial_end",
                           "ended_at", "canceled_at", "latest_invoice")


def orders_since(store: Store, since: int) -> Iterator[Item]:
    """Orders whose Checkout Session was created at `since` or later, oldest first, a page at a time."""
    index, partition, start = orders_range(since)
    return store.query_range(index, partition, start=start, attributes=ORDER_ATTRIBUTES)


def subscriptions(store: Store) -> Iterator[Item]:
    """Every subscription record: MRR and churn need the ones that started before the window too."""
    index, partition, start = all_subscriptions()
    return store.query_range(index, partition, start=start, attributes=SUBSCRIPTION_ATTRIBUTES)
