"""Stripe's HTTP API as the stand-in serves it: auth, routing, validation, idempotency."""

from __future__ import annotations

import base64
import binascii
import copy
import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import unquote_plus

from stripe.params import (
    CustomerCreateParams,
    CustomerListParams,
    CustomerRetrieveParams,
    CustomerSearchParams,
    EventListParams,
    InvoiceCreatePreviewParams,
    InvoiceListParams,
    InvoicePayParams,
    InvoiceRetrieveParams,
    PriceCreateParams,
    PriceListParams,
    PriceRetrieveParams,
    PriceUpdateParams,
    ProductCreateParams,
    ProductListParams,
    ProductRetrieveParams,
    ProductUpdateParams,
    RefundCreateParams,
    SubscriptionCancelParams,
    SubscriptionListParams,
    SubscriptionResumeParams,
    SubscriptionRetrieveParams,
    SubscriptionUpdateParams,
    WebhookEndpointCreateParams,
    WebhookEndpointDeleteParams,
    WebhookEndpointListParams,
    WebhookEndpointRetrieveParams,
    WebhookEndpointUpdateParams,
)
from stripe.params.billing_portal import SessionCreateParams as PortalSessionCreateParams
from stripe.params.checkout import (
    SessionCreateParams,
    SessionExpireParams,
    SessionLineItemListParams,
    SessionListParams,
    SessionRetrieveParams,
)

from . import _handlers as handlers
from . import _seller_handlers as seller
from ._errors import StripeError
from ._handlers import Call
from ._store import JSON, Store
from .params import validate

_KEY_PREFIXES = ("sk_test_", "sk_live_", "rk_test_", "rk_live_")


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    params: JSON  # decoded from the query (GET) or form body (POST); leaves are strings
    authorization: str | None
    idempotency_key: str | None
    malformed: StripeError | None = None  # the body or query could not be decoded


def handle(store: Store, request: Request, base_url: str) -> tuple[int, JSON, dict[str, str]]:
    """Answer one API request: status, JSON body, extra headers."""
    try:
        api_key = _authenticate(request.authorization)
        handler, params_class, id = _route(request.method, request.path)
        if request.malformed is not None:
            raise request.malformed
        call = Call(store, base_url, id, validate(params_class, request.params))
        with store.lock:
            if request.method == "POST" and request.idempotency_key:
                return _idempotent(call, handler, request, api_key)
            return 200, handler(call), {}
    except StripeError as exc:
        return exc.status, exc.body(), {}


def _authenticate(authorization: str | None) -> str:
    if not authorization:
        raise StripeError(
            "You did not provide an API key. You need to provide your API key in the "
            "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
            "YOUR_SECRET_KEY').",
            status=401,
        )
    scheme, _, key = authorization.partition(" ")
    if scheme.lower() == "basic":  # `curl -u sk_test_...:` sends the key as the user name
        try:
            key = base64.b64decode(key).decode().partition(":")[0]
        except (binascii.Error, UnicodeDecodeError):
            key = ""
    elif scheme.lower() != "bearer":
        key = ""
    if not key.startswith(_KEY_PREFIXES):
        raise StripeError(f"Invalid API Key provided: {_redact(key)}", status=401)
    return key


def _redact(key: str) -> str:
    """Echo a key's prefix and at most its last 4 characters, as Stripe does; never all of it."""
    prefix = re.match(r"^[a-z]{2}_(?:test_|live_)?", key)
    head = prefix.group(0) if prefix else ""
    rest = key[len(head) :]
    return f"{head}****{rest[-4:] if len(rest) > 8 else ''}"


def _idempotent(
    call: Call, handler: Callable[[Call], JSON], request: Request, api_key: str
) -> tuple[int, JSON, dict[str, str]]:
    # Stripe scopes keys to the account; the API key stands in for the account here.
    scope = (api_key, request.idempotency_key or "")
    asked = (request.path, request.params)
    saved = call.store.idempotent.get(scope)
    if saved is not None:
        first_asked, status, body = saved
        if first_asked != asked:
            raise StripeError(
                "Keys for idempotent requests can only be used with the same parameters they "
                f"were first used with. Try using a key other than '{request.idempotency_key}' "
                "if you meant to execute a different request.",
                type="idempotency_error",
            )
        return status, copy.deepcopy(body), {"Idempotent-Replayed": "true"}
    # Results are saved once the endpoint ran, failures included, as Stripe does; requests that
    # failed validation never got here, so they are not saved and may be retried with the key.
    try:
        status, body = 200, handler(call)
    except StripeError as exc:
        status, body = exc.status, exc.body()
    call.store.idempotent[scope] = (asked, status, copy.deepcopy(body))
    return status, body, {}


