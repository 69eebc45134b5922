"""The two `checkout.toml` keys stock needs: how long a checkout holds its units, and whether a refund
puts them back on sale.

    expires_after_minutes = 45   # 30 to 1440; the session's `expires_at`, and the reservation's window
    restock_on_refund = true     # default false: refunded units are not put back on sale

Read with the standard library's tomllib from `checkout.toml` beside `shared/` (it ships with the
functions), or the file `CHECKOUT_CONFIG` names. Other keys are the Checkout options' (Stripe's
parameter names) and are left to the module that reads those; these two are checked here, by name.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import Misconfigured

CONFIG_FILE = "checkout.toml"
SETTING = "CHECKOUT_CONFIG"
DEFAULT_PATH = Path(__file__).resolve().parents[2] / CONFIG_FILE
MIN_LIFETIME, MAX_LIFETIME = 30, 1440  # minutes: Stripe's bounds on a session's expires_at
DEFAULT_HOLD_MINUTES = MIN_LIFETIME  # a limited checkout holds its units no longer than Stripe must keep it open


@dataclass(frozen=True)
class StockOptions:
    expires_after_minutes: int | None = None  # None: Stripe's default lifetime, and 30 minutes for a reservation
    restock_on_refund: bool = False

    @property
    def hold_minutes(self) -> int:
        return self.expires_after_minutes or DEFAULT_HOLD_MINUTES


def session_expiry(now: float, minutes: int) -> int:
    """`expires_at` for a session made `now` that should last `minutes`: a whole minute, one to two minutes
    past `now + minutes`, so the session still lasts the minimum when Stripe makes it a moment later, and
    never more than 24 hours from now."""
    next_minute = (int(now) // 60 + 1) * 60
    return next_minute + 60 * (min(minutes, MAX_LIFETIME - 2) + 1)


def parse(data: dict[str, Any], source: str = CONFIG_FILE) -> StockOptions:
    lifetime = data.get("expires_after_minutes")
    if lifetime is not None and (isinstance(lifetime, bool) or not isinstance(lifetime, int)
                                 or not MIN_LIFETIME <= lifetime <= MAX_LIFETIME):
        raise Misconfigured(f"{source}: expires_after_minutes must be a whole number of minutes from "
                            f"{MIN_LIFETIME} to {MAX_LIFETIME}")
    restock = data.get("restock_on_refund", False)
    if not isinstance(restock, bool):
        raise Misconfigured(f"{source}: restock_on_refund must be true or false")
    return StockOptions(lifetime, restock)


def load(setting: str | None) -> StockOptions:
    """The options of the file CHECKOUT_CONFIG names, else of `checkout.toml` beside `shared/` (defaults if absent)."""
    path = Path(setting) if setting else DEFAULT_PATH
    source = CONFIG_FILE if not setting else f"{SETTING} ({setting})"
    try:
        content = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if setting:
            raise Misconfigured(f"{SETTING} names {setting}, which does not exist: set it to your checkout options "
                                f"file, or remove it to use {CONFIG_FILE}") from None
        return StockOptions()
    except (OSError, UnicodeDecodeError) as exc:
        raise Misconfigured(f"{source} cannot be read as UTF-8 text: {type(exc).__name__}") from None
    try:
        data = tomllib.loads(content)
    except tomllib.TOMLDecodeError as exc:
        raise Misconfigured(f"{source} is not valid TOML: {exc}") from None
    return parse(data, source)
