"""Endpoint handlers. Each returns a private copy of state, so expanding or serialising never
touches what the store holds."""

from __future__ import annotations

import copy
import fnmatch
import operator
from dataclasses import dataclass
from typing import Any

from . import _objects, _payments
from ._errors import StripeError, no_such
from ._store import JSON, Store

EXPANDED_PAGE = 10  # how many entries an expanded list (a session's `line_items`) embeds


@dataclass(frozen=True)
class Call:
    store: Store
    base_url: str
    id: str  # the object id in the path, "" where the path names none
    params: JSON  # validated and coerced


def retrieve_price(call: Call) -> JSON:
    price = call.store.prices.get(call.id)
    if price is None:
        raise no_such("price", call.id)
    return _expanded(call, copy.deepcopy(price))


def list_prices(call: Call) -> JSON:
    newest_first = reversed(call.store.prices.values())
    prices = [price for price in newest_first if _price_matches(call.params, price)]
    return _expanded(call, _page(prices, call.params, "/v1/prices"))


def _price_matches(params: JSON, price: JSON) -> bool:
    for field in ("active", "currency", "product", "type"):
        if field in params and price[field] != params[field]:
            return False
    if "lookup_keys" in params and price["lookup_key"] not in params["lookup_keys"]:
        return False
    recurring = price["recurring"] or {}
    if any(recurring.get(k) != v for k, v in params.get("recurring", {}).items()):
        return False
    return _created_matches(params.get("created"), price["created"])


def retrieve_product(call: Call) -> JSON:
    product = call.store.products.get(call.id)
    if product is None:
        raise no_such("product", call.id)
    return _expanded(call, copy.deepcopy(product))


def create_session(call: Call) -> JSON:
    session = call.store.create_session(call.params, base_url=call.base_url)
    return _expanded(call, copy.deepcopy(session))


def retrieve_session(call: Call) -> JSON:
    session = call.store.sessions.get(call.id)
    if session is None:
        raise no_such("checkout.session", call.id)
    return _expanded(call, copy.deepcopy(session))


def list_sessions(call: Call) -> JSON:
    """Newest first, filtered as Stripe filters them (`created`, `status`, `customer`, `payment_intent`)."""
    p = call.params
    ordered = sorted(enumerate(call.store.sessions.values()), key=lambda x: (x[1]["created"], x[0]))
    sessions = [
        s
        for _, s in reversed(ordered)
        if _created_matches(p.get("created"), s["created"])
        and all(p[name] == s.get(name) for name in ("status", "customer", "payment_intent") if name in p)
    ]
    return _expanded(call, _page(sessions, p, "/v1/checkout/sessions"))


def expire_session(call: Call) -> JSON:
    session = _payments.expire_session(call.store, call.id, call.params)
    return _expanded(call, copy.deepcopy(session))


def create_refund(call: Call) -> JSON:
    return _expanded(call, copy.deepcopy(_payments.create_refund(call.store, call.params)))


def list_line_items(call: Call) -> JSON:
    if call.id not in call.store.sessions:
        raise no_such("checkout.session", call.id)
    url = f"/v1/checkout/sessions/{call.id}/line_items"
    page = _page(call.store.line_items[call.id], call.params, url)
    return _expanded(call, page)


def list_events(call: Call) -> JSON:
    p = call.params
    if "type" in p and "types" in p:
        raise StripeError("You may pass either `type` or `types`, but not both.", param="types")
    ordered = sorted(enumerate(call.store.events), key=lambda x: (x[1]["created"], x[0]))
    events = [
        e
        for _, e in reversed(ordered)
        if ("type" not in p or fnmatch.fnmatchcase(e["type"], p["type"]))
        and ("types" not in p or e["type"] in p["types"])
        and _created_matches(p.get("created"), e["created"])
    ]
    return _expanded(call, _page(events, p, "/v1/events"))


_COMPARE = {"gt": operator.gt, "gte": operator.ge, "lt": operator.lt, "lte": operator.le}


def _created_matches(wanted: int | dict[str, int] | None, created: int) -> bool:
    if wanted is None:
        return True
    if isinstance(wanted, int):
        return created == wanted
    return all(_COMPARE[op](created, bound) for op, bound in wanted.items())


def _page(items: list[JSON], params: JSON, url: str) -> JSON:
    limit = params.get("limit", 10)
    if not 1 <= limit <= 100:
        raise StripeError("Invalid limit: must be between 1 and 100.", param="limit")
    ids = [item["id"] for item in items]

    def position(cursor: str) -> int:
        if params[cursor] not in ids:
            raise no_such("object", params[cursor], param=cursor, status=400)
        return ids.index(params[cursor])

    if "starting_after" in params:
        start = position("starting_after") + 1
        end = start + limit
        has_more = end < len(items)
    elif "ending_before" in params:
        end = position("ending_before")
        start = max(0, end - limit)
        has_more = start > 0
    else:
        start, end = 0, limit
        has_more = len(items) > limit
    return _objects.list_object(copy.deepcopy(items[start:end]), url=url, has_more=has_more)


def _expanded(call: Call, obj: JSON) -> JSON:
    for path in call.params.get("expand", []):
        _expand(call, obj, path.split("."), path)
    return obj


def _expand(call: Call, obj: JSON, fields: list[str], path: str) -> None:
    head, rest = fields[0], fields[1:]
    if obj.get("object") == "list" and head == "data" and rest:
        for item in obj["data"]:
            _expand(call, item, rest, path)
        return
    if obj.get("object") == "checkout.session" and fields == ["total_details", "breakdown"]:
        # Stripe computes the breakdown only when asked; the stand-in keeps a completed session's.
        breakdown = call.store.breakdowns.get(obj["id"], {"discounts": [], "taxes": []})
        if obj.get("total_details") is not None:
            obj["total_details"]["breakdown"] = copy.deepcopy(breakdown)
        return
    if isinstance(obj.get(head), list) and rest:
        # An array of objects (`discounts.promotion_code`): each entry expands.
        for item in obj[head]:
            _expand(call, item, rest, path)
        return
    if obj.get("object") == "checkout.session" and head == "line_items":
        # Sessions keep line items out of the object; expanding embeds the first page of their list
        # ("the first handful", Stripe says: its lists' default page of 10), the rest at its `url`.
        items = copy.deepcopy(call.store.line_items[obj["id"]])
        url = f"/v1/checkout/sessions/{obj['id']}/line_items"
        value: Any = _objects.list_object(items[:EXPANDED_PAGE], url=url, has_more=len(items) > EXPANDED_PAGE)
    elif isinstance(obj.get(head), list) and rest:
        # Stripe expands through arrays: `discounts.promotion_code` expands each discount's code.
        for item in obj[head]:
            if isinstance(item, dict):
                _expand(call, item, rest, path)
        return
    else:
        value = obj.get(head)
        if isinstance(value, str):
            value = copy.deepcopy(call.store.find(value))
        if head not in obj or not isinstance(value, (dict, type(None))):
            # Includes ids of objects the stand-in does not keep (payment intents, ...).
            raise StripeError(f"This property cannot be expanded ({path}).", param="expand")
    obj[head] = value
    if rest and value is not None:
        _expand(call, value, rest, path)
