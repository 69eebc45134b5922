"""The embedded DynamoDB-compatible server (`shared.local.EmbeddedDynamo`), with a fault hook for tests.

    python -m tests.dynamo_server PORT   # serves until killed, for a load run in its own process
"""

from __future__ import annotations

import json
import sys
import threading
from collections import deque
from typing import Any

from shared.store.local import EmbeddedDynamo


class LocalDynamo(EmbeddedDynamo):
    def __init__(self, port: int = 0) -> None:
        super().__init__(port)
        self._faults: deque[str | None] = deque()
        self._faults_lock = threading.Lock()

    def start(self) -> LocalDynamo:  # type: ignore[override]
        super().start()
        return self

    def fail_next(self, n: int = 1, error: str = "ProvisionedThroughputExceededException", *, after: int = 0) -> None:
        """After `after` requests pass, the next `n` answer DynamoDB's error `error`, as AWS sends it."""
        with self._faults_lock:
            self._faults.extend([None] * after + [error] * n)

    def clear_faults(self) -> None:
        with self._faults_lock:
            self._faults.clear()

    def handle(self, moto: Any, environ: dict[str, Any], start_response: Any) -> Any:
        with self._faults_lock:
            fault = self._faults.popleft() if self._faults else None
        if fault is None:
            return moto(environ, start_response)
        body = json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{fault}",
                           "message": "Injected by the test server's fault hook"}).encode()
        start_response("400 Bad Request", [("Content-Type", "application/x-amz-json-1.0"),
                                           ("Content-Length", str(len(body)))])
        return [body]


if __name__ == "__main__":
    LocalDynamo(int(sys.argv[1])).start()
    threading.Event().wait()