# One table: which handler answers which request, and which stripe.params class defines its
# parameters. An id segment is `[^/]+` so `/line_items` never reads as part of a session id.
_ROUTES: list[tuple[str, re.Pattern[str], type, Callable[[Call], JSON]]] = [
    (method, re.compile(pattern), params_class, handler)
    for method, pattern, params_class, handler in [
        ("GET", r"/v1/prices", PriceListParams, handlers.list_prices),
        ("POST", r"/v1/prices", PriceCreateParams, seller.create_price),
        ("GET", r"/v1/prices/([^/]+)", PriceRetrieveParams, handlers.retrieve_price),
        ("POST", r"/v1/prices/([^/]+)", PriceUpdateParams, seller.update_price),
        ("GET", r"/v1/products", ProductListParams, seller.list_products),
        ("POST", r"/v1/products", ProductCreateParams, seller.create_product),
        ("GET", r"/v1/products/([^/]+)", ProductRetrieveParams, handlers.retrieve_product),
        ("POST", r"/v1/products/([^/]+)", ProductUpdateParams, seller.update_product),
        ("GET", r"/v1/customers", CustomerListParams, seller.list_customers),
        ("POST", r"/v1/customers", CustomerCreateParams, seller.create_customer),
        # Before `/v1/customers/{id}`, which would read "search" as an id.
        ("GET", r"/v1/customers/search", CustomerSearchParams, seller.search_customers),
        ("GET", r"/v1/customers/([^/]+)", CustomerRetrieveParams, seller.retrieve_customer),
        ("GET", r"/v1/invoices", InvoiceListParams, seller.list_invoices),
        (
            "POST",
            r"/v1/invoices/create_preview",
            InvoiceCreatePreviewParams,
            seller.create_invoice_preview,
        ),
        ("GET", r"/v1/invoices/([^/]+)", InvoiceRetrieveParams, seller.retrieve_invoice),
        ("POST", r"/v1/invoices/([^/]+)/pay", InvoicePayParams, seller.pay_invoice),
        ("GET", r"/v1/subscriptions", SubscriptionListParams, seller.list_subscriptions),
        (
            "GET",
            r"/v1/subscriptions/([^/]+)",
            SubscriptionRetrieveParams,
            seller.retrieve_subscription,
        ),
        (
            "POST",
            r"/v1/subscriptions/([^/]+)",
            SubscriptionUpdateParams,
            seller.update_subscription,
        ),
        (
            "DELETE",
            r"/v1/subscriptions/([^/]+)",
            SubscriptionCancelParams,
            seller.cancel_subscription,
        ),
        (
            "POST",
            r"/v1/subscriptions/([^/]+)/resume",
            SubscriptionResumeParams,
            seller.resume_subscription,
        ),
        (
            "POST",
            r"/v1/billing_portal/sessions",
            PortalSessionCreateParams,
            seller.create_portal_session,
        ),
        ("GET", r"/v1/webhook_endpoints", WebhookEndpointListParams, seller.list_webhook_endpoints),
        (
            "POST",
            r"/v1/webhook_endpoints",
            WebhookEndpointCreateParams,
            seller.create_webhook_endpoint,
        ),
        (
            "GET",
            r"/v1/webhook_endpoints/([^/]+)",
            WebhookEndpointRetrieveParams,
            seller.retrieve_webhook_endpoint,
        ),
        (
            "POST",
            r"/v1/webhook_endpoints/([^/]+)",
            WebhookEndpointUpdateParams,
            seller.update_webhook_endpoint,
        ),
        (
            "DELETE",
            r"/v1/webhook_endpoints/([^/]+)",
            WebhookEndpointDeleteParams,
            seller.delete_webhook_endpoint,
        ),
        ("POST", r"/v1/checkout/sessions", SessionCreateParams, handlers.create_session),
        ("GET", r"/v1/checkout/sessions", SessionListParams, handlers.list_sessions),
        ("GET", r"/v1/checkout/sessions/([^/]+)", SessionRetrieveParams, handlers.retrieve_session),
        (
            "GET",
            r"/v1/checkout/sessions/([^/]+)/line_items",
            SessionLineItemListParams,
            handlers.list_line_items,
        ),
        (
            "POST",
            r"/v1/checkout/sessions/([^/]+)/expire",
            SessionExpireParams,
            handlers.expire_session,
        ),
        ("POST", r"/v1/refunds", RefundCreateParams, handlers.create_refund),
        ("GET", r"/v1/events", EventListParams, handlers.list_events),
    ]
]


def _route(method: str, path: str) -> tuple[Callable[[Call], JSON], type, str]:
    for route_method, pattern, params_class, handler in _ROUTES:
        match = pattern.fullmatch(path)
        if match and route_method == method:
            return handler, params_class, unquote_plus(match.group(1)) if match.groups() else ""
    raise unrecognized(method, path)


def unrecognized(method: str, path: str) -> StripeError:
    return StripeError(
        f"Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs or we "
        "can help at https://support.stripe.com/.",
        status=404,
    )
