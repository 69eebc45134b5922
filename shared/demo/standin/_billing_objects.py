"""Builders for the billing objects (customers, subscriptions, portal sessions, webhook endpoints),
from Stripe's fixtures like `_objects`, with every placeholder a caller could read overridden."""

from __future__ import annotations

import copy
import secrets
from typing import Any

from ._objects import fixture, new_id, now

JSON = dict[str, Any]

_DAY = 24 * 3600
_INTERVAL_SECONDS = {"day": _DAY, "week": 7 * _DAY, "month": 30 * _DAY, "year": 365 * _DAY}


def customer(*, email: str | None, name: str | None, id: str | None = None) -> JSON:
    obj = fixture("customer")
    obj.update(
        id=id or new_id("cus_", 14),
        email=email,
        name=name,
        created=now(),
        address=None,
        balance=0,
        currency=None,
        delinquent=False,
        description=None,
        discount=None,
        invoice_prefix=secrets.token_hex(4).upper(),
        metadata={},
        phone=None,
        preferred_locales=[],
        shipping=None,
        livemode=False,
    )
    return obj


def period_seconds(price: JSON) -> int:
    recurring = price["recurring"]
    return _INTERVAL_SECONDS[recurring["interval"]] * recurring.get("interval_count", 1)


def subscription(
    *,
    customer: str,
    items: list[tuple[JSON, int]],  # (recurring price, quantity)
    status: str = "active",
    trial_period_days: int | None = None,
    metadata: JSON | None = None,
    description: str | None = None,
) -> JSON:
    obj = fixture("subscription")
    id = new_id("sub_")
    start = now()
    trial_end = start + trial_period_days * _DAY if trial_period_days else None
    obj.update(
        id=id,
        customer=customer,
        status="trialing" if trial_end and status == "active" else status,
        created=start,
        start_date=start,
        billing_cycle_anchor=trial_end or start,
        billing_cycle_anchor_config=None,
        billing_schedules=[],
        billing_thresholds=None,
        cancel_at=None,
        cancel_at_period_end=False,
        canceled_at=start if status == "canceled" else None,
        cancellation_details={"comment": None, "feedback": None, "reason": None},
        currency=items[0][0]["currency"],
        customer_account=None,
        description=description,
        discounts=[],
        ended_at=start if status == "canceled" else None,
        latest_invoice=None,
        livemode=False,
        managed_payments=None,
        metadata=dict(metadata or {}),
        next_pending_invoice_item_invoice=None,
        pause_collection=None,
        payment_settings={
            "payment_method_options": None,
            "payment_method_types": None,
            "save_default_payment_method": "off",
        },
        pending_invoice_item_interval=None,
        pending_update=None,
        transfer_data=None,
        trial_start=start if trial_end else None,
        trial_end=trial_end,
        items={
            "object": "list",
            "data": [_item(id, price, quantity, start, trial_end) for price, quantity in items],
            "has_more": False,
            "url": f"/v1/subscription_items?subscription={id}",
        },
    )
    return obj


def _item(
    subscription_id: str, price: JSON, quantity: int, start: int, trial_end: int | None
) -> JSON:
    obj = fixture("subscription_item")
    obj.update(
        id=new_id("si_", 14),
        created=start,
        subscription=subscription_id,
        price=copy.deepcopy(price),
        plan=_plan(price),
        quantity=quantity,
        metadata={},
        discounts=[],
        tax_rates=[],
        billing_thresholds=None,
        current_period_start=start,
        current_period_end=trial_end or start + period_seconds(price),
    )
    return obj


def _plan(price: JSON) -> JSON:
    """The legacy Plan view of a recurring price, which subscription items still carry."""
    recurring = price["recurring"]
    plan: JSON = fixture("subscription_item")["plan"]
    plan.update(
        id=price["id"],
        active=price["active"],
        amount=price["unit_amount"],
        amount_decimal=price["unit_amount_decimal"],
        billing_scheme="per_unit",
        created=price["created"],
        currency=price["currency"],
        interval=recurring["interval"],
        interval_count=recurring["interval_count"],
        livemode=False,
        metadata=copy.deepcopy(price["metadata"]),
        meter=recurring.get("meter"),
        nickname=price.get("nickname"),
        product=price["product"],
        tiers_mode=None,
        transform_usage=None,
        trial_period_days=recurring.get("trial_period_days"),
        usage_type=recurring.get("usage_type", "licensed"),
    )
    return plan


def portal_session(*, base_url: str, configuration: str, params: JSON) -> JSON:
    obj = fixture("billing_portal.session")
    id = new_id("bps_")
    obj.update(
        id=id,
        configuration=configuration,
        created=now(),
        customer=params["customer"],
        customer_account=None,
        flow=None,
        livemode=False,
        locale=params.get("locale"),
        on_behalf_of=params.get("on_behalf_of"),
        return_url=params.get("return_url"),
        url=f"{base_url}/p/session/{id}",
    )
    return obj


def webhook_endpoint(
    *,
    url: str,
    enabled_events: list[str],
    status: str = "enabled",
    api_version: str | None = None,
    description: str | None = None,
    metadata: JSON | None = None,
) -> JSON:
    obj = fixture("webhook_endpoint")
    obj.update(
        id=new_id("we_"),
        url=url,
        enabled_events=list(enabled_events),
        status=status,
        api_version=api_version,
        application=None,
        description=description,
        metadata=dict(metadata or {}),
        created=now(),
        livemode=False,
    )
    return obj


def webhook_secret() -> str:
    return new_id("whsec_", 32)


def deleted(obj: JSON) -> JSON:
    return {"id": obj["id"], "object": obj["object"], "deleted": True}
