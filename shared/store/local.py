"""An embedded DynamoDB-compatible server (moto) for local runs and tests: no AWS account needed."""

from __future__ import annotations

import threading
from typing import Any


class EmbeddedDynamo:
    """moto's DynamoDB-compatible server on a loopback port, in this process.

    Requests are served one at a time. moto checks a write's condition and applies the write in
    separate steps, so two concurrent conditional writes to one item could both pass; DynamoDB makes
    each one atomic, and the ledger, the versioned orders and the fulfilment claim rely on that.
    Stopping closes the listening socket (clients see the connection refused, as with an endpoint
    that is down); the data lives on in this process, so a restart on the same port finds it.
    """

    def __init__(self, port: int = 0) -> None:
        self.port = port
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._one_at_a_time = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> str:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
        from werkzeug.serving import make_server

        moto = DomainDispatcherApplication(create_backend_app)

        def serialized(environ: dict[str, Any], start_response: Any) -> list[bytes]:
            with self._one_at_a_time:
                return list(self.handle(moto, environ, start_response))

        class Quiet(MotoRequestHandler):
            def log_request(self, code: Any = "-", size: Any = "-") -> None:
                pass  # a line per request ("POST / HTTP/1.1" 200 -) would bury the app's own output

        self._server = make_server("127.0.0.1", self.port, serialized, threaded=True, request_handler=Quiet)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self.url

    def handle(self, moto: Any, environ: dict[str, Any], start_response: Any) -> Any:
        """One request; the place a test server adds its faults."""
        return moto(environ, start_response)

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            assert self._thread is not None
            self._thread.join()
            self._server = None
