"""The seller's subscription commands: list, cancel (now or at the period's end), resume.

"Resume" undoes a scheduled cancellation: the subscription then renews as before. A subscription
already canceled cannot come back; the customer subscribes again.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Protocol

from ..errors import Code, InvalidRequest, NotFound
from ..events.decide import subscription_snapshot
from ..money import format_amount

# What Stripe's list accepts; without one it lists every status but canceled.
STATUSES = ("active", "all", "canceled", "ended", "incomplete", "incomplete_expired", "past_due", "paused",
            "trialing", "unpaid")
ENDED = ("canceled", "incomplete_expired")  # what no operation can change any more


class SubscriptionGateway(Protocol):
    def list_subscriptions(self, *, status: str | None, limit: int) -> list[dict[str, Any]]: ...

    def retrieve_subscription(self, subscription_id: str) -> dict[str, Any]: ...

    def update_subscription(self, subscription_id: str, params: dict[str, Any]) -> dict[str, Any]: ...

    def cancel_subscription(self, subscription_id: str) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Row:
    id: str
    status: str
    email: str | None
    price: str  # lookup key or ID, and what it charges
    period_end: int | None
    cancel_at_period_end: bool
    cancel_at: int | None

    @classmethod
    def from_stripe(cls, sub: dict[str, Any]) -> Row:
        snapshot = subscription_snapshot(sub)
        customer = sub.get("customer")
        items = (sub.get("items") or {}).get("data") or [{}]
        price = items[0].get("price") or {}
        return cls(id=sub["id"], status=sub.get("status") or "", period_end=snapshot["current_period_end"],
                   email=customer.get("email") if isinstance(customer, dict) else None,
                   price=describe_price(price) if isinstance(price, dict) else str(price),
                   cancel_at_period_end=snapshot["cancel_at_period_end"], cancel_at=sub.get("cancel_at"))

    @property
    def next_step(self) -> str:
        if self.status in ENDED:
            return "ended"
        if self.cancel_at_period_end or self.cancel_at:
            return f"cancels {day(self.cancel_at or self.period_end)}"
        return f"{'trial ends' if self.status == 'trialing' else 'renews'} {day(self.period_end)}"

    def line(self) -> str:
        return f"{self.id:30}  {self.status:10}  {self.email or '-':28}  {self.price:34}  {self.next_step}"


def list_rows(gateway: SubscriptionGateway, *, status: str | None, limit: int) -> list[Row]:
    if limit < 1:
        raise InvalidRequest("--limit must be 1 or more.", code=Code.INVALID_LIMIT)
    return [Row.from_stripe(sub) for sub in gateway.list_subscriptions(status=status, limit=limit)]


def cancel(gateway: SubscriptionGateway, subscription_id: str, *, at_period_end: bool) -> str:
    """Cancel now, or at the end of the paid period. Returns what happened, for the seller."""
    row = Row.from_stripe(retrieve(gateway, subscription_id))
    if row.status == "canceled":
        if at_period_end:
            raise InvalidRequest(f"{subscription_id} is already canceled.", code=Code.SUBSCRIPTION_CANCELED)
        return f"{subscription_id} was already canceled."
    if at_period_end:
        if row.cancel_at_period_end:
            return f"{subscription_id} already cancels at the end of its period, {day(row.period_end)}."
        updated = Row.from_stripe(gateway.update_subscription(subscription_id, {"cancel_at_period_end": True}))
        when = day(updated.cancel_at or updated.period_end)
        return f"{subscription_id} will cancel at the end of its period, {when} (`subscriptions resume` undoes this)."
    ended = gateway.cancel_subscription(subscription_id)
    return f"{subscription_id} is {ended.get('status', 'canceled')} now; the customer will not be charged again."


def resume(gateway: SubscriptionGateway, subscription_id: str) -> str:
    """Undo a scheduled cancellation."""
    row = Row.from_stripe(retrieve(gateway, subscription_id))
    if row.status in ENDED:
        raise InvalidRequest(f"{subscription_id} is {row.status} and cannot be resumed; the customer can subscribe "
                             "again.", code=Code.SUBSCRIPTION_CANCELED)
    if row.cancel_at_period_end:
        params: dict[str, Any] = {"cancel_at_period_end": False}
    elif row.cancel_at:
        params = {"cancel_at": ""}  # a cancellation set for a date; "" clears it
    else:
        return f"{subscription_id} is not scheduled to cancel; nothing to do."
    updated = Row.from_stripe(gateway.update_subscription(subscription_id, params))
    return f"{subscription_id} will renew on {day(updated.period_end)}."


def retrieve(gateway: SubscriptionGateway, subscription_id: str) -> dict[str, Any]:
    try:
        return gateway.retrieve_subscription(subscription_id)
    except NotFound as exc:
        raise NotFound(f"Stripe has no subscription {subscription_id} (is it from the other mode, test or live?).",
                       code=Code.SUBSCRIPTION_NOT_FOUND) from exc


def describe_price(price: dict[str, Any]) -> str:
    name = price.get("lookup_key") or price.get("id") or "?"
    amount = price.get("unit_amount")
    if amount is None:
        return name
    recurring = price.get("recurring") or {}
    count, interval = recurring.get("interval_count") or 1, recurring.get("interval")
    per = "" if not interval else f"/{interval}" if count == 1 else f"/{count} {interval}s"
    return f"{name} {format_amount(amount, price.get('currency') or '')}{per}"


def day(stamp: int | None) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(stamp)) if stamp else "-"
