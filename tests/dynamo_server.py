"""A DynamoDB-compatible server on loopback (moto's), that tests can stop and start again.

Stopping closes the listening socket, so clients see the connection refused, as when a real
endpoint is down; the data lives on in this process, so a restart finds the tables as they were.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from typing import Any, Callable, Iterable, Optional

from werkzeug.serving import BaseWSGIServer, make_server


class LocalDynamo:
    def __init__(self) -> None:
        self.port = 0
        self._server: Optional[BaseWSGIServer] = None
        self._thread: Optional[threading.Thread] = None
        self._faults: deque[Optional[str]] = deque()
        self._lock = threading.Lock()

    def fail_next(self, n: int = 1, error: str = "ProvisionedThroughputExceededException", *, after: int = 0) -> None:
        """The fault hook: after `after` requests pass, the next `n` answer DynamoDB's error `error`."""
        with self._lock:
            self._faults.extend([None] * after + [error] * n)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def _with_faults(self, app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
        def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            with self._lock:
                fault = self._faults.popleft() if self._faults else None
            if fault is None:
                return app(environ, start_response)
            body = json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{fault}",
                               "message": "Injected by the test server's fault hook"}).encode()
            start_response("400 Bad Request", [("Content-Type", "application/x-amz-json-1.0"),
                                               ("Content-Length", str(len(body)))])
            return [body]

        return wsgi

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "LocalDynamo":
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app

        app = DomainDispatcherApplication(create_backend_app)
        self._server = make_server("127.0.0.1", self.port, self._with_faults(app), threaded=True,
                                   request_handler=MotoRequestHandler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            assert self._thread is not None
            self._thread.join()
            self._server = None
