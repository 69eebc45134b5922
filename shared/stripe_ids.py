"""The shapes of Stripe's keys and identifiers, each written once: settings, checkout, the command line and
the tests import them from here. `public/openapi.json` repeats two patterns for API clients; a test keeps
them equal to these.
"""

from __future__ import annotations

import re
from typing import Literal

Mode = Literal["test", "live"]

SECRET_KEY = re.compile(r"^(sk|rk)_(test|live)_[A-Za-z0-9_]{6,}$")
PUBLISHABLE_KEY = re.compile(r"^pk_(test|live)_[A-Za-z0-9_]{6,}$")
WEBHOOK_SECRET = re.compile(r"^whsec_[A-Za-z0-9+/=_-]{6,}$")
# A price ID (`price_…`) or a lookup key: Stripe allows up to 200 characters in a lookup key.
PRICE_REF = re.compile(r"^[A-Za-z0-9_.:\-]{1,200}$")
# Checked with fullmatch: `$` alone also matches before a final "\n".
SESSION_ID = re.compile(r"^cs_(test|live)_[A-Za-z0-9]{10,240}$")

_MODE = re.compile(r"^(?:sk|rk|pk)_(test|live)_")
# What .env.example and the docs write where a key goes (`sk_test_replace_me`, `sk_test_your_key`, …).
_PLACEHOLDER_WORDS = ("replace", "placeholder", "your_")
_ALL_X = re.compile(r"^x{4,}$", re.IGNORECASE)


def key_mode(key: str) -> Mode | None:
    """`test` or `live`, from a secret, restricted or publishable key's prefix; None for anything else."""
    match = _MODE.match(key)
    if match is None:
        return None
    return "live" if match.group(1) == "live" else "test"


def is_placeholder(value: str) -> bool:
    """Whether a key or secret is still an example value rather than one from the Dashboard.

    Only the part after the prefix counts, and a run of x's only when it is the whole of it: a real key's
    random characters can hold `xxxx` by chance, and that key must still work.
    """
    body = _MODE.sub("", value).removeprefix("whsec_").lower()
    return any(word in body for word in _PLACEHOLDER_WORDS) or bool(_ALL_X.match(body))
