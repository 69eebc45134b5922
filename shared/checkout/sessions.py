"""Creating Checkout Sessions and describing them to the success page."""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from ..errors import Code, InvalidRequest
from ..money import exponent
from ..orders.lines import ITEMS_METADATA_KEY, line_items_of
from ..stripe_ids import PRICE_REF, SESSION_ID
from .prices import Price, PriceCatalog
from .stripe_api import StripeGateway

MAX_QUANTITY = 99
_QUANTITY = re.compile(r"[0-9]{1,3}")  # ASCII digits: a form field, not "٣" or "²"
_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")


def parse_purchase(data: Mapping[str, Any]) -> tuple[str, int]:
    """The price reference and quantity a buy request asks for, or a 400 that says what is wrong."""
    ref = data.get("priceId")
    if ref is None or ref == "":
        raise InvalidRequest("priceId is required.", code=Code.MISSING_PRICE)
    if not isinstance(ref, str) or not PRICE_REF.fullmatch(ref):
        raise InvalidRequest("priceId must be a Stripe price ID or lookup key.", code=Code.UNKNOWN_PRICE)
    raw = data.get("quantity", 1)
    if raw in (None, ""):
        raw = 1
    if isinstance(raw, str) and _QUANTITY.fullmatch(raw.strip()):
        raw = int(raw.strip())
    if isinstance(raw, bool) or not isinstance(raw, int) or not 1 <= raw <= MAX_QUANTITY:
        raise InvalidRequest(f"quantity must be a whole number from 1 to {MAX_QUANTITY}.",
                             code=Code.INVALID_QUANTITY)
    return ref, raw


def session_params(price: Price, quantity: int, site_url: str, *, embedded: bool = False) -> dict[str, Any]:
    items = [{"price": price.id, "quantity": quantity, "description": price.product_name[:120],
              "amount_total": price.unit_amount * quantity if price.unit_amount is not None else None}]
    # Stripe substitutes {CHECKOUT_SESSION_ID}; the braces must reach it unencoded.
    success = f"{site_url}/success.html?session_id={{CHECKOUT_SESSION_ID}}"
    params: dict[str, Any] = {
        "mode": "subscription" if price.recurring else "payment",
        "line_items": [{"price": price.id, "quantity": quantity}],
        # The webhook learns the items from here, so it never has to call Stripe back.
        "metadata": {ITEMS_METADATA_KEY: json.dumps(items, separators=(",", ":"))},
    }
    if price.recurring and price.trial_days:
        params["subscription_data"] = {"trial_period_days": price.trial_days}
    if embedded:
        # Embedded Checkout stays on the seller's page: no cancel page, one return URL. The mode
        # is `embedded_page` since API version 2026-03-25 (it was `embedded`).
        params.update(ui_mode="embedded_page", return_url=success)
    else:
        params.update(success_url=success, cancel_url=f"{site_url}/cancel.html")
    return params


def idempotency_key(header: str | None, price: Price, quantity: int) -> str:
    """The key for Stripe's create call: a retried click with the same header gets the same session.

    The buyer's key is mixed with what it buys, so reusing a key for another purchase makes a new
    session instead of Stripe's idempotency error, and one buyer's key can't name another's session.
    """
    if header is None:
        return f"sc-{uuid.uuid4().hex}"
    if not _IDEMPOTENCY_KEY.fullmatch(header):
        raise InvalidRequest("Idempotency-Key must be 1 to 200 printable characters.",
                             code=Code.INVALID_IDEMPOTENCY_KEY)
    digest = hashlib.sha256(f"{header}\n{price.id}\n{quantity}".encode()).hexdigest()[:40]
    return f"sc-{digest}"


def create_session(catalog: PriceCatalog, gateway: StripeGateway, site_url: str, data: Mapping[str, Any],
                   idempotency_header: str | None, *, admit: Callable[[], None] | None = None) -> dict[str, str]:
    """`admit`, when given, may raise to refuse the request (the rate limit's verdict, counted meanwhile).
    It is called before Stripe is asked to create anything, and before any Stripe call the client could
    multiply: a listed price is read once per instance and cached, an unlisted one is the client's choice."""
    ref, quantity = parse_purchase(data)
    embedded = parse_ui_mode(data)
    if admit is not None and ref not in catalog.allowed:
        admit()
    price = catalog.resolve(ref)
    key = idempotency_key(idempotency_header, price, quantity)
    if embedded:
        key += "-embedded"  # the same click asking for the other kind of session gets its own
    if admit is not None:
        admit()
    session = gateway.create_session(session_params(price, quantity, site_url, embedded=embedded),
                                     idempotency_key=key)
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
