"""What tests read from and do to a running stand-in, besides injecting faults.

`StripeStandIn` inherits these; they act on the store directly, under its lock, and hand out
copies, so a test editing what it got back cannot change what the API serves.
"""

from __future__ import annotations

import copy
from typing import Any

from . import _billing, _invoices, _payments
from ._sale import Buyer, Totals, totals
from ._store import JSON, RecordedRequest, Store


class Controls:
    _store: Store

    # --- what tests read ---

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every API request received, in order (including failed and replayed ones)."""
        return self._store.requests

    @property
    def prices(self) -> dict[str, JSON]:
        """Prices by id, oldest first."""
        return self._store.prices

    @property
    def sessions(self) -> dict[str, JSON]:
        """Checkout sessions by id, as the API would return them (line items aside)."""
        return self._store.sessions

    @property
    def line_items(self) -> dict[str, list[JSON]]:
        """Each checkout session's line items, by session id."""
        return self._store.line_items

    @property
    def products(self) -> dict[str, JSON]:
        """Products by id, oldest first."""
        return self._store.products

    @property
    def customers(self) -> dict[str, JSON]:
        """Customers by id, oldest first."""
        return self._store.customers

    @property
    def subscriptions(self) -> dict[str, JSON]:
        """Subscriptions by id, oldest first, canceled ones included."""
        return self._store.subscriptions

    @property
    def invoices(self) -> dict[str, JSON]:
        """Invoices by id, oldest first (previews are not stored, as at Stripe)."""
        return self._store.invoices

    @property
    def invoice_payments(self) -> dict[str, JSON]:
        """Each paid invoice's payment (an `invoice_payment`, naming its payment intent), by invoice id."""
        return self._store.invoice_payments

    @property
    def portal_sessions(self) -> dict[str, JSON]:
        """Billing portal sessions by id."""
        return self._store.portal_sessions

    @property
    def shipping_rates(self) -> dict[str, JSON]:
        """Shipping rates by id, those sessions made from `shipping_rate_data` included."""
        return self._store.shipping_rates

    @property
    def webhook_endpoints(self) -> dict[str, JSON]:
        """Webhook endpoints by id, oldest first; Stripe shows the secret only on create."""
        return self._store.webhook_endpoints

    # --- what tests control ---

    def add_price(
        self,
        *,
        unit_amount: int = 1500,
        currency: str = "usd",
        recurring: dict[str, Any] | None = None,
        lookup_key: str | None = None,
        active: bool = True,
        product_name: str = "T-shirt",
        id: str | None = None,
    ) -> JSON:
        """Create a product and its price; `recurring={"interval": "month"}` makes it recurring."""
        return self._store.add_price(
            unit_amount=unit_amount,
            currency=currency,
            recurring=recurring,
            lookup_key=lookup_key,
            active=active,
            product_name=product_name,
            id=id,
        )

    def complete_session(
        self,
        session_id: str,
        *,
        payment_status: str = "paid",
        email: str = "buyer@example.com",
        **choices: Any,
    ) -> JSON:
        """Act as the buyer finishing Checkout. No event is added: tests choose their events
        (`send_completed` adds Stripe's).

        `choices` are what the buyer entered where the session asked (`_sale.Buyer`): `promotion_code`
        ("PROMO10"), `shipping_rate` (an offered shr_ id; the first by default), `address` (a dict;
        `country` must be allowed), `name`, `phone`, `tax_id`, `custom_fields` ({key: value}),
        `accept_terms`, `promotions_opt_in`. The totals follow from them; a choice the page would refuse
        raises `_sale.BuyerError` and changes nothing.

        As Checkout does, this stores a new Customer (with `email`) when the session has none and
        is in subscription mode or has `customer_creation="always"`, and in subscription mode a
        Subscription to the session's recurring prices, whose id the session then names; paid, also
        the subscription's first invoice (paid; its payment intent under `invoice_payments`), the
        session's `invoice`.
        """
        buyer = Buyer(email=email, **choices)
        return self._store.complete_session(session_id, payment_status=payment_status, buyer=buyer)

    def send_completed(self, session_id: str) -> None:
        """Add the events Stripe sends once `session_id` is completed: `checkout.session.completed`, and
        before it, for a paid subscription Checkout, `customer.subscription.created`, `invoice.paid` and
        (unless the first invoice is $0, as in a trial) `invoice_payment.paid`."""
        with self._store.lock:
            _payments.completed(self._store, session_id)

    def preview(self, session_id: str, *, email: str = "buyer@example.com", **choices: Any) -> Totals:
        """The totals `complete_session` would record with these choices; changes nothing."""
        with self._store.lock:
            return totals(self._store, self._store.sessions[session_id], Buyer(email=email, **choices))

    def add_promotion_code(
        self,
        code: str,
        *,
        percent_off: float | None = None,
        amount_off: int | None = None,
        currency: str | None = None,
    ) -> JSON:
        """A promotion code buyers may enter where a session allows them (PROMO10, 10 % off, is there)."""
        return self._store.add_promotion_code(
            code, percent_off=percent_off, amount_off=amount_off, currency=currency
        )

    def add_shipping_rate(self, *, display_name: str, amount: int, currency: str = "usd") -> JSON:
        """A shipping rate, for `shipping_options[][shipping_rate]` by id."""
        return self._store.add_shipping_rate(display_name=display_name, amount=amount, currency=currency)

    def settle_async_payment(self, session_id: str) -> JSON | None:
        """A delayed payment (a bank transfer) arrives for a session completed unpaid: it becomes paid,
        and `checkout.session.async_payment_succeeded` is added. None when the session was not waiting.
        """
        with self._store.lock:
            session = _payments.settle(self._store, session_id)
            return copy.deepcopy(session) if session is not None else None

    def add_event(
        self, type: str, obj: dict[str, Any], *, created: int | None = None, id: str | None = None
    ) -> JSON:
        """Append an Event wrapping a copy of `obj`, for `GET /v1/events` to list."""
        return self._store.add_event(type, obj, created=created, id=id)

    def add_customer(
        self, *, email: str | None = None, name: str | None = None, id: str | None = None
    ) -> JSON:
        """Store a Customer, for the billing portal, subscriptions or `customer=` on Checkout."""
        with self._store.lock:
            customer = _billing.add_customer(self._store, email=email, name=name, id=id)
            return copy.deepcopy(customer)

    def add_subscription(
        self,
        *,
        customer: str | None = None,
        price: str,
        quantity: int = 1,
        status: str = "active",
        trial_period_days: int | None = None,
        metadata: dict[str, str] | None = None,
    ) -> JSON:
        """Store a Subscription to the recurring `price` (an id), as if bought at Checkout.

        Without `customer` (an id the stand-in stores), a new customer is added for it.
        """
        with self._store.lock:
            recurring = self._store.prices.get(price)
            if recurring is None:
                raise KeyError(f"the stand-in has no price {price!r}")
            if recurring["recurring"] is None:
                raise ValueError(f"price {price!r} is not recurring")
            if customer is None:
                customer = _billing.add_customer(self._store, email=None, name=None, id=None)["id"]
            elif customer not in self._store.customers:
                raise KeyError(f"the stand-in has no customer {customer!r}")
            subscription = _billing.subscribe(
                self._store,
                customer=customer,
                items=[(recurring, quantity)],
                status=status,
                trial_period_days=trial_period_days,
                metadata=metadata,
            )
            return copy.deepcopy(subscription)

    def add_webhook_endpoint(
        self,
        *,
        url: str,
        enabled_events: list[str] | None = None,
        status: str = "enabled",
        description: str | None = None,
        api_version: str | None = None,
        secret: str | None = None,
    ) -> JSON:
        """Store a webhook endpoint (all events by default); the answer includes its `secret`."""
        with self._store.lock:
            return _billing.add_webhook_endpoint(
                self._store,
                secret=secret,
                url=url,
                enabled_events=enabled_events or ["*"],
                status=status,
                description=description,
                api_version=api_version,
            )

    def add_invoice(
        self, subscription: str, *, amount_due: int | None = None, past_due: bool = True
    ) -> JSON:
        """An open renewal invoice for `subscription` (its latest), as after a failed automatic
        payment: the subscription turns `past_due` unless `past_due=False`."""
        with self._store.lock:
            invoice = _invoices.add_open_invoice(
                self._store, subscription, amount_due=amount_due, past_due=past_due
            )
            return copy.deepcopy(invoice)

    def set_card(
        self, customer: str, outcome: str = "pays", *, decline_code: str | None = None
    ) -> None:
        """What charging this customer does from now on: `pays` (the default), `declines` (a 402
        card error with `decline_code`, e.g. "insufficient_funds") or `requires_action` (3D Secure:
        the 402 `invoice_payment_intent_requires_action`)."""
        with self._store.lock:
            _invoices.set_card(self._store, customer, outcome, decline_code)
