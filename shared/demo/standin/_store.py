"""The stand-in's state and the rules that change it, shared by the HTTP API and test controls."""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypedDict

from . import _billing, _invoices, _objects, _sale, _session_options
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
    subscription_data: dict[str, JSON] = field(default_factory=dict)  # by session id, as sent
    events: list[JSON] = field(default_factory=list)  # in the order added
    customers: dict[str, JSON] = field(default_factory=dict)
    subscriptions: dict[str, JSON] = field(default_factory=dict)
    portal_sessions: dict[str, JSON] = field(default_factory=dict)
    webhook_endpoints: dict[str, JSON] = field(default_factory=dict)
    invoices: dict[str, JSON] = field(default_factory=dict)
    # invoice id -> its paid invoice payment; an invoice's `payments` list, which webhooks never include
    invoice_payments: dict[str, JSON] = field(default_factory=dict)
    # customer id -> (what their card does when charged, the decline code); see `set_card`
    cards: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    # subscription id -> proration lines waiting for its next invoice
    pending_prorations: dict[str, list[JSON]] = field(default_factory=dict)
    webhook_secrets: dict[str, str] = field(default_factory=dict)  # by endpoint id; Stripe shows one once
    charges: dict[str, JSON] = field(default_factory=dict)  # by payment intent, made when first refunded
    shipping_rates: dict[str, JSON] = field(default_factory=dict)  # by id; a session's inline ones too
    coupons: dict[str, JSON] = field(default_factory=dict)
    promotion_codes: dict[str, JSON] = field(default_factory=dict)  # by id
    breakdowns: dict[str, JSON] = field(default_factory=dict)  # a completed session's total_details.breakdown
    # Called with each new event, under the lock (see `_webhooks`); empty unless delivery is on.
    event_listeners: list[Callable[[JSON], None]] = field(default_factory=list)
    # The account's one (default) billing portal configuration.
    portal_configuration: str = field(default_factory=lambda: _objects.new_id("bpc_"))
    requests: list[RecordedRequest] = field(default_factory=list)
    # (api key, Idempotency-Key) -> (what was asked, status, body)
    idempotent: dict[tuple[str, str], tuple[Any, int, JSON]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.add_promotion_code("PROMO10", percent_off=10)

    def add_promotion_code(self, code: str, *, percent_off: float | None = None, amount_off: int | None = None,
                           currency: str | None = None) -> JSON:
        with self.lock:
            if any(p["code"].lower() == code.lower() for p in self.promotion_codes.values()):
                raise ValueError(f"the stand-in already has a promotion code {code!r}")
            coupon = _objects.coupon(percent_off=percent_off, amount_off=amount_off, currency=currency)
            promotion = _objects.promotion_code(code=code, coupon_id=coupon["id"])
            self.coupons[coupon["id"]] = coupon
            self.promotion_codes[promotion["id"]] = promotion
            return copy.deepcopy(promotion)

    def add_shipping_rate(self, *, display_name: str, amount: int, currency: str) -> JSON:
        with self.lock:
            rate = _objects.shipping_rate(display_name=display_name, amount=amount, currency=currency)
            self.shipping_rates[rate["id"]] = rate
            return copy.deepcopy(rate)

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
        _check_ui_mode(params)
        if "customer" in params:
            if "customer_email" in params:
                raise StripeError(
                    "You may only specify one of these parameters: customer, customer_email.",
                    param="customer_email",
                )
            if params["customer"] not in self.customers:
                raise no_such("customer", params["customer"], param="customer", status=400)
        if "customer_creation" in params and mode == "subscription":
            raise StripeError(
                "`customer_creation` can only be set in `payment` and `setup` mode.",
                param="customer_creation",
            )
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
        _session_options.check_metadata(params.get("metadata", {}))
        created = _objects.now()
        currency = built[0]["currency"] if built else params.get("currency", "usd")
        options = _session_options.session_fields(self, params, mode=mode, currency=currency, created=created)
        session = _objects.session(base_url=base_url, params=params, line_items=built)
        session.update(options, created=created)
        self.sessions[session["id"]] = session
        self.line_items[session["id"]] = built
        self.subscription_data[session["id"]] = params.get("subscription_data", {})
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
        line = _objects.line_item(
            price=price, quantity=item["quantity"], description=product["name"]
        )
        line["adjustable_quantity"] = _session_options.check_adjustable(item, path)
        return line

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

    def complete_session(self, session_id: str, *, payment_status: str, buyer: _sale.Buyer) -> JSON:
        """Complete with the buyer's choices and their totals; BuyerError (nothing changed) for a bad choice."""
        with self.lock:
            session = self.sessions.get(session_id)
            if session is None:
                raise KeyError(f"the stand-in has no checkout session {session_id!r}")
            mode = session["mode"]
            draft = copy.deepcopy(session)
            lines = copy.deepcopy(self.line_items[session_id])
            try:
                _sale.complete(self, session, buyer)
            except _sale.BuyerError:
                session.clear()
                session.update(draft)
                self.line_items[session_id] = lines
                raise
            email = buyer.email
            session.update(status="complete", payment_status=payment_status)
            # Checkout creates a Customer in subscription mode, or when asked to, unless given one.
            if session["customer"] is None and (
                mode == "subscription" or session["customer_creation"] == "always"
            ):
                customer = _billing.add_customer(self, email=email, name=None, id=None)
                session["customer"] = customer["id"]
            if mode == "payment":
                session["payment_intent"] = _objects.new_id("pi_")
            elif mode == "subscription" and session["subscription"] is None:
                sub = self._subscribe(session)
                session["subscription"] = sub["id"]
                if payment_status == "paid":
                    session["invoice"] = _invoices.first_invoice(self, sub, session)["id"]
            return copy.deepcopy(session)

    def _subscribe(self, session: JSON) -> JSON:
        items = self.line_items[session["id"]]
        data = self.subscription_data[session["id"]]
        return _billing.subscribe(
            self,
            customer=session["customer"],
            # One-time items are billed once, on the first invoice; only recurring ones stay.
            items=[(i["price"], i["quantity"]) for i in items if i["price"]["recurring"]],
            trial_period_days=data.get("trial_period_days"),
            metadata=data.get("metadata"),
            description=data.get("description"),
        )

    def add_event(self, type: str, obj: JSON, *, created: int | None, id: str | None) -> JSON:
        with self.lock:
            event = _objects.event(type=type, obj=obj, created=created, id=id)
            self.events.append(event)
            for listener in self.event_listeners:
                listener(copy.deepcopy(event))
            return copy.deepcopy(event)

    def find(self, id: str) -> JSON | None:
        """Any stored object by id, for `expand[]`."""
        tables = (self.prices, self.products, self.sessions, self.customers, self.subscriptions, self.invoices,
                  self.shipping_rates, self.promotion_codes, self.coupons)
        for table in tables:
            if id in table:
                return table[id]
        return None


# Which Checkout Session parameters each ui_mode refuses, as the package's docstrings describe.
_NOT_WITH_UI_MODE = {
    "hosted_page": ("redirect_on_completion", "return_url"),
    "embedded_page": ("cancel_url", "success_url"),
    "elements": ("cancel_url", "success_url"),
}


def _check_ui_mode(params: JSON) -> None:
    ui_mode = params.get("ui_mode", "hosted_page")
    refused = [key for key in _NOT_WITH_UI_MODE.get(ui_mode, ()) if key in params]
    if refused:
        raise StripeError(
            f"The following parameters are not supported with 'ui_mode: {ui_mode}': "
            f"{', '.join(refused)}.",
            param=refused[0],
        )
    redirect = params.get("redirect_on_completion", "always")
    if redirect == "never" and "return_url" in params:
        raise StripeError(
            "`return_url` cannot be set when `redirect_on_completion` is `never`.",
            param="return_url",
        )
    if ui_mode == "embedded_page" and redirect != "never" and "return_url" not in params:
        raise missing_parameter("return_url")
