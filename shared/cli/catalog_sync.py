"""Making Stripe's products and prices match the catalog: a pure plan, then a small executor.

Identity is the lookup key. An item's price is the one holding its lookup key (active or not); its
product is that price's product, or before any price exists, the product whose metadata carries the
key (`static_checkout_key`), so a run that stopped half-way continues instead of duplicating.

Prices are immutable in what they charge: a changed amount, currency or interval makes a new price
and moves the lookup key to it (`transfer_lookup_key`), never an edit in place. The old price stays
active by default, because a page may still name it by ID; `archive_replaced` archives it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from ..checkout.stock import newly_limited
from ..money import format_amount
from ..orders import stock
from ..store.base import Store
from .catalog import KEY_METADATA, TRIAL_METADATA, Item

Kind = Literal["create_product", "update_product", "create_price", "update_price", "archive_price", "unchanged"]


@dataclass(frozen=True)
class Action:
    kind: Kind
    key: str  # the item's lookup key
    target: str | None  # the product or price changed; None for the product this run creates
    params: dict[str, Any] = field(default_factory=dict)
    note: str = ""  # what a person reads in the plan


@dataclass(frozen=True)
class Current:
    """What Stripe holds for the catalog's keys."""

    prices: dict[str, dict[str, Any]]  # by lookup key, with `product` expanded
    products: dict[str, dict[str, Any]]  # by KEY_METADATA, for items whose price is not there yet


class CatalogGateway(Protocol):
    def prices_by_lookup_key(self, lookup_keys: list[str]) -> list[dict[str, Any]]: ...

    def list_products(self) -> list[dict[str, Any]]: ...

    def create_product(self, params: dict[str, Any]) -> dict[str, Any]: ...

    def update_product(self, product_id: str, params: dict[str, Any]) -> dict[str, Any]: ...

    def create_price(self, params: dict[str, Any]) -> dict[str, Any]: ...

    def update_price(self, price_id: str, params: dict[str, Any]) -> dict[str, Any]: ...


def plan(items: Iterable[Item], current: Current, *, archive_replaced: bool = False) -> list[Action]:
    actions: list[Action] = []
    for item in items:
        key = item.lookup_key
        price = current.prices.get(key)
        product = price["product"] if price else current.products.get(key)
        before = len(actions)
        if product is None:
            actions.append(Action("create_product", key, None, _product_params(item), f"create product {item.name!r}"))
        elif changes := _product_changes(item, product):
            actions.append(Action("update_product", key, product["id"], changes,
                                  f"update product {product['id']}: {', '.join(sorted(changes))}"))
        product_id = product["id"] if product else None
        wanted = f"{format_amount(item.unit_amount, item.currency)}{_per(item)}"
        if price is None:
            actions.append(Action("create_price", key, product_id, _price_params(item), f"create price {wanted}"))
        elif not _same_terms(item, price):
            was = f"{format_amount(price['unit_amount'] or 0, price['currency'])}{_per_price(price)}"
            actions.append(Action("create_price", key, product_id, {**_price_params(item), "transfer_lookup_key": True},
                                  f"new price {wanted} replaces {price['id']} ({was}); the lookup key moves"))
            if archive_replaced and price["active"]:
                actions.append(Action("archive_price", key, price["id"], {"active": False},
                                      f"archive {price['id']}"))
        elif changes := _price_changes(item, price):
            actions.append(Action("update_price", key, price["id"], changes,
                                  f"update price {price['id']}: {', '.join(sorted(changes))}"))
        if len(actions) == before:
            actions.append(Action("unchanged", key, price["id"] if price else None, note=f"unchanged ({wanted})"))
    return actions


def load_current(gateway: CatalogGateway, keys: list[str]) -> Current:
    prices = {p["lookup_key"]: p for p in gateway.prices_by_lookup_key(keys) if p.get("lookup_key")}
    products: dict[str, dict[str, Any]] = {}
    if set(keys) - set(prices):
        # Only a key without a price needs the product list, to find a product an earlier run made.
        for product in gateway.list_products():
            owner = (product.get("metadata") or {}).get(KEY_METADATA)
            if owner in keys and owner not in products:
                products[owner] = product
    return Current(prices, products)


