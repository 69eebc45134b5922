"""Reading JSON from the network, strictly: anything that is not JSON, or that we could not store, is a ValueError."""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import Any

# DynamoDB holds numbers of up to 38 significant digits, with magnitudes from 1e-130 to below 1e126. A
# signed event carrying a number outside that would fail every write, and every one of Stripe's retries:
# refuse it at the door instead, as not JSON we accept.
MAX_DIGITS = 38
MAX_EXPONENT = 125
MIN_EXPONENT = -130


def loads(data: bytes) -> Any:
    try:
        return json.loads(data, parse_constant=_no_constants, parse_float=_float, parse_int=_int)
    except RecursionError:
        # A body of "[[[[…" nests deeper than the parser's stack.
        raise ValueError("JSON nested too deeply") from None


def _no_constants(name: str) -> Any:
    # Python's json reads NaN and Infinity, which JSON (and Stripe) never sends; as amounts they
    # would blow up arithmetic far from here.
    raise ValueError(f"{name} is not JSON")


def _int(text: str) -> int:
    digits = len(text.lstrip("-"))
    if digits > MAX_DIGITS:
        raise ValueError(f"an integer of {digits} digits is too large")
    return int(text)


def _float(text: str) -> float:
    try:
        exact = Decimal(text)
    except InvalidOperation:
        raise ValueError("not a number") from None
    value = float(text)
    # `1e400` parses to infinity; `1e-400` to zero, silently losing what was sent. (A float's many digits
    # are harmless: it is stored as its shortest repr, 17 digits at most.)
    if exact and not (MIN_EXPONENT <= exact.adjusted() <= MAX_EXPONENT):
        raise ValueError("a number out of range")
    return value
