"""A per-client rate limit on creating Checkout Sessions, shared by every function instance.

Fixed windows counted in DynamoDB (one atomic ADD per request, expiring by TTL), so a flood spread
over many instances still meets one count. It guards the seller's Stripe API quota and their
session list from a script hammering the Buy endpoint. Clients are counted by a hash of their IP.
"""

from __future__ import annotations

import hashlib
import time

from .. import telemetry
from ..errors import RateLimited, StoreUnavailable
from ..settings import RateLimit
from ..store.base import Store
from ..store.keys import rate_key


def check(limit: RateLimit, store: Store, client: str, *, now: float | None = None) -> None:
    """Count this request; raise `RateLimited` with the seconds to wait when the client is over its limit."""
    now = time.time() if now is None else now
    window = int(now) // limit.seconds * limit.seconds
    client_hash = hashlib.sha256(client.encode()).hexdigest()[:24]
    try:
        count = store.increment(rate_key(client_hash, window), expires_at=window + 2 * limit.seconds)
    except StoreUnavailable:
        # Fail open: losing a buyer's click to a limiter outage costs more than a few extra sessions.
        telemetry.logger().warning("rate limit store unavailable; request allowed")
        return
    if count > limit.requests:
        telemetry.count("RateLimited")
        retry_after = max(1, window + limit.seconds - int(now))
        raise RateLimited("Too many checkout attempts; please wait a moment and try again.",
                          retry_after=retry_after)


def client_address(headers: dict[str, str], peer: str | None, trusted_header: str | None) -> str:
    """The client's IP: from the platform's header when one is configured, else the peer address.

    Only a header the platform itself sets may be trusted (Vercel overwrites `x-real-ip` and
    `x-forwarded-for`; behind Netlify's proxy, `x-nf-client-connection-ip`): a client can send any other.
    """
    if trusted_header:
        value = headers.get(trusted_header.lower())
        if value:
            return value.split(",")[0].strip()
    return peer or "unknown"
