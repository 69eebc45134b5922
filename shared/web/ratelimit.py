"""Per-client rate limits on the routes that call Stripe, shared by every function instance.

Fixed windows counted in DynamoDB (one atomic ADD per request, expiring by TTL), so a flood spread
over many instances still meets one count. They guard the seller's Stripe API quota (each of these
requests costs at least one Stripe call) and their session list from a script hammering the API.
Clients are counted by a hash of their address's bucket (`client.bucket`), each route group apart.

The count runs beside the request (`Count`), not in front of it, and Stripe is asked to create nothing
until its verdict is in. On a cold start the count's share — importing botocore, building the DynamoDB
client, one round trip — then fills the time the request waits for Stripe's price look-up instead of
adding to it: measured with the Stripe stand-in answering 150 ms late, the rate limit adds 32 ms to a cold
create-session where counting first added 100 ms. (It is started once stripe is imported: both imports
are CPU work under one interpreter lock, and running them side by side gains nothing.) Warm, where only
the round trip is left and nothing to overlap it with, a process that serves one request at a time
(Lambda) counts inline instead: a thread's two hand-offs would cost more than they hide.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait

from .. import telemetry
from ..errors import RateLimited, StoreUnavailable
from ..settings import RateLimit
from ..store.base import Store
from ..store.keys import rate_key

# Route groups, each counted on its own: buying (create-session, the portal) and the success page.
CHECKOUT = "checkout"
SUMMARY = "summary"

# Threads start on first use; a Lambda instance serves one request at a time, a local server more.
_counting = ThreadPoolExecutor(max_workers=16, thread_name_prefix="rate-limit")
_warm = threading.Event()  # a count has been made: botocore is imported and the store's client built


class Count:
    """One request's count against its client's limit: `start()` it, and it is made beside the request.

    `admit()` waits for the verdict and raises `RateLimited` when the client is over its limit: call it
    before Stripe is asked to create anything. `settle()` waits for the count to land whatever the
    request's outcome — a Lambda instance is frozen as soon as it answers, and would freeze a call still
    in flight. Both start the count if it was not. Without a limit configured, all return at once.
    `may_block`: the caller serves one request at a time, so once warm the count is made inline, in
    `start()`, rather than in a thread whose two hand-offs would cost more than they hide.
    """

    def __init__(self, limit: RateLimit | None, store: Callable[[], Store], client: str, *,
                 group: str = CHECKOUT, may_block: bool = False) -> None:
        self._limit, self._store, self._client, self._may_block = limit, store, client, may_block
        self._group = group
        self._verdict: Future[None] | None = None

    def start(self) -> None:
        if self._limit is None or self._verdict is not None:
            return
        if self._may_block and _warm.is_set():
            self._verdict = Future()
            try:
                check(self._limit, self._store(), self._client, group=self._group)
            except Exception as exc:
                self._verdict.set_exception(exc)
            else:
                self._verdict.set_result(None)
        else:
            # `store` is called in the counting thread: on a cold start, building it imports botocore.
            self._verdict = _counting.submit(_count_beside, self._limit, self._store, self._client,
                                             self._group)

    def admit(self) -> None:
        self.start()
        if self._verdict is not None:
            self._verdict.result()

    def settle(self) -> None:
        self.start()
        if self._verdict is not None:
            wait([self._verdict])

    @property
    def settled(self) -> bool:
        return self._limit is None or (self._verdict is not None and self._verdict.done())


def _count_beside(limit: RateLimit, store: Callable[[], Store], client: str, group: str) -> None:
    try:
        check(limit, store(), client, group=group)
    finally:
        _warm.set()


_MESSAGES = {
    CHECKOUT: "Too many checkout attempts; please wait a moment and try again.",
    SUMMARY: "Too many look-ups of this order; please wait a moment and refresh the page.",
}


def check(limit: RateLimit, store: Store, client: str, *, group: str = CHECKOUT, now: float | None = None) -> None:
    """Count this request; raise `RateLimited` with the seconds to wait when the client is over its limit."""
    now = time.time() if now is None else now
    window = int(now) // limit.seconds * limit.seconds
    client_hash = hashlib.sha256(f"{group}\n{client}".encode()).hexdigest()[:24]
    try:
        count = store.increment(rate_key(client_hash, window), expires_at=window + 2 * limit.seconds)
    except StoreUnavailable:
        # Fail open: losing a buyer's click to a limiter outage costs more than a few extra sessions.
        telemetry.logger().warning("rate limit store unavailable; request allowed")
        return
    if count > limit.requests:
        telemetry.count("RateLimited")
        retry_after = max(1, window + limit.seconds - int(now))
        raise RateLimited(_MESSAGES[group], retry_after=retry_after)
