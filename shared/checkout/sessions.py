"""Creating Checkout Sessions and describing them to the success page."""

from __future__ import annotations

import hashlib
import json
import re
import time
import uuid
from collections.abc import Mapping
from typing import Any

from ..errors import Code, InvalidRequest
from ..money import exponent
from ..orders.lines import items_metadata, line_items_of
from ..stripe_ids import SESSION_ID
from .cart import Cart, build_cart, parse_lines, parse_purchase, resolve_prices
from .options import CheckoutOptions
from .prices import PriceCatalog
from .stripe_api import StripeGateway

__all__ = ["create_session", "parse_purchase", "session_params", "summary"]

_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")
_NO_OPTIONS = CheckoutOptions()


def session_params(cart: Cart, site_url: str, *, embedded: bool = False, options: CheckoutOptions = _NO_OPTIONS,
                   now: float | None = None) -> dict[str, Any]:
    """What Stripe's create call gets for this cart: the seller's options (checkout.toml), then ours."""
    line_items = []
    for line in cart.lines:
        item: dict[str, Any] = {"price": line.price.id, "quantity": line.quantity}
        adjustable = options.adjustable_quantity(line.price.lookup_key, line.quantity, line.line)
        if adjustable is not None:
            item["adjustable_quantity"] = adjustable
        line_items.append(item)
    # Stripe substitutes {CHECKOUT_SESSION_ID}; the braces must reach it unencoded.
    success = f"{site_url}/success.html?session_id={{CHECKOUT_SESSION_ID}}"
    params: dict[str, Any] = {
        **options.session_params(cart.mode, cart.currency, time.time() if now is None else now),
        # A recurring line makes a subscription; Stripe bills its one-time lines on the first invoice.
        "mode": cart.mode,
        "line_items": line_items,
        # The webhook learns the lines from here, so it never has to call Stripe back.
        "metadata": items_metadata(cart.items()),
    }
    if cart.mode == "subscription" and cart.trial_days:
        params["subscription_data"] = {"trial_period_days": cart.trial_days}
    if embedded:
        # Embedded Checkout stays on the seller's page: no cancel page, one return URL. The mode
        # is `embedded_page` since API version 2026-03-25 (it was `embedded`).
        params.update(ui_mode="embedded_page", return_url=success)
    else:
        params.update(success_url=success, cancel_url=f"{site_url}/cancel.html")
    return params


def idempotency_key(header: str | None, params: Mapping[str, Any]) -> str:
    """The key for Stripe's create call: a retried click with the same header gets the same session.

    The buyer's key is mixed with everything the call sends (the cart, the options, the expiry's
    minute), so reusing a key for another purchase makes a new session instead of Stripe's idempotency
    error, and one buyer's key can't name another's session.
    """
    if header is None:
        return f"sc-{uuid.uuid4().hex}"
    if not _IDEMPOTENCY_KEY.fullmatch(header):
        raise InvalidRequest("Idempotency-Key must be 1 to 200 printable characters.",
                             code=Code.INVALID_IDEMPOTENCY_KEY)
    sent = json.dumps(params, sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(f"{header}\n{sent}".encode()).hexdigest()[:40]
    return f"sc-{digest}"


def create_session(catalog: PriceCatalog, gateway: StripeGateway, site_url: str, data: Mapping[str, Any],
                   idempotency_header: str | None, options: CheckoutOptions = _NO_OPTIONS) -> dict[str, str]:
    requested = parse_lines(data)
    embedded = parse_ui_mode(data)
    cart = build_cart(requested, resolve_prices(requested, catalog.resolve))
    params = session_params(cart, site_url, embedded=embedded, options=options)
    key = idempotency_key(idempotency_header, params)
    if embedded:
        key += "-embedded"  # the same click asking for the other kind of session gets its own
    session = gateway.create_session(params, idempotency_key=key)
    if embedded:
        return {"id": session["id"], "clientSecret": session["client_secret"]}
    return {"id": session["id"], "url": session["url"]}


def parse_ui_mode(data: Mapping[str, Any]) -> bool:
    """Whether the buyer asked for Checkout embedded in the page (`"uiMode": "embedded"`)."""
    mode = data.get("uiMode", "hosted")
    if mode not in ("hosted", "embedded"):
        raise InvalidRequest("uiMode must be hosted or embedded.", code=Code.INVALID_UI_MODE)
    return mode == "embedded"


def check_session_id(value: str | None) -> str:
    if not value or not SESSION_ID.fullmatch(value):
        raise InvalidRequest("session_id must be a Checkout Session ID (cs_…).", code=Code.INVALID_SESSION_ID)
    return value


def summary(session: dict[str, Any], order: dict[str, Any] | None) -> dict[str, Any]:
    """What the success page shows: Stripe's view of the session, and ours of the order.

    Amounts are in the currency's minor unit; `currency_exponent` beside each currency says how many of
    their digits are decimals, so the page scales them without a table of its own (`money` is the one).
    """
    details = session.get("customer_details") or {}
    return {
        "id": session["id"],
        "status": session.get("status"),
        "payment_status": session.get("payment_status"),
        "mode": session.get("mode"),
        "amount_total": session.get("amount_total"),
        "currency": session.get("currency"),
        "currency_exponent": _exponent(session.get("currency")),
        "customer_email": details.get("email") or session.get("customer_email"),
        "line_items": [
            {**{k: item.get(k) for k in ("description", "quantity", "amount_total", "currency")},
             "currency_exponent": _exponent(item.get("currency"))}
            for item in line_items_of(session)
        ],
        "order_status": order.get("status") if order else None,
        "fulfilled": bool(order and order.get("done_at") is not None),
    }


def _exponent(currency: Any) -> int | None:
    return exponent(currency) if isinstance(currency, str) and currency else None
