"""What a buy request asks for, as a cart, and the rules a cart keeps. Pure, but for `resolve_prices`,
which looks the prices up through the function it is given.

A request lists its lines as `{"items": [{"priceId": …, "quantity": …}, …]}` (1 to 20), or names one
price as the first version of the API did (`{"priceId": …, "quantity": …}`, and every no-JS form). Each
line is checked as a single purchase is; an error about one line says which (`line`, 1 for the first).
Lines naming the same price (by ID or lookup key) become one. A cart is in one currency; a recurring
price makes it a subscription, whose one-time lines Stripe bills on the first invoice; its recurring
prices must share one billing interval.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import Code, DomainError, InvalidRequest
from ..stripe_ids import PRICE_REF
from .prices import Price

MAX_LINES = 20
MAX_QUANTITY = 99
DESCRIPTION_LENGTH = 120  # of a line's name, as the webhook learns it from the session's metadata
_QUANTITY = re.compile(r"[0-9]{1,3}")  # ASCII digits: a form field, not "٣" or "²"
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_LOOKUPS = 8  # price look-ups at once, for a cart of prices not yet cached


@dataclass(frozen=True)
class Requested:
    """One line as the request asked for it; `line` is None for the one-price body."""

    ref: str
    quantity: int
    line: int | None = None


@dataclass(frozen=True)
class CartLine:
    price: Price
    quantity: int
    line: int | None  # the request's first line naming this price

    @property
    def description(self) -> str:
        return _UNPRINTABLE.sub(" ", self.price.product_name)[:DESCRIPTION_LENGTH]

    @property
    def amount(self) -> int | None:
        return self.price.unit_amount * self.quantity if self.price.unit_amount is not None else None


@dataclass(frozen=True)
class Cart:
    lines: tuple[CartLine, ...]

    @property
    def mode(self) -> str:
        return "subscription" if any(line.price.recurring for line in self.lines) else "payment"

    @property
    def currency(self) -> str:
        return self.lines[0].price.currency

    @property
    def trial_days(self) -> int | None:
        """The subscription's free days: the shortest any recurring line offers, none if one offers none."""
        days = [line.price.trial_days for line in self.lines if line.price.recurring]
        offered = [d for d in days if d is not None]
        return min(offered) if offered and len(offered) == len(days) else None

    def items(self) -> list[dict[str, Any]]:
        """The lines as the session's metadata records them for the webhook."""
        return [{"price": line.price.id, "quantity": line.quantity, "description": line.description,
                 "amount_total": line.amount} for line in self.lines]


def parse_purchase(data: Mapping[str, Any]) -> tuple[str, int]:
    """The price reference and quantity of a one-price body, or a 400 that says what is wrong."""
    line = _line(data, None)
    return line.ref, line.quantity


def parse_lines(data: Mapping[str, Any]) -> list[Requested]:
    """The lines a buy request asks for, in its order, or a 400 naming the rule (and line) broken."""
    if "items" not in data:
        return [_line(data, None)]
    items = data["items"]
    if "priceId" in data:
        raise InvalidRequest("Send either items or priceId, not both.", code=Code.INVALID_ITEMS)
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_LINES:
        raise InvalidRequest(f"items must be a list of 1 to {MAX_LINES} lines.", code=Code.INVALID_ITEMS)
    lines = []
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise InvalidRequest(f"Line {number}: must be an object with priceId and quantity.",
                                 code=Code.INVALID_ITEMS, line=number)
        lines.append(_line(item, number))
    return lines


def _line(data: Mapping[str, Any], number: int | None) -> Requested:
    where = f"Line {number}: " if number is not None else ""
    ref = data.get("priceId")
    if ref is None or ref == "":
        raise InvalidRequest(f"{where}priceId is required.", code=Code.MISSING_PRICE, line=number)
    if not isinstance(ref, str) or not PRICE_REF.fullmatch(ref):
        raise InvalidRequest(f"{where}priceId must be a Stripe price ID or lookup key.", code=Code.UNKNOWN_PRICE,
                             line=number)
    raw = data.get("quantity", 1)
    if raw in (None, ""):
        raw = 1
    if isinstance(raw, str) and _QUANTITY.fullmatch(raw.strip()):
        raw = int(raw.strip())
    if isinstance(raw, bool) or not isinstance(raw, int) or not 1 <= raw <= MAX_QUANTITY:
        raise InvalidRequest(f"{where}quantity must be a whole number from 1 to {MAX_QUANTITY}.",
                             code=Code.INVALID_QUANTITY, line=number)
    return Requested(ref, raw, number)


def resolve_prices(requested: list[Requested], resolve: Callable[[str], Price]) -> list[Price]:
    """Each line's price, looked up once per reference (several at once: a cold cart waits for the slowest
    look-up, not their sum); the first line in order that cannot be bought is the error."""
    refs = list(dict.fromkeys(line.ref for line in requested))

    def outcome(ref: str) -> Price | DomainError:
        try:
            return resolve(ref)
        except DomainError as exc:
            return exc

    if len(refs) == 1:
        found = {refs[0]: outcome(refs[0])}
    else:
        from concurrent.futures import ThreadPoolExecutor  # a one-price purchase never needs it

        with ThreadPoolExecutor(max_workers=min(_LOOKUPS, len(refs)), thread_name_prefix="price") as pool:
            found = dict(zip(refs, pool.map(outcome, refs), strict=True))
    prices = []
    for line in requested:
        result = found[line.ref]
        if isinstance(result, InvalidRequest) and line.line is not None:
            raise InvalidRequest(f"Line {line.line}: {result.message}", code=result.code, line=line.line) \
                from result
        if isinstance(result, DomainError):
            raise result
        prices.append(result)
    return prices


def build_cart(requested: list[Requested], prices: list[Price]) -> Cart:
    """The cart: lines of one price merged (in the order first named), then its one currency and interval."""
    merged: dict[str, CartLine] = {}
    for asked, price in zip(requested, prices, strict=True):
        earlier = merged.get(price.id)
        if earlier is None:
            merged[price.id] = CartLine(price, asked.quantity, asked.line)
            continue
        total = earlier.quantity + asked.quantity
        if total > MAX_QUANTITY:
            raise InvalidRequest(f"Line {asked.line} names the same price as line {earlier.line}: together they "
                                 f"are over {MAX_QUANTITY}.", code=Code.INVALID_QUANTITY, line=asked.line)
        merged[price.id] = CartLine(price, total, earlier.line)
    cart = Cart(tuple(merged.values()))
    first = cart.lines[0]
    for line in cart.lines[1:]:
        if line.price.currency != first.price.currency:
            raise InvalidRequest(f"Line {line.line} is in {line.price.currency.upper()}, line {first.line} in "
                                 f"{first.price.currency.upper()}: one checkout takes one currency.",
                                 code=Code.MIXED_CURRENCIES, line=line.line)
    recurring = [line for line in cart.lines if line.price.recurring]
    for line in recurring[1:]:
        if line.price.billing != recurring[0].price.billing:
            raise InvalidRequest(f"Line {line.line} is billed {_every(line.price)}, line {recurring[0].line} "
                                 f"{_every(recurring[0].price)}: one subscription has one billing interval.",
                                 code=Code.MIXED_INTERVALS, line=line.line)
    return cart


def _every(price: Price) -> str:
    if price.billing is None:
        return "on its own schedule"
    unit, count = price.billing
    return f"every {unit}" if count == 1 else f"every {count} {unit}s"
