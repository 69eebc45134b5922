"""The stand-in's state and the rules that change it, shared by the HTTP API and test controls."""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass, field
from typing import Any, TypedDict

from . import _objects
from ._errors import StripeError, missing_parameter, no_such

JSON = dict[str, Any]


class RecordedRequest(TypedDict):
    """One API request as the stand-in received it, for tests to assert on (`r["path"]`)."""

    method: str
    path: str
    params: JSON  # decoded, nested; leaves are the strings that were on the wire
    idempotency_key: str | None
    stripe_version: str | None


@dataclass
class Store:
    # One lock for all state: requests are tiny, and serialising them makes replays deterministic.
    lock: threading.RLock = field(default_factory=threading.RLock)
    products: dict[str, JSON] = field(default_factory=dict)
    prices: dict[str, JSON] = field(default_factory=dict)  # insertion order is creation order
    sessions: dict[str, JSON] = field(default_factory=dict)
    line_items: dict[str, list[JSON]] = field(default_factory=dict)  # by session id
    events: list[JSON] = field(default_factory=list)  # in the order added
    requests: list[RecordedRequest] = field(default_factory=list)
    # (api key, Idempotency-Key) -> (what was asked, status, body)
    idempotent: dict[tuple[str, str], tuple[Any, int, JSON]] = field(default_factory=dict)

    def add_price(
        self,
        *,
        unit_amount: int,
        currency: str,
        recurring: JSON | None,
        lookup_key: str | None,
        active: bool,
        product_name: str,
        id: str | None,
    ) -> JSON:
        with self.lock:
            if id is not None and id in self.prices:
                raise ValueError(f"the stand-in already has a price {id!r}")
            if lookup_key is not None and any(
                p["lookup_key"] == lookup_key for p in self.prices.values()
            ):
                raise ValueError(f"a price already has lookup_key {lookup_key!r}")
            product = _objects.product(name=product_name)
            price = _objects.price(
                product_id=product["id"],
                unit_amount=unit_amount,
                currency=currency,
                recurring=recurring,
                lookup_key=lookup_key,
                active=active,
                id=id,
            )
            product["default_price"] = price["id"]
            self.products[product["id"]] = product
            self.prices[price["id"]] = price
            # Copies out, so a test editing what it got back cannot change what the API serves.
            return copy.deepcopy(price)

    def create_session(self, params: JSON, *, base_url: str) -> JSON:
        with self.lock:
            return self._create_session(params, base_url)

    def _create_session(self, params: JSON, base_url: str) -> JSON:
        mode = params.get("mode", "payment")
        items = params.get("line_items", [])
        if mode != "setup" and not items:
            raise missing_parameter("line_items")
        built = [self._line_item(item, f"line_items[{i}]", mode) for i, item in enumerate(items)]
        if len({item["currency"] for item in built}) > 1:
            raise StripeError("All line items must have the same currency.", param="line_items")
        if mode == "subscription" and not any(item["price"]["recurring"] for item in built):
            raise StripeError(
                "You must provide at least one recurring price in `subscription` mode when "
                "using prices.",
                param="line_items",
            )
        session = _objects.session(base_url=base_url, params=params, line_items=built)
        self.sessions[session["id"]] = session
        self.line_items[session["id"]] = built
        return session

    def _line_item(self, item: JSON, path: str, mode: str) -> JSON:
        if "price" in item:
            price = self.prices.get(item["price"])
            if price is None:
                raise no_such("price", item["price"], param=f"{path}[price]", status=400)
            if not price["active"]:
                raise StripeError(
                    "The price specified is inactive. This field only accepts active prices.",
                    param=f"{path}[price]",
                )
        elif "price_data" in item:
            price = self._inline_price(item["price_data"], f"{path}[price_data]")
        else:
            raise missing_parameter(f"{path}[price]")
        if "quantity" not in item:
            raise missing_parameter(f"{path}[quantity]")
        if item["quantity"] < 1:
            raise StripeError(
                f"Invalid {path}[quantity]: must be at least 1", param=f"{path}[quantity]"
            )
        if mode == "payment" and price["recurring"]:
            raise StripeError(
                "You specified `payment` mode but passed a recurring price. Either switch to "
                "`subscription` mode or use only one-time prices.",
                param=f"{path}[price]",
            )
        product = self.products[price["product"]]
        return _objects.line_item(
            price=price, quantity=item["quantity"], description=product["name"]
        )

    def _inline_price(self, data: JSON, path: str) -> JSON:
        # Not added to `prices`: an inline price belongs to its line item and is never listed.
        if "unit_amount" not in data:
            raise missing_parameter(f"{path}[unit_amount]")
        if "product" in data:
            product = self.products.get(data["product"])
            if product is None:
                raise no_such("product", data["product"], param=f"{path}[product]", status=400)
        elif "product_data" in data:
            product = _objects.product(name=data["product_data"]["name"])
            self.products[product["id"]] = product
        else:
            raise missing_parameter(f"{path}[product]")
        return _objects.price(
            product_id=product["id"],
            unit_amount=data["unit_amount"],
            currency=data["currency"],
            recurring=data.get("recurring"),
            lookup_key=None,
            active=True,
        )

    def complete_session(self, session_id: str, *, payment_status: str, email: str) -> JSON:
        with self.lock:
            session = self.sessions.get(session_id)
            if session is None:
                raise KeyError(f"the stand-in has no checkout session {session_id!r}")
            session.update(
                status="complete",
                payment_status=payment_status,
                customer_details=_objects.customer_details(email),
            )
            if session["mode"] == "payment":
                session["payment_intent"] = _objects.new_id("pi_")
            elif session["mode"] == "subscription":
                session["subscription"] = _objects.new_id("sub_")
                session["customer"] = session["customer"] or _objects.new_id("cus_", 14)
            return copy.deepcopy(session)

    def add_event(self, type: str, obj: JSON, *, created: int | None, id: str | None) -> JSON:
        with self.lock:
            event = _objects.event(type=type, obj=obj, created=created, id=id)
            self.events.append(event)
            return copy.deepcopy(event)

    def find(self, id: str) -> JSON | None:
        """Any stored object by id, for `expand[]`."""
        for table in (self.prices, self.products, self.sessions):
            if id in table:
                return table[id]
        return None
