"""WHO → one subscription: the seller names a subscription by its ID or by its customer's email.

An email is looked up in our own orders first (the `by_email` index: every Checkout this customer
finished, and the Stripe customer each made), then, for customers who never bought through our
pages (or when the table cannot be reached), in Stripe's customer search. Their subscriptions come
from Stripe, so statuses are current. Exactly one live subscription is the answer; several are listed
for the seller to choose from, never guessed; none says so, naming the ended ones.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from ..errors import Code, InvalidRequest, NotFound, StoreUnavailable
from ..store.base import Store
from ..store.keys import orders_by_email
from .subscriptions import ENDED, Row

MAX_PER_CUSTOMER = 100


class LookupGateway(Protocol):
    def search_customers(self, email: str) -> list[dict[str, Any]]: ...

    def list_subscriptions(self, *, status: str | None, limit: int, customer: str | None = None
                           ) -> list[dict[str, Any]]: ...


def is_email(who: str) -> bool:
    name, at, domain = who.partition("@")
    return bool(name and at and "." in domain)


def find_subscription(who: str, *, store: Store, gateway: LookupGateway) -> str:
    """The ID of the one live subscription `who` (an ID or an email) names."""
    who = who.strip()
    if who.startswith("sub_"):
        return who
    if not is_email(who):
        raise InvalidRequest(f"{who!r} is neither a subscription ID (sub_…) nor an email.",
                             code=Code.INVALID_SUBSCRIPTION)
    try:
        customers = customers_in_orders(store.query_range(*orders_by_email(who)))
    except StoreUnavailable:  # no table within reach (a laptop without AWS credentials): Stripe knows too
        customers = []
    if not customers:
        customers = [c["id"] for c in gateway.search_customers(who)]
    if not customers:
        raise NotFound(f"No customer with the email {who}: not in our orders, and not in Stripe's customer search "
                       "(which takes up to a minute to see a new customer).", code=Code.CUSTOMER_NOT_FOUND)
    subscriptions = [sub for customer in customers
                     for sub in gateway.list_subscriptions(status="all", limit=MAX_PER_CUSTOMER, customer=customer)]
    return choose(who, subscriptions)


def customers_in_orders(orders: Iterable[dict[str, Any]]) -> list[str]:
    """The Stripe customers a buyer's orders name, newest first, each once."""
    seen: dict[str, None] = {}
    for order in sorted(orders, key=lambda o: o.get("created") or 0, reverse=True):
        if order.get("customer"):
            seen.setdefault(str(order["customer"]))
    return list(seen)


def choose(who: str, subscriptions: list[dict[str, Any]]) -> str:
    """The one live subscription, or an error listing what there is. Pure."""
    live = [sub for sub in subscriptions if sub.get("status") not in ENDED]
    if len(live) == 1:
        return str(live[0]["id"])
    if live:
        listing = "\n".join(f"  {Row.from_stripe(sub).line()}" for sub in live)
        raise InvalidRequest(f"{who} has {len(live)} live subscriptions; name one by its ID:\n{listing}",
                             code=Code.AMBIGUOUS_CUSTOMER)
    ended = ", ".join(f"{sub['id']} ({sub.get('status')})" for sub in subscriptions)
    raise NotFound(f"{who} has no live subscription" + (f"; ended: {ended}." if ended else "."),
                   code=Code.SUBSCRIPTION_NOT_FOUND)
