"""Amounts in Stripe's minor units: how many decimals a currency has, how a person reads one, and which
of a Checkout Session's amounts are the seller's and which the buyer saw."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

# Most currencies have two decimals in Stripe's minor unit; these have none or three.
ZERO_DECIMAL = frozenset("bif clp djf gnf jpy kmf krw mga pyg rwf ugx vnd vuv xaf xof xpf".split())
THREE_DECIMAL = frozenset("bhd jod kwd omr tnd".split())


def exponent(currency: str) -> int:
    """How many decimals Stripe's minor unit has for this currency."""
    code = currency.lower()
    if code in ZERO_DECIMAL:
        return 0
    return 3 if code in THREE_DECIMAL else 2


def format_amount(amount: int | None, currency: str | None) -> str:
    """`12.50 USD`, `500 JPY`, `1.250 KWD`: an amount in minor units, as a person reads it."""
    if amount is None:
        return "-"
    code = currency or ""
    return f"{in_units(amount, code)} {code.upper()}".strip()


def in_units(amount: int, currency: str) -> str:
    """`12.50`, `500`, `1.250`: an amount in minor units as an exact decimal in the currency's units."""
    places = exponent(currency)
    return f"{Decimal(amount).scaleb(-places):.{places}f}"


def session_amounts(session: dict[str, Any]) -> dict[str, Any]:
    """A Checkout Session's totals in the seller's currency, and what the buyer saw (`presentment`),
    read from either API shape.

    Since 2025-03-31.basil a session keeps the seller's currency and, with Adaptive Pricing, tells the
    buyer's under `presentment_details`. Before, the session's own amounts were the buyer's and the
    seller's were under `currency_conversion`. Either way the order keeps the seller's figures in
    `amount_total`/`currency` and the buyer's in `presentment`.
    """
    amounts: dict[str, Any] = {"amount_total": session.get("amount_total"),
                               "amount_subtotal": session.get("amount_subtotal"), "currency": session.get("currency")}
    details = session.get("presentment_details") or {}
    conversion = session.get("currency_conversion") or {}
    if details.get("presentment_amount") is not None and details.get("presentment_currency"):
        amounts["presentment"] = {"amount": details["presentment_amount"],
                                  "currency": details["presentment_currency"]}
    elif conversion.get("source_currency") and conversion.get("amount_total") is not None:
        amounts["presentment"] = {"amount": session.get("amount_total"), "currency": session.get("currency")}
        amounts.update(amount_total=conversion["amount_total"], currency=conversion["source_currency"],
                       amount_subtotal=conversion.get("amount_subtotal", amounts["amount_subtotal"]))
    return amounts
