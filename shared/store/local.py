"""An embedded DynamoDB-compatible server (moto) for local runs and tests: no AWS account needed."""

from __future__ import annotations

import copy
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

        _back_up_items_not_tables()

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


def _back_up_items_not_tables() -> None:
    """moto backs a transaction up, in case it fails, by copying the whole table once per item it writes:
    each transaction costs copies of the table, so every one gets slower as the table grows (a webhook
    load of 5,000 deliveries ran into 30 s answers). Back up only the items it writes instead, and put
    them back when it fails: the same all-or-nothing result. Once per process; requests are served one
    at a time, so nothing writes between the backup and the restore."""
    import moto.dynamodb.models as models
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    whole = DynamoDBBackend.transact_write_items
    if getattr(whole, "backs_up_items", False):
        return

    class TablesNotCopied:
        """The `copy` module as moto's backend sees it, except that a table is not copied (moto restores
        a failed transaction's tables from these copies: to themselves, now; the items are put back below)."""

        def __getattr__(self, name: str) -> Any:
            return getattr(copy, name)

        @staticmethod
        def deepcopy(value: Any, memo: Any = None) -> Any:
            return value if isinstance(value, Table) else copy.deepcopy(value, memo)

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        backups: list[tuple[Any, Any, Any]] = []  # (table, hash key or None for all its items, as it was)
        for entry in transact_items:
            op = next(iter(entry.values()), None) or {}
            table = self.tables.get(op.get("TableName"))
            if table is None:
                continue
            key = op.get("Item") or op.get("Key") or {}
            if table.has_range_key or table.hash_key_attr not in key:
                backups.append((table, None, copy.deepcopy(table.items)))
                continue
            hashed = DynamoType(key[table.hash_key_attr])
            backups.append((table, hashed, copy.deepcopy(table.items.get(hashed))))
        try:
            whole(self, transact_items)
        except Exception:
            for table, hashed, before in reversed(backups):
                if hashed is None:
                    table.items = before
                elif before is None:
                    table.items.pop(hashed, None)
                else:
                    table.items[hashed] = before
            raise

    transact_write_items.backs_up_items = True  # type: ignore[attr-defined]
    models.copy = TablesNotCopied()  # type: ignore[assignment]
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
