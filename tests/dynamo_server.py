"""A DynamoDB-compatible server on loopback (moto's), that tests can stop and start again.

Stopping closes the listening socket, so clients see the connection refused, as when a real
endpoint is down; the data lives on in this process, so a restart finds the tables as they were.
"""

from __future__ import annotations

import threading
from typing import Optional

from werkzeug.serving import BaseWSGIServer, make_server


class LocalDynamo:
    def __init__(self) -> None:
        self.port = 0
        self._server: Optional[BaseWSGIServer] = None
        self._thread: Optional[threading.Thread] = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "LocalDynamo":
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app

        app = DomainDispatcherApplication(create_backend_app)
        self._server = make_server("127.0.0.1", self.port, app, threaded=True, request_handler=MotoRequestHandler)
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
