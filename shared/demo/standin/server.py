"""`StripeStandIn`: a local HTTP server that answers the stripe package as Stripe would."""

from __future__ import annotations

import sys
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from http.server import ThreadingHTTPServer
from types import TracebackType
from typing import Any

from . import _api
from ._controls import Controls
from ._errors import StripeError
from ._forms import decode
from ._http import Handler
from ._store import JSON, RecordedRequest, Store
from ._webhooks import RETRY_DELAYS, Attempt, Deliveries

_HOST = "127.0.0.1"


@dataclass(frozen=True)
class _Fault:
    status: int  # 0: only the delay
    delay: float


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    standin: StripeStandIn

    @property
    def base_url(self) -> str:
        return f"http://{_HOST}:{self.server_port}"

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hung up mid-request (timeout tests do this) is expected, not an error.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class StripeStandIn(Controls):
    """Serve a slice of Stripe's API on 127.0.0.1 for tests, with in-process controls.

    `with StripeStandIn() as standin:` starts it; point the client at it with
    `stripe.StripeClient(key, base_addresses={"api": standin.url})`.
    """

    def __init__(self) -> None:
        self._store = Store()
        # Seconds before a bank transfer chosen on the Checkout page arrives (see `_checkout_page`).
        self.async_payment_delay = 4.0
        self.deliveries: Deliveries | None = None
        self._faults: deque[_Fault] = deque()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        # Set on stop, so a request sleeping in an injected delay ends promptly.
        self._stopping = threading.Event()

    # --- lifecycle ---

    def start(self) -> StripeStandIn:
        if self._server is not None:
            raise RuntimeError("the stand-in is already running")
        self._stopping.clear()
        self._server = _Server((_HOST, 0), Handler)
        self._server.standin = self
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},  # stop() waits at most this long
            name="stripe-standin",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        assert self._thread is not None
        self._thread.join()
        self._server = self._thread = None

    def __enter__(self) -> StripeStandIn:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("start the stand-in before asking for its url")
        return self._server.base_url

    # --- what tests control, beyond the stored objects (see `Controls`) ---

    def fail_next(self, n: int = 1, *, status: int = 500, delay: float = 0.0) -> None:
        """Make the next `n` API requests sleep `delay` seconds, then answer `status`.

        `status=0` only delays, then answers normally: a slow Stripe rather than a broken one.
        """
        with self._store.lock:
            self._faults.extend([_Fault(status, delay)] * n)

    def deliver_webhooks(
        self,
        *,
        retry_delays: tuple[float, ...] = RETRY_DELAYS,
        report: Callable[[Attempt, float | None], None] | None = None,
    ) -> Deliveries:
        """From now on, send each new event to the enabled webhook endpoints that want it, signed with
        the endpoint's secret and retried like Stripe (`_webhooks`). `report` hears of each failed try.
        """
        with self._store.lock:
            if self.deliveries is None:
                self.deliveries = Deliveries(
                    self._store, self._stopping, retry_delays=retry_delays, report=report
                )
                self._store.event_listeners.append(self.deliveries)
            return self.deliveries

    def later(self, delay: float, action: Callable[[], object]) -> None:
        """Run `action` on its own thread after `delay` seconds, unless the stand-in stops first."""

        def wait_then_act() -> None:
            if not self._stopping.wait(delay):
                action()

        threading.Thread(target=wait_then_act, name="stripe-standin-later", daemon=True).start()

    # --- called by the HTTP handler, on its own thread ---

    def respond_api(
        self,
        method: str,
        path: str,
        encoded: str,
        headers: dict[str, str | None],
        *,
        base_url: str,
    ) -> tuple[int, JSON, dict[str, str]]:
        try:
            params, malformed = decode(encoded), None
        except StripeError as exc:
            params, malformed = {}, exc
        request = RecordedRequest(
            method=method,
            path=path,
            params=params,
            idempotency_key=headers["Idempotency-Key"],
            stripe_version=headers["Stripe-Version"],
        )
        with self._store.lock:
            self._store.requests.append(request)
            fault = self._faults.popleft() if self._faults else None
        if fault is not None:
            # Outside the lock: a slow request must not hold up the others.
            self._stopping.wait(fault.delay)
            if fault.status:
                error = StripeError(
                    "An error occurred with our connection to Stripe (injected by the stand-in).",
                    status=fault.status,
                    type="api_error",
                )
                return error.status, error.body(), {}
        api_request = _api.Request(
            method=method,
            path=path,
            params=params,
            authorization=headers["Authorization"],
            idempotency_key=headers["Idempotency-Key"],
            malformed=malformed,
        )
        return _api.handle(self._store, api_request, base_url)
