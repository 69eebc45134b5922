"""Handlers for the endpoints a seller's tooling uses: catalog upkeep, customers, subscriptions,
the billing portal and webhook endpoints. Like `_handlers`, each returns a private copy."""

from __future__ import annotations

import copy

from . import _billing, _catalog
from ._catalog import unsupported
from ._errors import no_such
from ._handlers import Call, _created_matches, _expanded, _page
from ._store import JSON

# --- products and prices ---


def create_product(call: Call) -> JSON:
    return _expanded(call, copy.deepcopy(_catalog.create_product(call.store, call.params)))


def update_product(call: Call) -> JSON:
    product = _catalog.update_product(call.store, call.id, call.params)
    return _expanded(call, copy.deepcopy(product))


def list_products(call: Call) -> JSON:
    p = call.params
    products = [
        product
        for product in reversed(call.store.products.values())
        if all(product[f] == p[f] for f in ("active", "shippable", "type", "url") if f in p)
        and ("ids" not in p or product["id"] in p["ids"])
        and _created_matches(p.get("created"), product["created"])
    ]
    return _expanded(call, _page(products, p, "/v1/products"))


def create_price(call: Call) -> JSON:
    return _expanded(call, copy.deepcopy(_catalog.create_price(call.store, call.params)))


def update_price(call: Call) -> JSON:
    price = _catalog.update_price(call.store, call.id, call.params)
    return _expanded(call, copy.deepcopy(price))


# --- customers ---

_CUSTOMER_LIST = {"created", "email", "ending_before", "expand", "limit", "starting_after"}


def create_customer(call: Call) -> JSON:
    return _expanded(call, copy.deepcopy(_billing.create_customer(call.store, call.params)))


def retrieve_customer(call: Call) -> JSON:
    customer = call.store.customers.get(call.id)
    if customer is None:
        raise no_such("customer", call.id)
    return _expanded(call, copy.deepcopy(customer))


def list_customers(call: Call) -> JSON:
    p = call.params
    unsupported(p, _CUSTOMER_LIST, "GET /v1/customers")
    customers = [
        customer
        for customer in reversed(call.store.customers.values())
        # Stripe matches the email exactly, case-sensitively.
        if ("email" not in p or customer["email"] == p["email"])
        and _created_matches(p.get("created"), customer["created"])
    ]
    return _expanded(call, _page(customers, p, "/v1/customers"))


# --- subscriptions ---

_SUBSCRIPTION_LIST = set(
    "automatic_tax collection_method created current_period_end current_period_start customer "
    "ending_before expand limit plan price starting_after status".split()
)


def list_subscriptions(call: Call) -> JSON:
    p = call.params
    unsupported(p, _SUBSCRIPTION_LIST, "GET /v1/subscriptions")
    subscriptions = [
        sub
        for sub in reversed(call.store.subscriptions.values())
        if _status_matches(p.get("status"), sub["status"]) and _subscription_matches(p, sub)
    ]
    return _expanded(call, _page(subscriptions, p, "/v1/subscriptions"))


def _status_matches(wanted: str | None, status: str) -> bool:
    if wanted is None:  # Stripe's default: every subscription not canceled
        return status != "canceled"
    if wanted == "ended":
        return status in ("canceled", "incomplete_expired")
    return wanted in ("all", status)


def _subscription_matches(p: JSON, sub: JSON) -> bool:
    items = sub["items"]["data"]
    prices = {item["price"]["id"] for item in items}
    tax = p.get("automatic_tax")
    return (
        all(sub[f] == p[f] for f in ("collection_method", "customer") if f in p)
        and all(p[f] in prices for f in ("plan", "price") if f in p)
        and (tax is None or sub["automatic_tax"]["enabled"] == tax["enabled"])
        and _created_matches(p.get("created"), sub["created"])
        and all(
            _created_matches(p.get(f), max(item[f] for item in items))
            for f in ("current_period_end", "current_period_start")
        )
    )


def retrieve_subscription(call: Call) -> JSON:
    subscription = call.store.subscriptions.get(call.id)
    if subscription is None:
        raise no_such("subscription", call.id)
    return _expanded(call, copy.deepcopy(subscription))


def update_subscription(call: Call) -> JSON:
    subscription = _billing.update_subscription(call.store, call.id, call.params)
    return _expanded(call, copy.deepcopy(subscription))


def cancel_subscription(call: Call) -> JSON:
    subscription = _billing.cancel_subscription(call.store, call.id, call.params)
    return _expanded(call, copy.deepcopy(subscription))


def resume_subscription(call: Call) -> JSON:
    subscription = _billing.resume_subscription(call.store, call.id, call.params)
    return _expanded(call, copy.deepcopy(subscription))


# --- billing portal ---


def create_portal_session(call: Call) -> JSON:
    session = _billing.create_portal_session(call.store, call.params, base_url=call.base_url)
    return _expanded(call, copy.deepcopy(session))


# --- webhook endpoints ---


def list_webhook_endpoints(call: Call) -> JSON:
    endpoints = list(reversed(call.store.webhook_endpoints.values()))
    return _expanded(call, _page(endpoints, call.params, "/v1/webhook_endpoints"))


def create_webhook_endpoint(call: Call) -> JSON:
    # Already a copy: the one answer that carries the signing secret.
    return _expanded(call, _billing.create_webhook_endpoint(call.store, call.params))


def retrieve_webhook_endpoint(call: Call) -> JSON:
    endpoint = _billing.webhook_endpoint(call.store, call.id)
    return _expanded(call, copy.deepcopy(endpoint))


def update_webhook_endpoint(call: Call) -> JSON:
    endpoint = _billing.update_webhook_endpoint(call.store, call.id, call.params)
    return _expanded(call, copy.deepcopy(endpoint))


def delete_webhook_endpoint(call: Call) -> JSON:
    return _billing.delete_webhook_endpoint(call.store, call.id)
