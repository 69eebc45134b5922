"""The table's schema, in one place: how each kind of item is keyed, the indexes and the named queries.

Every item lives in one table under a string key `pk`. Nothing outside `store/` spells a key prefix
or an index name: the rest of the code calls these functions.
"""

from __future__ import annotations

import time
from typing import Any

from .base import Item

ORDER, PAYMENT, INVOICE, SUBSCRIPTION, EVENT, NOTICE, RATE, STOCK, RESERVATION = (
    "ORDER#", "PAYMENT#", "INVOICE#", "SUB#", "EVENT#", "NOTICE#", "RATE#", "STOCK#", "RESERVATION#")


def order_key(session_id: str) -> str:
    """An order, keyed by its Checkout Session."""
    return f"{ORDER}{session_id}"


def payment_key(payment_intent: str) -> str:
    """The link from a payment intent to its order, and the changes parked there before it is known."""
    return f"{PAYMENT}{payment_intent}"


def invoice_key(invoice_id: str) -> str:
    """An invoice: the Checkout order it is the first invoice of, or (a renewal's) its own refunds and
    disputes; and the changes that reached it before its order was known."""
    return f"{INVOICE}{invoice_id}"


def subscription_key(subscription_id: str) -> str:
    return f"{SUBSCRIPTION}{subscription_id}"


def event_key(event_id: str) -> str:
    """The ledger entry that makes an event's effect happen once."""
    return f"{EVENT}{event_id}"


def notice_key(kind: str, record_id: str, about: str) -> str:
    """The claim that tells the seller's notice hook something once (e.g. a lost dispute on an order)."""
    return f"{NOTICE}{kind}#{record_id}#{about}"


def rate_key(client_hash: str, window: int) -> str:
    """One client's count in one fixed window."""
    return f"{RATE}{client_hash}#{window}"


def stock_key(ref: str) -> str:
    """A price's stock: under its lookup key when it has one (so it follows the catalog item when a new
    price takes the key), else under its ID."""
    return f"{STOCK}{ref}"


def reservation_key(reservation_id: str) -> str:
    """The units one checkout holds, from create-session until they are sold or released."""
    return f"{RESERVATION}{reservation_id}"


def is_order(key: str) -> bool:
    return key.startswith(ORDER)


INDEXES = {"by_email": ("gsi1pk", "gsi1sk"), "by_created": ("gsi2pk", "gsi2sk")}
TTL_ATTRIBUTE = "expires_at"


def table_definition(name: str) -> dict[str, Any]:
    """CreateTable arguments: the same schema `create-table` makes and `serverless.yml` declares."""
    attributes = [{"AttributeName": "pk", "AttributeType": "S"}]
    indexes = []
    for index, (hash_key, range_key) in INDEXES.items():
        attributes += [{"AttributeName": hash_key, "AttributeType": "S"},
                       {"AttributeName": range_key, "AttributeType": "S"}]
        indexes.append({
            "IndexName": index,
            "KeySchema": [{"AttributeName": hash_key, "KeyType": "HASH"},
                          {"AttributeName": range_key, "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "ALL"},
        })
    return {
        "TableName": name,
        "AttributeDefinitions": attributes,
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "GlobalSecondaryIndexes": indexes,
        "BillingMode": "PAY_PER_REQUEST",
    }


def index_attributes(key: str, item: Item) -> Item:
    """The index attributes an item carries: orders by customer email and, with subscriptions and the
    event ledger, by time (`by_created`, each kind under its own partition key); stock by its reference,
    and held reservations by when their hold ends. An attribute set to None is one to remove."""
    if key.startswith(EVENT):
        # The ledger by day, so a window is a few small Queries rather than one ever-growing
        # partition; sorted by when the event was last taken up (which its claim records).
        seen = int(item.get("seen_at") or 0)
        return {"gsi2pk": ledger_partition(seen), "gsi2sk": f"{seen:012d}#{item.get('event_id', '')}"} if seen else {}
    if key.startswith(STOCK):
        return {"gsi2pk": ALL_STOCK, "gsi2sk": key.removeprefix(STOCK)}
    if key.startswith(RESERVATION):
        # Only held reservations are indexed, by the end of their hold, for `release-stale`: the
        # attributes go (None: removed) when one is sold or released, so the index stays small.
        if "state" not in item:
            return {}
        if item["state"] != HELD:
            return {"gsi2pk": None, "gsi2sk": None}
        return {"gsi2pk": HELD_RESERVATIONS,
                "gsi2sk": f"{int(item.get('hold_until') or 0):012d}#{item.get('reservation_id', '')}"}
    if key.startswith(SUBSCRIPTION):
        if "subscription_id" not in item:
            return {}  # a partial write (a transaction's update): its index attributes stay as they are
        return {"gsi2pk": ALL_SUBSCRIPTIONS,
                "gsi2sk": f"{int(item.get('created') or 0):012d}#{item.get('subscription_id', '')}"}
    if not is_order(key) or "session_id" not in item:
        return {}  # an order's partial write (finishing its fulfilment, say) leaves its index attributes be
    sort = f"{int(item.get('created') or 0):012d}#{item.get('session_id', '')}"
    extra = {"gsi2pk": ALL_ORDERS, "gsi2sk": sort}
    if item.get("customer_email"):
        extra.update(gsi1pk=email_partition(str(item["customer_email"])), gsi1sk=sort)
    return extra


# The named queries: which index, which partition of it and, for ranges, where the sort keys start.
ALL_ORDERS, ALL_SUBSCRIPTIONS, LEDGER = "ORDERS", "SUBSCRIPTIONS", "EVENTS#"
ALL_STOCK, HELD_RESERVATIONS = "STOCKS", "RESERVATIONS#HELD"
HELD = "held"  # a reservation's state while its units are out of `available` and not yet sold
DAY = 86400


def recent_orders() -> tuple[str, str]:
    """Every order, newest first."""
    return "by_created", ALL_ORDERS


def orders_since(since: int) -> tuple[str, str, str]:
    """Orders whose Checkout Session was created at `since` or later (a range: oldest first)."""
    return "by_created", ALL_ORDERS, f"{max(since, 0):012d}"


def all_subscriptions() -> tuple[str, str, str]:
    """Every subscription record, oldest first."""
    return "by_created", ALL_SUBSCRIPTIONS, ""


def ledger_since(since: int, until: int) -> list[tuple[str, str, str]]:
    """The ledger entries taken up from `since` to `until`: one range per UTC day."""
    first, last = max(since, 0) // DAY, max(until, since, 0) // DAY
    return [("by_created", ledger_partition(day * DAY), f"{max(since, 0):012d}") for day in range(first, last + 1)]


def ledger_partition(stamp: int) -> str:
    return f"{LEDGER}{time.strftime('%Y-%m-%d', time.gmtime(stamp))}"


def all_stock() -> tuple[str, str]:
    """Every price with stock, by reference (`query_range`)."""
    return "by_created", ALL_STOCK


def held_reservations() -> tuple[str, str]:
    """Every held reservation, the one whose hold ends first first (`query_range`)."""
    return "by_created", HELD_RESERVATIONS


def orders_by_email(email: str) -> tuple[str, str]:
    """A customer's orders, newest first."""
    return "by_email", email_partition(email)


def email_partition(email: str) -> str:
    return f"EMAIL#{email.lower()}"


# What storage adds to an item, which nobody outside storage needs to see.
STORAGE_ATTRIBUTES = frozenset({"pk", "version", "claim_token", "claim_until", *(
    name for pair in INDEXES.values() for name in pair)})
