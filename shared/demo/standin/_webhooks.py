"""Webhook delivery, as Stripe does it: each new event goes to every enabled endpoint that wants its type,
as a JSON POST signed with the endpoint's secret, retried with growing delays while the endpoint answers
anything but 2xx. Stripe retries for three days; the stand-in's delays are seconds, and bounded.

Off unless asked for (`StripeStandIn.deliver_webhooks`): tests add events to list them, not to send them.
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ...events.signature import sign
from ._versions import for_version

if TYPE_CHECKING:
    from ._store import Store

JSON = dict[str, Any]
RETRY_DELAYS = (1.0, 2.0, 4.0, 8.0, 16.0)  # seconds before each retry: five, then it gives up
TIMEOUT = 10.0
USER_AGENT = "Stripe/1.0 (+https://stripe.com/docs/webhooks)"


@dataclass(frozen=True)
class Attempt:
    """One delivery attempt, for tests and the demo's terminal: status 0 is no answer at all."""

    event_id: str
    type: str
    url: str
    number: int  # 1 for the first try
    status: int


class Deliveries:
    def __init__(
        self,
        store: Store,
        stopping: threading.Event,
        *,
        retry_delays: tuple[float, ...] = RETRY_DELAYS,
        report: Callable[[Attempt, float | None], None] | None = None,
    ) -> None:
        self._store = store
        self._stopping = stopping
        self._retry_delays = retry_delays
        # Told of each failed attempt, with the delay before the next (None: given up).
        self._report = report
        self.attempts: list[Attempt] = []

    def __call__(self, event: JSON) -> None:
        """An event was added (the store's lock is held): start its deliveries, each on its own thread."""
        for endpoint in self._store.webhook_endpoints.values():
            wanted = endpoint["enabled_events"]
            if endpoint["status"] != "enabled" or ("*" not in wanted and event["type"] not in wanted):
                continue
            shaped = for_version(event, endpoint.get("api_version"), self._store.invoice_payments)
            if shaped is None:  # a type the endpoint's version does not have
                continue
            secret = self._store.webhook_secrets[endpoint["id"]]
            threading.Thread(
                target=self._deliver,
                args=(shaped, endpoint["url"], secret),
                name=f"webhook-{event['id']}",
                daemon=True,
            ).start()

    def _deliver(self, event: JSON, url: str, secret: str) -> None:
        payload = json.dumps(event, indent=2).encode()
        for number, delay in enumerate((*self._retry_delays, None), start=1):
            # Signed again on each attempt: the signature carries the time it was made.
            status = _post(url, payload, sign(payload, secret))
            attempt = Attempt(event["id"], event["type"], url, number, status)
            with self._store.lock:
                self.attempts.append(attempt)
            if 200 <= status < 300:
                return
            if self._report is not None:
                self._report(attempt, delay)
            if delay is None or self._stopping.wait(delay):
                return


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # Stripe counts a redirect as a failed delivery; it never follows one.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


# No proxy from the environment: the endpoints are on this machine.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())


def _post(url: str, payload: bytes, signature: str) -> int:
    request = urllib.request.Request(url, data=payload, method="POST", headers={
        "Content-Type": "application/json; charset=utf-8",
        "Stripe-Signature": signature,
        "User-Agent": USER_AGENT,
    })
    try:
        with _OPENER.open(request, timeout=TIMEOUT) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except (OSError, ValueError):  # refused, reset, timed out: Stripe counts these as failures too
        return 0
