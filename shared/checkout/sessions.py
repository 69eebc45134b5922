"""Creating Checkout Sessions and describing them to the success page."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import uuid
from collections.abc import Mapping
from typing import Any

from ..errors import Code, InvalidRequest
from ..money import exponent, session_amounts
from ..orders.lines import ITEMS_METADATA_KEY, line_items_of
from ..settings import Secret
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


def idempotency_key(header: str | None, price: Price, quantity: int, *, client: str, secret: Secret) -> str:
    """The key for Stripe's create call: the same click, retried by the same client, gets the same session.

    Stripe replays the first answer to a key for 24 hours, so a key must name one client's one attempt.
    A header alone would let anyone who learns or guesses a buyer's key be handed that buyer's session
    (and with it, once paid, their email and customer portal). So the key Stripe sees is an HMAC, under
    a secret only the server holds (derived from the Stripe secret key), of the header *and* the
    client's address bucket *and* what it buys: another client sending the same header gets a session
    of its own, and a key reused for another purchase makes a new session instead of Stripe's error.
    A buyer whose address changes between two retries of one click gets a second (unpaid) session.
    """
    if header is None:
        return f"sc-{uuid.uuid4().hex}"
    if not _IDEMPOTENCY_KEY.fullmatch(header):
        raise InvalidRequest("Idempotency-Key must be 1 to 200 printable characters.",
                             code=Code.INVALID_IDEMPOTENCY_KEY)
    # A key of its own for this use: the secret key itself never keys anything a client can see the output of.
    derived = hmac.new(secret.reveal().encode(), b"static-checkout idempotency key", hashlib.sha256).digest()
    message = "\n".join([header, client, price.id, str(quantity)]).encode()
    return f"sc-{hmac.new(derived, message, hashlib.sha256).hexdigest()[:40]}"


def create_session(catalog: PriceCatalog, gateway: StripeGateway, site_url: str, data: Mapping[str, Any],
                   idempotency_header: str | None, *, client: str, secret: Secret) -> dict[str, str]:
    """A new Checkout Session for the purchase `data` asks for; `client` is the buyer's address bucket."""
    ref, quantity = parse_purchase(data)
    embedded = parse_ui_mode(data)
    price = catalog.resolve(ref)
    key = idempotency_key(idempotency_header, price, quantity, client=client, secret=secret)
    if embedded:
        key += "-embedded"  # the same click asking for the other kind of session gets its own
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
    The totals are the seller's; `presentment_*` is what the buyer paid in their own currency (Adaptive
    Pricing), or null when they paid in the seller's.
    """
    details = session.get("customer_details") or {}
    amounts = session_amounts(session)
    presentment = amounts.get("presentment") or (order or {}).get("presentment") or {}
    if presentment.get("currency") == amounts["currency"]:
        presentment = {}  # paid in the seller's currency: nothing more to show
    return {
        "id": session["id"],
        "status": session.get("status"),
        "payment_status": session.get("payment_status"),
        "mode": session.get("mode"),
        "amount_total": amounts["amount_total"],
        "currency": amounts["currency"],
        "currency_exponent": _exponent(amounts["currency"]),
        "presentment_amount": presentment.get("amount"),
        "presentment_currency": presentment.get("currency"),
        "presentment_currency_exponent": _exponent(presentment.get("currency")),
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
