"""Per-client rate limits on the routes that call Stripe, shared by every function instance.

Fixed windows counted in DynamoDB (one atomic ADD per request, expiring by TTL), so a flood spread
over many instances still meets one count. They guard the seller's Stripe API quota (each of these
requests costs at least one Stripe call) and their session list from a script hammering the API.
Clients are counted by a hash of their address's bucket (`client.bucket`), each route group apart.
"""

from __future__ import annotations

import hashlib
import time

from .. import telemetry
from ..errors import RateLimited, StoreUnavailable
from ..settings import RateLimit
from ..store.base import Store
from ..store.keys import rate_key

# Route groups, each counted on its own: buying (create-session, the portal) and the success page.
CHECKOUT = "checkout"
SUMMARY = "summary"

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
