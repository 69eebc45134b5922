"""Cold starts without the garbage collector walking what they build.

A cold start creates a few hundred thousand objects that live as long as the instance — modules,
classes, functions, the models stripe and botocore load — and next to no garbage. Python's cyclic
collector still runs every 700 new objects and, as they pile up, walks them all again and again:
about a fifth of the CPU of importing the app, stripe and botocore and building a DynamoDB client
(measured: 260 → 210 ms). So the collector is paused while an entry point imports, and again during
its first invocation, which imports stripe or botocore on first use. Then everything alive is frozen
(`gc.freeze`: moved where no collection looks again) and collection resumes, for what later requests
leave behind.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")
Handler = Callable[[Any, Any], Any]


def without_gc(build: Callable[[], T]) -> T:
    """`build()` with the collector paused; what it built is frozen, then collection resumes."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return build()
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


def first_call_without_gc(handler: Handler) -> Handler:
    """`handler`, whose first invocation (the one that imports and builds what it needs) runs without_gc."""
    first = True

    def call(event: Any, context: Any) -> Any:
        nonlocal first
        if first:
            first = False
            return without_gc(lambda: handler(event, context))
        return handler(event, context)

    return call
