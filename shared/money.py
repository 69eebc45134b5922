"""Amounts in Stripe's minor units: how many decimals a currency has, and how a person reads one."""

from __future__ import annotations

from decimal import Decimal

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
    places = exponent(code)
    return f"{Decimal(amount).scaleb(-places):.{places}f} {code.upper()}".strip()
