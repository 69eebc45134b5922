"""Reading JSON from the network, strictly: anything that is not JSON is a ValueError."""

from __future__ import annotations

import json
from typing import Any


def loads(data: bytes) -> Any:
    try:
        return json.loads(data, parse_constant=_no_constants)
    except RecursionError:
        # A body of "[[[[…" nests deeper than the parser's stack.
        raise ValueError("JSON nested too deeply") from None


def _no_constants(name: str) -> Any:
    # Python's json reads NaN and Infinity, which JSON (and Stripe) never sends; as amounts they
    # would blow up arithmetic far from here.
    raise ValueError(f"{name} is not JSON")
