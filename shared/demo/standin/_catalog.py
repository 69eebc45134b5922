"""Rules for creating and updating products and prices, as Stripe applies them.

Functions take the store and the validated params; the caller holds the store's lock.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from . import _objects
from ._errors import StripeError, missing_parameter, no_such

if TYPE_CHECKING:
    from ._store import Store

JSON = dict[str, Any]

# Fields a product takes as sent, on create and update alike.
_PRODUCT_FIELDS = tuple(
    "active description images marketing_features name package_dimensions shippable "
    "statement_descriptor tax_code type unit_label url".split()
)
# What the stand-in models of each endpoint's parameters; `unsupported` refuses the rest.
_PRODUCT_CREATE = {*_PRODUCT_FIELDS, "default_price_data", "expand", "id", "metadata"}
_PRODUCT_UPDATE = {*_PRODUCT_FIELDS, "default_price", "expand", "metadata"}
_DEFAULT_PRICE_DATA = set(
    "currency metadata recurring tax_behavior unit_amount unit_amount_decimal".split()
)
_PRICE_CREATE = set(
    "active billing_scheme currency expand lookup_key metadata nickname product product_data "
    "recurring tax_behavior transfer_lookup_key unit_amount unit_amount_decimal".split()
)
_PRODUCT_DATA = set("active id metadata name statement_descriptor tax_code unit_label".split())
_PRICE_UPDATE = set(
    "active expand lookup_key metadata nickname tax_behavior transfer_lookup_key".split()
)


def unsupported(params: JSON, supported: Iterable[str], endpoint: str, path: str = "") -> None:
    """Refuse, rather than silently ignore, a valid parameter the stand-in does not model."""
    for key in sorted(set(params) - set(supported)):
        param = f"{path}[{key}]" if path else key
        raise StripeError(
            f"The Stripe stand-in does not implement `{param}` on {endpoint}; extend "
            "shared/demo/standin if a test needs it.",
            param=param,
        )


def merge_metadata(current: JSON, update: JSON | str) -> JSON:
    """Stripe's metadata update: keys merge, an empty value deletes its key, "" clears all."""
    if update == "":
        return {}
    assert isinstance(update, dict)
    merged = {**current, **update}
    return {key: value for key, value in merged.items() if value != ""}


def _unset(value: Any) -> Any:
    return None if value == "" else value


def create_product(store: Store, params: JSON) -> JSON:
    unsupported(params, _PRODUCT_CREATE, "POST /v1/products")
    if "id" in params and params["id"] in store.products:
        raise StripeError("Product already exists.", code="resource_already_exists", param="id")
    product = _objects.product(name=params["name"], id=params.get("id"))
    product.update({field: params[field] for field in _PRODUCT_FIELDS if field in params})
    product["metadata"] = merge_metadata({}, params.get("metadata", {}))
    if "default_price_data" in params:
        data = params["default_price_data"]
        unsupported(data, _DEFAULT_PRICE_DATA, "POST /v1/products", "default_price_data")
        price = _build_price(product["id"], data, "default_price_data")
        product["default_price"] = price["id"]
        store.prices[price["id"]] = price
    store.products[product["id"]] = product
    return product


def update_product(store: Store, id: str, params: JSON) -> JSON:
    product = store.products.get(id)
    if product is None:
        raise no_such("product", id)
    unsupported(params, _PRODUCT_UPDATE, "POST /v1/products/{id}")
    if "default_price" in params:
        price = store.prices.get(params["default_price"])
        if price is None:
            raise no_such("price", params["default_price"], param="default_price", status=400)
        if price["product"] != id:
            raise StripeError(
                f"The price `{price['id']}` does not belong to product `{id}`.",
                param="default_price",
            )
        product["default_price"] = price["id"]
    for field in _PRODUCT_FIELDS:
        if field in params:
            product[field] = _unset(params[field])
    for field in ("images", "marketing_features"):  # `images=""` empties the list
        product[field] = product[field] or []
    if "metadata" in params:
        product["metadata"] = merge_metadata(product["metadata"], params["metadata"])
    product["updated"] = _objects.now()
    return product