def apply(actions: Iterable[Action], gateway: CatalogGateway) -> Iterator[str]:
    """Carry out the plan in order, yielding a line as each change is made.

    Stopped part-way, a rerun plans only what is left: everything made so far is found again.
    """
    made: dict[str, str] = {}  # lookup key -> product created in this run
    for action in actions:
        if action.kind == "create_product":
            made[action.key] = gateway.create_product(action.params)["id"]
            yield f"{action.key}: created product {made[action.key]}"
        elif action.kind == "update_product":
            gateway.update_product(action.target or "", action.params)
            yield f"{action.key}: updated product {action.target}"
        elif action.kind == "create_price":
            product = action.target or made[action.key]
            price = gateway.create_price({**action.params, "product": product})
            # The Dashboard shows a product's default price; the current one is the sensible default,
            # and an archived price may not be one.
            gateway.update_product(product, {"default_price": price["id"]})
            yield f"{action.key}: created price {price['id']}"
        elif action.kind in ("update_price", "archive_price"):
            gateway.update_price(action.target or "", action.params)
            yield (f"{action.key}: {'archived' if action.kind == 'archive_price' else 'updated'} "
                   f"price {action.target}")


def _product_params(item: Item) -> dict[str, Any]:
    params: dict[str, Any] = {"name": item.name, "metadata": {KEY_METADATA: item.lookup_key}}
    if item.description:
        params["description"] = item.description
    if item.images:
        params["images"] = list(item.images)
    return params


def _product_changes(item: Item, product: dict[str, Any]) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if product.get("name") != item.name:
        changes["name"] = item.name
    if (product.get("description") or None) != item.description:
        changes["description"] = item.description or ""  # "" is how Stripe unsets it
    if list(product.get("images") or []) != list(item.images):
        changes["images"] = list(item.images) or ""
    if not product.get("active", True):
        changes["active"] = True
    if (product.get("metadata") or {}).get(KEY_METADATA) != item.lookup_key:
        changes["metadata"] = {KEY_METADATA: item.lookup_key}
    return changes


def _price_params(item: Item) -> dict[str, Any]:
    metadata = {KEY_METADATA: item.lookup_key}
    if item.trial_days:
        metadata[TRIAL_METADATA] = str(item.trial_days)
    params: dict[str, Any] = {"currency": item.currency, "unit_amount": item.unit_amount,
                              "lookup_key": item.lookup_key, "metadata": metadata}
    if item.recurring:
        params["recurring"] = item.recurring
    return params


def _same_terms(item: Item, price: dict[str, Any]) -> bool:
    """Whether the price charges what the item asks: the fields a price can never change."""
    recurring = price.get("recurring") or None
    terms = (recurring or {}).get("interval"), (recurring or {}).get("interval_count", 1)
    return (price.get("unit_amount"), price.get("currency")) == (item.unit_amount, item.currency) \
        and terms == (item.interval, item.interval_count if item.interval else 1)


def _price_changes(item: Item, price: dict[str, Any]) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if not price.get("active"):
        changes["active"] = True
    metadata = price.get("metadata") or {}
    wanted = {KEY_METADATA: item.lookup_key, TRIAL_METADATA: str(item.trial_days) if item.trial_days else ""}
    # An empty value deletes the key in Stripe's metadata update.
    delta = {k: v for k, v in wanted.items() if (metadata.get(k) or "") != v}
    if delta:
        changes["metadata"] = delta
    return changes


def _per(item: Item) -> str:
    return _period(item.interval, item.interval_count)


def _per_price(price: dict[str, Any]) -> str:
    recurring = price.get("recurring") or {}
    return _period(recurring.get("interval"), recurring.get("interval_count", 1))


def _period(interval: str | None, count: int) -> str:
    if interval is None:
        return " one-time"
    return f" / {interval}" if count == 1 else f" / {count} {interval}s"


def sync_stock(items: Iterable[Item], store: Store, *, dry_run: bool = False) -> Iterator[str]:
    """Make each item's stock total (on sale + in checkouts + sold) what the file says, under its lookup key
    (the price holding the key sells it). Items without `stock` are left as they are."""
    for item in items:
        if item.stock is None:
            continue
        if dry_run:
            yield f"{item.lookup_key}: stock {item.stock} in all (now {_counts(stock.current(store, item.lookup_key))})"
            continue
        was_unlimited = stock.current(store, item.lookup_key).available is None
        after, change = stock.sync_total(store, item.lookup_key, item.stock)
        if change or after.total != item.stock or was_unlimited:
            note = f"\n    {newly_limited(item.lookup_key)}" if was_unlimited else ""
            yield f"{item.lookup_key}: stock {item.stock} in all, {_counts(after)}{note}"


def _counts(s: stock.Stock) -> str:
    if s.available is None:
        return "unlimited"
    return f"{s.available} on sale, {s.held} in checkouts, {s.sold} sold"
