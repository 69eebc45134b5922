"""Argument types the commands share."""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from typing import Any


def parse_window(text: str) -> int:
    """Seconds in a window like `72h`, `3d`, `90m` or `3600s`."""
    match = re.fullmatch(r"(\d+)([smhd])", text.strip())
    if not match:
        raise argparse.ArgumentTypeError("use a number and a unit: 90m, 72h, 3d")
    return int(match.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[match.group(2)]


def arg(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    """An argparse `type` from a parser raising ValueError, whose message argparse then shows."""
    def convert(text: str) -> Any:
        try:
            return parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
    return convert


def currency(text: str) -> str:
    """A three-letter currency code, lower case as Stripe writes it."""
    if not re.fullmatch(r"[A-Za-z]{3}", text.strip()):
        raise ValueError("a three-letter currency code, e.g. usd")
    return text.strip().lower()
