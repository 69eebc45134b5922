"""Rules for customers, subscriptions, billing portal sessions and webhook endpoints.

Functions take the store and validated params; callers hold the store's lock. They return the
stored object itself; handlers and controls hand out copies.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from . import _billing_objects as objects
from . import _invoices
from ._catalog import merge_metadata, unsupported
from ._errors import StripeError, missing_parameter, no_such
from ._objects import now

if TYPE_CHECKING:
    from ._store import Store

JSON = dict[str, Any]

_CUSTOMER_CREATE = {"description", "email", "expand", "metadata", "name", "phone"}
_SUBSCRIPTION_UPDATE = set(
    "cancel_at cancel_at_period_end cancellation_details description expand items metadata "
    "pause_collection proration_behavior proration_date".split()
)
_WHILE_CANCELED = {"cancellation_details", "expand", "metadata"}
_PORTAL_CREATE = {"customer", "expand", "locale", "on_behalf_of", "return_url"}
_ENDPOINT_CREATE = set("api_version connect description enabled_events expand metadata url".split())
_ENDPOINT_UPDATE = {"description", "disabled", "enabled_events", "expand", "metadata", "url"}


# --- customers ---


def add_customer(store: Store, *, email: str | None, name: str | None, id: str | None) -> JSON:
    if id is not None and id in store.customers:
        raise ValueError(f"the stand-in already has a customer {id!r}")
    customer = objects.customer(email=email, name=name, id=id)
    store.customers[customer["id"]] = customer
    return customer


def create_customer(store: Store, params: JSON) -> JSON:
    unsupported(params, _CUSTOMER_CREATE, "POST /v1/customers")
    customer = add_customer(store, email=params.get("email"), name=params.get("name"), id=None)
    customer.update(description=params.get("description"), phone=params.get("phone"))
    customer["metadata"] = merge_metadata({}, params.get("metadata", {}))
    return customer


# --- subscriptions ---


def subscribe(
    store: Store,
    *,
    customer: str,
    items: list[tuple[JSON, int]],
    status: str = "active",
    trial_period_days: int | None = None,
    metadata: JSON | None = None,
    description: str | None = None,
) -> JSON:
    subscription = objects.subscription(
        customer=customer,
        items=items,
        status=status,
        trial_period_days=trial_period_days,
        metadata=merge_metadata({}, metadata or {}),
        description=description,
    )
    store.subscriptions[subscription["id"]] = subscription
    return subscription


def update_subscription(store: Store, id: str, params: JSON) -> JSON:
    sub = _invoices.stored_subscription(store, id)
    unsupported(params, _SUBSCRIPTION_UPDATE, "POST /v1/subscriptions/{id}")
    if sub["status"] == "canceled" and set(params) - _WHILE_CANCELED:
        raise StripeError(
            "A canceled subscription can only update its cancellation_details and metadata."
        )
    if "cancel_at" in params and "cancel_at_period_end" in params:
        raise StripeError(
            "You may only specify one of these parameters: cancel_at, cancel_at_period_end.",
            param="cancel_at",
        )
    period_end = max(item["current_period_end"] for item in sub["items"]["data"])
    cancel_at = params.get("cancel_at")
    if params.get("cancel_at_period_end") or cancel_at in (
        "min_period_end",
        "max_period_end",
        "max_billed_until",
    ):
        _schedule_cancel(sub, period_end)
    elif params.get("cancel_at_period_end") is False or cancel_at == "":
        _schedule_cancel(sub, None)
    elif isinstance(cancel_at, int):
        if cancel_at <= now():
            raise StripeError("Invalid cancel_at: must be in the future", param="cancel_at")
        _schedule_cancel(sub, cancel_at)
        sub["cancel_at_period_end"] = cancel_at == period_end
    if "cancellation_details" in params:
        details = {k: v or None for k, v in params["cancellation_details"].items()}
        sub["cancellation_details"].update(details)
    if "description" in params:
        sub["description"] = params["description"] or None
    if "metadata" in params:
        sub["metadata"] = merge_metadata(sub["metadata"], params["metadata"])
    if "pause_collection" in params:
        pause = params["pause_collection"]
        sub["pause_collection"] = None if pause == "" else {"resumes_at": None, **pause}
    if "items" in params:
        _invoices.change_items(store, sub, params)
    return sub


def _schedule_cancel(sub: JSON, at: int | None) -> None:
    """Cancel at `at` (what cancel_at_period_end does at the period's end), or undo that."""
    sub.update(
        cancel_at=at,
        cancel_at_period_end=at is not None,
        # Stripe sets canceled_at when the cancellation is requested, not when it takes effect.
        canceled_at=now() if at is not None else None,
    )
    sub["cancellation_details"]["reason"] = "cancellation_requested" if at is not None else None


def cancel_subscription(store: Store, id: str, params: JSON) -> JSON:
    sub = _invoices.stored_subscription(store, id)
    if sub["status"] == "canceled":
        # Stripe treats a canceled subscription as gone for this endpoint.
        raise no_such("subscription", id)
    supported = {"cancellation_details", "expand", "invoice_now", "prorate"}
    unsupported(params, supported, "DELETE /v1/subscriptions/{id}")
    ended = now()
    sub.update(
        status="canceled",
        canceled_at=ended,
        ended_at=ended,
        cancel_at=None,
        cancel_at_period_end=False,
    )
    details = {k: v or None for k, v in params.get("cancellation_details", {}).items()}
    sub["cancellation_details"].update(details, reason="cancellation_requested")
    return sub


def resume_subscription(store: Store, id: str, params: JSON) -> JSON:
    sub = _invoices.stored_subscription(store, id)
    supported = {"billing_cycle_anchor", "expand", "proration_behavior"}
    unsupported(params, supported, "POST /v1/subscriptions/{id}/resume")
    if sub["status"] != "paused":
        raise StripeError(
            f"Only paused subscriptions can be resumed; this one is {sub['status']}. To undo a "
            "scheduled cancellation, update it with cancel_at_period_end=false."
        )
    sub["status"] = "active"
    if params.get("billing_cycle_anchor", "now") == "now":
        start = now()
        sub["billing_cycle_anchor"] = start
        for item in sub["items"]["data"]:
            item.update(
                current_period_start=start,
                current_period_end=start + objects.period_seconds(item["price"]),
            )
    return sub


# --- billing portal ---


def create_portal_session(store: Store, params: JSON, *, base_url: str) -> JSON:
    unsupported(params, _PORTAL_CREATE, "POST /v1/billing_portal/sessions")
    if "customer" not in params:
        raise missing_parameter("customer")
    if params["customer"] not in store.customers:
        raise no_such("customer", params["customer"], param="customer", status=400)
    session = objects.portal_session(
        base_url=base_url, configuration=store.portal_configuration, params=params
    )
    store.portal_sessions[session["id"]] = session
    return session


# --- webhook endpoints ---


def add_webhook_endpoint(store: Store, *, secret: str | None = None, **fields: Any) -> JSON:
    """Store a new endpoint; the answer alone carries its signing secret, as at Stripe."""
    _check_url(fields["url"])
    endpoint = objects.webhook_endpoint(**fields)
    store.webhook_endpoints[endpoint["id"]] = endpoint
    # Kept, unlike at Stripe's API, so the stand-in can sign what it delivers to the endpoint.
    store.webhook_secrets[endpoint["id"]] = secret or objects.webhook_secret()
    return {**copy.deepcopy(endpoint), "secret": store.webhook_secrets[endpoint["id"]]}


def create_webhook_endpoint(store: Store, params: JSON) -> JSON:
    # `connect=false` is the default, so only `connect=true` needs what the stand-in lacks.
    supported = _ENDPOINT_CREATE if not params.get("connect") else _ENDPOINT_CREATE - {"connect"}
    unsupported(params, supported, "POST /v1/webhook_endpoints")
    return add_webhook_endpoint(
        store,
        url=params["url"],
        enabled_events=params["enabled_events"],
        api_version=params.get("api_version"),
        description=params.get("description") or None,
        metadata=merge_metadata({}, params.get("metadata", {})),
    )


def webhook_endpoint(store: Store, id: str) -> JSON:
    endpoint = store.webhook_endpoints.get(id)
    if endpoint is None:
        raise no_such("webhook_endpoint", id)
    return endpoint


def update_webhook_endpoint(store: Store, id: str, params: JSON) -> JSON:
    endpoint = webhook_endpoint(store, id)
    unsupported(params, _ENDPOINT_UPDATE, "POST /v1/webhook_endpoints/{id}")
    if "url" in params:
        _check_url(params["url"])
        endpoint["url"] = params["url"]
    if "enabled_events" in params:
        endpoint["enabled_events"] = params["enabled_events"]
    if "description" in params:
        endpoint["description"] = params["description"] or None
    if "disabled" in params:
        endpoint["status"] = "disabled" if params["disabled"] else "enabled"
    if "metadata" in params:
        endpoint["metadata"] = merge_metadata(endpoint["metadata"], params["metadata"])
    return endpoint


def delete_webhook_endpoint(store: Store, id: str) -> JSON:
    return objects.deleted(store.webhook_endpoints.pop(webhook_endpoint(store, id)["id"]))


def _check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise StripeError(f"Invalid URL: {url}. It must be an absolute http(s) URL.", param="url")
