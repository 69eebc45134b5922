"""`StripeStandIn`: a local HTTP server that answers the stripe package as Stripe would."""

from __future__ import annotations

import sys
import threading
from collections import deque
from dataclasses import dataclass
from http.server import ThreadingHTTPServer
from types import TracebackType
from typing import Any

from . import _api
from ._errors import StripeError
from ._forms import decode
from ._http import Handler
from ._store import JSON, RecordedRequest, Store

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


class StripeStandIn:
    """Serve a slice of Stripe's API on 127.0.0.1 for tests, with in-process controls.

    `with StripeStandIn() as standin:` starts it; point the client at it with
    `stripe.StripeClient(key, base_addresses={"api": standin.url})`.
    """

    def __init__(self) -> None:
        self._store = Store()
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

    # --- what tests read ---

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every API request received, in order (including failed and replayed ones)."""
        return self._store.requests

    @property
    def prices(self) -> dict[str, JSON]:
        """Prices by id, oldest first."""
        return self._store.prices

    @property
    def sessions(self) -> dict[str, JSON]:
        """Checkout sessions by id, as the API would return them (line items aside)."""
        return self._store.sessions

    # --- what tests control ---

    def add_price(
        self,
        *,
        unit_amount: int = 1500,
        currency: str = "usd",
        recurring: dict[str, Any] | None = None,
        lookup_key: str | None = None,
        active: bool = True,
        product_name: str = "T-shirt",
        id: str | None = None,
    ) -> JSON:
        """Create a product and its price; `recurring={"interval": "month"}` makes it recurring."""
        return self._store.add_price(
            unit_amount=unit_amount,
            currency=currency,
            recurring=recurring,
            lookup_key=lookup_key,
            active=active,
            product_name=product_name,
            id=id,
        )

    def complete_session(
        self, session_id: str, *, payment_status: str = "paid", email: str = "buyer@example.com"
    ) -> JSON:
        """Act as the buyer finishing Checkout. No event is added: tests choose their events."""
        return self._store.complete_session(session_id, payment_status=payment_status, email=email)

    def add_event(
        self, type: str, obj: dict[str, Any], *, created: int | None = None, id: str | None = None
    ) -> JSON:
        """Append an Event wrapping a copy of `obj`, for `GET /v1/events` to list."""
        return self._store.add_event(type, obj, created=created, id=id)

    def fail_next(self, n: int = 1, *, status: int = 500, delay: float = 0.0) -> None:
        """Make the next `n` API requests sleep `delay` seconds, then answer `status`.

        `status=0` only delays, then answers normally: a slow Stripe rather than a broken one.
        """
        with self._store.lock:
            self._faults.extend([_Fault(status, delay)] * n)

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
