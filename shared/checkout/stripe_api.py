"""The Stripe calls we make, through the official `stripe` package, and its errors translated.

`stripe` is imported when the first call needs it (never at import, and never on the webhook path,
which verifies with plain HMAC), from stripe_http.py, which imports it without `requests` and holds the
HTTP client it uses. The client is built once and reused by warm invocations.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import Code, NotFound, UpstreamError

if TYPE_CHECKING:
    from ..settings import Settings

# The API version this code is written against; objects and webhook payloads are read with it.
API_VERSION = "2026-10-28.endive"

# The code of Stripe's `resource_missing` for each object we look up; lists find nothing rather than fail.
_MISSING = {"price": Code.PRICE_NOT_FOUND, "session": Code.SESSION_NOT_FOUND, "customer": Code.CUSTOMER_NOT_FOUND,
            "product": Code.PRODUCT_NOT_FOUND, "subscription": Code.SUBSCRIPTION_NOT_FOUND}

# What a session read back expands (Stripe allows four levels, and up to 20 paths per request).
SESSION_EXPAND = ["line_items", "discounts.promotion_code", "shipping_cost.shipping_rate"]

_KEYISH = re.compile(r"\b(sk|rk|pk|whsec)_(test_|live_)?[A-Za-z0-9*]+")


class StripeGateway:
    def __init__(self, settings: Settings, *, client: Any = None) -> None:
        self.settings = settings
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            from .stripe_http import Urllib3Client, stripe

            key = self.settings.require("stripe_secret_key").reveal()
            base = {"api": self.settings.stripe_api_base} if self.settings.stripe_api_base else None
            self._client = stripe.StripeClient(
                key,
                stripe_version=API_VERSION,
                base_addresses=base,  # type: ignore[arg-type]
                # No retries inside a request: STRIPE_TIMEOUT bounds how long a buyer waits, and a retried
                # click carries the same idempotency key, so it cannot make a second session.
                max_network_retries=0,
                http_client=Urllib3Client(timeout=self.settings.stripe_timeout),
            )
        return self._client

    def retrieve_price(self, price_id: str) -> dict[str, Any]:
        return self._call(lambda c: c.v1.prices.retrieve(price_id, params={"expand": ["product"]}).to_dict(), "price")

    def find_price(self, lookup_key: str) -> dict[str, Any] | None:
        found = self._call(lambda c: c.v1.prices.list(
            params={"lookup_keys": [lookup_key], "active": True, "limit": 1, "expand": ["data.product"]}).to_dict(),
            "price")
        return found["data"][0] if found.get("data") else None

    def create_session(self, params: dict[str, Any], *, idempotency_key: str) -> dict[str, Any]:
        return self._call(lambda c: c.v1.checkout.sessions.create(
            params=params, options={"idempotency_key": idempotency_key}).to_dict(), "session")

    def retrieve_session(self, session_id: str) -> dict[str, Any]:
        """The session with what its webhook event lacks: all its line items, the promotion codes as the
        buyer typed them, and the shipping rate's name (`orders/sale.py` reads them)."""
        def fetch(c: Any) -> dict[str, Any]:
            session: dict[str, Any] = c.v1.checkout.sessions.retrieve(
                session_id, params={"expand": SESSION_EXPAND}).to_dict()
            listed = session.get("line_items") or {}
            if listed.get("has_more"):
                # An expanded list holds only its first page ("the first handful" of a big cart): the
                # rest come from the session's line items list.
                items = c.v1.checkout.sessions.line_items.list(session_id, params={"limit": 100})
                session["line_items"] = {**listed, "data": [i.to_dict() for i in items.auto_paging_iter()],
                                         "has_more": False}
            return session

        return self._call(fetch, "session")

    def expire_session(self, session_id: str) -> dict[str, Any]:
        """Close an open session now, so nobody can pay it (Stripe refuses one that is not open)."""
        return self._call(lambda c: c.v1.checkout.sessions.expire(session_id).to_dict(), "session")

    def sessions_created(self, since: int, until: int) -> list[dict[str, Any]]:
        """Every Checkout Session created from `since` to `until` (Unix seconds, inclusive), newest first."""
        return self._call(lambda c: [s.to_dict() for s in c.v1.checkout.sessions.list(
            params={"created": {"gte": since, "lte": until}, "limit": 100}).auto_paging_iter()], "session")

    def create_portal_session(self, customer: str, *, return_url: str) -> dict[str, Any]:
        return self._call(lambda c: c.v1.billing_portal.sessions.create(
            params={"customer": customer, "return_url": return_url}).to_dict(), "customer")

    def events(self, types: list[str], since: int) -> list[dict[str, Any]]:
        """Every event of these types created since `since`, newest first (Stripe keeps 30 days)."""
        return self._call(lambda c: [event.to_dict() for event in c.v1.events.list(
            params={"types": types, "created": {"gte": since}, "limit": 100}).auto_paging_iter()], "event")

    def _call(self, fn: Callable[[Any], Any], resource: str) -> Any:
        from .stripe_http import stripe

        try:
            result = fn(self.client)
        except stripe.InvalidRequestError as exc:
            if exc.code == "resource_missing":
                code = _MISSING.get(resource, Code.NOT_FOUND)
                raise NotFound(f"Stripe has no such {resource}.", code=code) from exc
            raise UpstreamError(scrub(exc.user_message or "Stripe rejected the request.")) from exc
        except stripe.AuthenticationError as exc:
            raise UpstreamError("Stripe rejected the secret key: check STRIPE_SECRET_KEY.") from exc
        except stripe.APIConnectionError as exc:
            raise UpstreamError("Stripe could not be reached in time; please try again.") from exc
        except stripe.StripeError as exc:
            raise UpstreamError(scrub(exc.user_message or "Stripe failed; please try again.")) from exc
        return result

    # --- The seller's commands (`catalog`, `subscriptions`, `doctor`); the deployed function uses none. ---

    def ping(self) -> None:
        """The cheapest call that proves the key works: one price, or none."""
        self._call(lambda c: c.v1.prices.list(params={"limit": 1}), "price")

    def prices_by_lookup_key(self, lookup_keys: list[str]) -> list[dict[str, Any]]:
        """The prices holding these lookup keys, active or archived, with their products."""
        def fetch(c: Any) -> list[dict[str, Any]]:
            found: list[dict[str, Any]] = []
            for start in range(0, len(lookup_keys), 10):  # Stripe takes ten lookup keys a request
                found += [p.to_dict() for p in c.v1.prices.list(params={
                    "lookup_keys": lookup_keys[start:start + 10], "limit": 100, "expand": ["data.product"],
                }).auto_paging_iter()]
            return found

        return self._call(fetch, "price")

    def list_products(self) -> list[dict[str, Any]]:
        return self._call(lambda c: [p.to_dict() for p in c.v1.products.list(
            params={"limit": 100}).auto_paging_iter()], "product")

    def create_product(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._call(lambda c: c.v1.products.create(params=params).to_dict(), "product")

    def update_product(self, product_id: str, params: dict[str, Any]) -> dict[str, Any]:
        return self._call(lambda c: c.v1.products.update(product_id, params=params).to_dict(), "product")

    def create_price(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._call(lambda c: c.v1.prices.create(params=params).to_dict(), "price")

    def update_price(self, price_id: str, params: dict[str, Any]) -> dict[str, Any]:
        return self._call(lambda c: c.v1.prices.update(price_id, params=params).to_dict(), "price")

    def list_subscriptions(self, *, status: str | None, limit: int, customer: str | None = None
                           ) -> list[dict[str, Any]]:
        """Newest first, with customers expanded (for their email)."""
        params: dict[str, Any] = {"limit": min(limit, 100), "expand": ["data.customer"]}
        if status:
            params["status"] = status
        if customer:
            params["customer"] = customer

        def fetch(c: Any) -> list[dict[str, Any]]:
            import itertools

            pages = c.v1.subscriptions.list(params=params).auto_paging_iter()
            return [sub.to_dict() for sub in itertools.islice(pages, limit)]

        return self._call(fetch, "subscription")

    def retrieve_subscription(self, subscription_id: str) -> dict[str, Any]:
        return self._call(lambda c: c.v1.subscriptions.retrieve(
            subscription_id, params={"expand": ["customer"]}).to_dict(), "subscription")

    def update_subscription(self, subscription_id: str, params: dict[str, Any]) -> dict[str, Any]:
        return self._call(lambda c: c.v1.subscriptions.update(subscription_id, params=params).to_dict(),
                          "subscription")

    def cancel_subscription(self, subscription_id: str) -> dict[str, Any]:
        return self._call(lambda c: c.v1.subscriptions.cancel(subscription_id).to_dict(), "subscription")

    def search_customers(self, email: str) -> list[dict[str, Any]]:
        """Customers with exactly this email, by Stripe's search (which lags writes by up to a minute)."""
        quoted = email.replace("\\", "\\\\").replace("'", "\\'")
        return self._call(lambda c: [customer.to_dict() for customer in c.v1.customers.search(
            params={"query": f"email:'{quoted}'", "limit": 100}).auto_paging_iter()], "customer")

    def preview_invoice(self, params: dict[str, Any]) -> dict[str, Any]:
        """What an invoice would be, e.g. after a subscription change (`subscription_details`)."""
        return self._call(lambda c: c.v1.invoices.create_preview(params=params).to_dict(), "invoice")

    def open_invoices(self, subscription_id: str) -> list[dict[str, Any]]:
        """The subscription's open invoices, newest first."""
        return self._call(lambda c: [i.to_dict() for i in c.v1.invoices.list(
            params={"subscription": subscription_id, "status": "open", "limit": 10}).data], "invoice")

    def pay_invoice(self, invoice_id: str) -> PaymentAttempt:
        """Charge an open invoice now, with the customer's default payment method."""
        from .stripe_http import stripe

        def pay(c: Any) -> PaymentAttempt:
            try:
                return PaymentAttempt("paid", invoice=c.v1.invoices.pay(invoice_id).to_dict())
            except stripe.CardError as exc:  # the bank said no, or wants the customer there to say yes
                if exc.code == REQUIRES_ACTION:
                    return PaymentAttempt("requires_action", message=scrub(exc.user_message or ""))
                decline = getattr(exc.error, "decline_code", None) if exc.error else None
                return PaymentAttempt("declined", message=scrub(exc.user_message or "The card was declined."),
                                      decline_code=decline)

        return self._call(pay, "invoice")

    def list_webhook_endpoints(self) -> list[dict[str, Any]]:
        return self._call(lambda c: [e.to_dict() for e in c.v1.webhook_endpoints.list(
            params={"limit": 100}).auto_paging_iter()], "webhook_endpoint")


REQUIRES_ACTION = "invoice_payment_intent_requires_action"


@dataclass(frozen=True)
class PaymentAttempt:
    outcome: str  # paid, declined, requires_action
    invoice: dict[str, Any] | None = None  # the paid invoice
    message: str | None = None  # Stripe's, for a declined or unconfirmed payment
    decline_code: str | None = None


def scrub(message: str) -> str:
    """Stripe's messages may quote a (masked) key; we show none of it."""
    return _KEYISH.sub("[redacted]", message)[:500]