def create_price(store: Store, params: JSON) -> JSON:
    unsupported(params, _PRICE_CREATE, "POST /v1/prices")
    if "product" in params and "product_data" in params:
        raise StripeError(
            "You may only specify one of these parameters: product, product_data.", param="product"
        )
    if "product" in params and params["product"] not in store.products:
        raise no_such("product", params["product"], param="product", status=400)
    if "product" not in params and "product_data" not in params:
        raise missing_parameter("product")
    data = params.get("product_data", {})
    unsupported(data, _PRODUCT_DATA, "POST /v1/prices", "product_data")
    if "id" in data and data["id"] in store.products:
        raise StripeError(
            "Product already exists.", code="resource_already_exists", param="product_data[id]"
        )
    holder = _lookup_key_holder(store, params, None)
    price = _build_price(params.get("product", ""), params, "")
    # Everything is checked; from here on the request succeeds and may change the store.
    if "product_data" in params:
        product = _objects.product(name=data["name"], id=data.get("id"))
        fields = ("active", "statement_descriptor", "tax_code", "unit_label")
        product.update({field: data[field] for field in fields if field in data})
        product["metadata"] = merge_metadata({}, data.get("metadata", {}))
        store.products[product["id"]] = product
        price["product"] = product["id"]
    if holder is not None:
        holder["lookup_key"] = None
    store.prices[price["id"]] = price
    return price


def update_price(store: Store, id: str, params: JSON) -> JSON:
    price = store.prices.get(id)
    if price is None:
        raise no_such("price", id)
    unsupported(params, _PRICE_UPDATE, "POST /v1/prices/{id}")
    holder = _lookup_key_holder(store, params, id)
    tax_behavior = params.get("tax_behavior", price["tax_behavior"])
    if price["tax_behavior"] not in ("unspecified", None, tax_behavior):
        raise StripeError(
            "tax_behavior cannot be changed once it has been set to inclusive or exclusive.",
            param="tax_behavior",
        )
    if params.get("active") is False:
        product = store.products.get(price["product"])
        if product is not None and product["default_price"] == id:
            raise StripeError(
                "This price cannot be archived because it is the default price of its product.",
                param="active",
            )
    if holder is not None:
        holder["lookup_key"] = None
    for field in ("active", "lookup_key", "nickname"):
        if field in params:
            price[field] = params[field]
    price["tax_behavior"] = tax_behavior
    if "metadata" in params:
        price["metadata"] = merge_metadata(price["metadata"], params["metadata"])
    return price


def _lookup_key_holder(store: Store, params: JSON, own_id: str | None) -> JSON | None:
    """The price that must give up the requested lookup key, or an error if it may not."""
    key = params.get("lookup_key")
    if key is None:
        return None
    holder = next(
        (p for p in store.prices.values() if p["lookup_key"] == key and p["id"] != own_id), None
    )
    if holder is not None and not params.get("transfer_lookup_key", False):
        raise StripeError(
            f"A price (`{holder['id']}`) already uses that lookup key.", param="lookup_key"
        )
    return holder


def _build_price(product_id: str, data: JSON, path: str) -> JSON:
    def at(key: str) -> str:
        return f"{path}[{key}]" if path else key

    if data.get("billing_scheme", "per_unit") != "per_unit":
        raise StripeError(
            "The Stripe stand-in only implements per_unit prices.", param=at("billing_scheme")
        )
    if "unit_amount" in data and "unit_amount_decimal" in data:
        raise StripeError(
            f"You may only specify one of these parameters: {at('unit_amount')}, "
            f"{at('unit_amount_decimal')}.",
            param=at("unit_amount"),
        )
    if "unit_amount" in data:
        amount = data["unit_amount"]
    elif "unit_amount_decimal" in data and Decimal(data["unit_amount_decimal"]) % 1 == 0:
        amount = int(data["unit_amount_decimal"])
    elif "unit_amount_decimal" in data:
        raise StripeError("The stand-in only models whole-cent prices.", param=at("unit_amount"))
    else:
        raise missing_parameter(at("unit_amount"))
    if amount < 0:
        raise StripeError(
            f"Invalid {at('unit_amount')}: must be at least 0", param=at("unit_amount")
        )
    price = _objects.price(
        product_id=product_id,
        unit_amount=amount,
        currency=data["currency"].lower(),
        recurring=data.get("recurring"),  # interval_count 1, usage_type licensed unless sent
        lookup_key=data.get("lookup_key"),
        active=data.get("active", True),
    )
    price.update(
        nickname=data.get("nickname"),
        tax_behavior=data.get("tax_behavior", "unspecified"),
        metadata=merge_metadata({}, data.get("metadata", {})),
    )
    return price
