"""Creating Checkout Sessions and describing them to the success page."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import wait
from typing import Any

from ..errors import Code, InvalidRequest
from ..money import exponent, session_amounts
from ..orders.lines import items_metadata, line_items_of
from ..orders.reservations import OutOfStock
from ..orders.sale import promotion_codes, sale_of
from ..settings import Secret
from ..store.base import Store
from ..stripe_ids import SESSION_ID
from .cart import Cart, build_cart, parse_lines, parse_purchase, resolve_prices
from .options import CheckoutOptions, expires_at
from .prices import PriceCatalog
from .stock import create_with_stock
from .stripe_api import StripeGateway

__all__ = ["create_session", "parse_purchase", "session_params", "summary"]

SUMMARY_LINE_FIELDS = ("description", "quantity", "unit_amount", "amount_subtotal", "amount_discount", "amount_tax",
                       "amount_total", "currency")
BREAKDOWN_FIELDS = ("currency", "amount_subtotal", "amount_discount", "amount_shipping", "amount_tax",
                    "amount_tax_included", "amount_total")

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


def idempotency_key(header: str | None, params: Mapping[str, Any], *, client: str, secret: Secret) -> str:
    """The key for Stripe's create call: the same click, retried by the same client, gets the same session.

    Stripe replays the first answer to a key for 24 hours, so a key must name one client's one attempt.
    A header alone would let anyone who learns or guesses a buyer's key be handed that buyer's session
    (and with it, once paid, their email and customer portal). So the key Stripe sees is an HMAC, under
    a secret only the server holds (derived from the Stripe secret key), of the header *and* the
    client's address bucket *and* everything the call sends (the cart, the options, the expiry's minute):
    another client sending the same header gets a session of its own, and a key reused for another
    purchase makes a new session instead of Stripe's idempotency error. A buyer whose address changes
    between two retries of one click gets a second (unpaid) session.
    """
    if header is None:
        return f"sc-{uuid.uuid4().hex}"
    if not _IDEMPOTENCY_KEY.fullmatch(header):
        raise InvalidRequest("Idempotency-Key must be 1 to 200 printable characters.",
                             code=Code.INVALID_IDEMPOTENCY_KEY)
    # A key of its own for this use: the secret key itself never keys anything a client can see the output of.
    derived = hmac.new(secret.reveal().encode(), b"static-checkout idempotency key", hashlib.sha256).digest()
    sent = json.dumps(params, sort_keys=True, separators=(",", ":"))
    message = "\n".join([header, client, sent]).encode()
    return f"sc-{hmac.new(derived, message, hashlib.sha256).hexdigest()[:40]}"


def create_session(catalog: PriceCatalog, gateway: StripeGateway, site_url: str, data: Mapping[str, Any],
                   idempotency_header: str | None, options: CheckoutOptions = _NO_OPTIONS, *, client: str,
                   secret: Secret, store: Store, now: int | None = None,
                   admit: Callable[[], None] | None = None) -> dict[str, str]:
    """A new Checkout Session for the cart `data` asks for, its limited lines held for it (`checkout/stock.py`);
    `client` is the buyer's address bucket.

    `admit`, when given, may raise to refuse the request (the rate limit's verdict, counted meanwhile).
    It is called before anything is held or Stripe is asked to create anything, and before any Stripe call
    the client could multiply: a listed price is read once per instance and cached, and an unlisted one never
    reaches Stripe unless the allow-list is `*` — then each reference is the client's choice."""
    requested = parse_lines(data)
    embedded = parse_ui_mode(data)
    if admit is not None and any(line.ref not in catalog.allowed for line in requested):
        admit()
    # Prices Stripe is about to be asked about: whether they are limited is read meanwhile, under the
    # references they were named by (a lookup key is where its price's stock is counted; so is an ID without one).
    early = catalog.limited.prefetch(store, [line.ref for line in requested if not catalog.cached(line.ref)])
    try:
        cart = build_cart(requested, resolve_prices(requested, catalog.resolve))
        made = time.time() if now is None else now
        params = session_params(cart, site_url, embedded=embedded, options=options, now=made)
        key = idempotency_key(idempotency_header, params, client=client, secret=secret)
        if embedded:
            key += "-embedded"  # the same click asking for the other kind of session gets its own
        if admit is not None:
            admit()
    finally:
        if early:  # whatever the answer, no read is left running: a Lambda instance is frozen once it answers
            wait(early)
    # The key names the reservation too, so a retried click finds its hold rather than taking more. Limited
    # lines are held until the session ends: the seller's lifetime, or with none set, the hold's default.
    hold_until = params.get("expires_at") or expires_at(made, options.hold_minutes)
    try:
        session = create_with_stock(store, gateway, [(line.price, line.quantity) for line in cart.lines], params,
                                    idempotency_key=key, expires_at=hold_until, limits=catalog.limited,
                                    early=early, now=None if now is None else int(now))
    except OutOfStock as short:
        # Its line counts the cart's merged lines; the buyer's is the request's line that first named the price.
        line = cart.lines[short.line - 1].line or 1
        raise OutOfStock(line=line, available=short.available, lines=len(requested)) from None
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
    Pricing), or null when they paid in the seller's. `breakdown` is the sale's subtotal, discount,
    shipping, tax and total (`orders/sale.py`), in the session's own currency; `shipping` where it goes.
    """
    details = session.get("customer_details") or {}
    amounts = session_amounts(session)
    sale = sale_of(session)
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
            {**{k: item.get(k) for k in SUMMARY_LINE_FIELDS}, "currency_exponent": _exponent(item.get("currency"))}
            for item in line_items_of(session)
        ],
        "breakdown": _breakdown(sale),
        "shipping": _shipping(sale.get("shipping")),
        "order_status": order.get("status") if order else None,
        "fulfilled": bool(order and order.get("done_at") is not None),
    }


def _breakdown(sale: dict[str, Any]) -> dict[str, Any]:
    """The sale's figures in its own currency (the session's: see orders/sale.py), for the page's totals."""
    return {**{k: sale.get(k) for k in BREAKDOWN_FIELDS}, "currency_exponent": _exponent(sale.get("currency")),
            "promotion_codes": promotion_codes(sale)}


def _shipping(shipping: dict[str, Any] | None) -> dict[str, Any] | None:
    """Where the order goes: what the buyer entered, the rate's name and its cost (tax included)."""
    if not shipping or not (shipping.get("name") or shipping.get("address")):
        return None
    return {"name": shipping.get("name"), "address": shipping.get("address"), "rate": shipping.get("rate_name"),
            "amount": shipping.get("amount_total")}


def _exponent(currency: Any) -> int | None:
    return exponent(currency) if isinstance(currency, str) and currency else None
