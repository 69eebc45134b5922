"""Just enough of Stripe for create-session (a price, a new Checkout Session), and a DynamoDB without the table
(but for create-session's stock read, which finds no limited price), on a loopback port, for the smoke run
(smoke.py)."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

SMOKE_PRICE = {"id": "price_smoke", "object": "price", "active": True, "currency": "usd", "unit_amount": 1500,
               "type": "one_time", "lookup_key": None, "metadata": {},
               "product": {"id": "prod_smoke", "object": "product", "name": "Smoke"}}
SMOKE_SESSION = {"id": "cs_test_smoke", "object": "checkout.session",
                 "url": "https://checkout.stripe.com/c/pay/cs_test_smoke"}


class _StandIn(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass

    def _answer(self, status: int, body: dict[str, Any], content_type: str = "application/json") -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _missing(self) -> None:
        self._answer(404, {"error": {"type": "invalid_request_error", "code": "resource_missing", "message": "No."}})

    def do_GET(self) -> None:  # noqa: N802
        if self.path.split("?")[0] == f"/v1/prices/{SMOKE_PRICE['id']}":
            self._answer(200, SMOKE_PRICE)
        else:
            self._missing()

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers.get("content-length") or 0))
        target = self.headers.get("x-amz-target", "")
        if target.endswith(".BatchGetItem"):
            self._answer(200, {"Responses": {"smoke": []}, "UnprocessedKeys": {}}, "application/x-amz-json-1.0")
        elif target.startswith("DynamoDB_"):
            self._answer(400, {"__type": "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException",
                               "message": "Requested resource not found"}, "application/x-amz-json-1.0")
        elif self.path == "/v1/checkout/sessions":
            self._answer(200, SMOKE_SESSION)
        else:
            self._missing()


@contextmanager
def standin() -> Iterator[str]:
    """The stand-in's base URL while the block runs (Stripe's API base and DynamoDB's endpoint alike)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _StandIn)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
