"""AWS clients, made with botocore directly.

boto3 adds nothing we call, and costs a cold start its import: `boto3` pulls in `s3transfer` at import
time (50–95 ms of the import-time breakdown, on both request paths). A botocore client makes the same
calls, signed and retried the same way, with the same credential chain. One session per process,
created on first use; clients are built under a lock, since botocore's session is not thread-safe
while it loads its data and a local server serves requests from a thread pool.
"""

from __future__ import annotations

import threading
from typing import Any

_lock = threading.Lock()
_session: Any = None


def client(service: str, *, region: str | None = None, endpoint_url: str | None = None,
           connect_timeout: float = 2, read_timeout: float = 4, attempts: int = 3) -> Any:
    """A botocore client for `service`. Short timeouts and few retries by default: a request that
    cannot store should fail fast with a 5xx, and Stripe's own retries take it from there."""
    from botocore.config import Config

    config = Config(connect_timeout=connect_timeout, read_timeout=read_timeout,
                    retries={"mode": "standard", "total_max_attempts": attempts})
    with _lock:
        return _botocore_session().create_client(service, region_name=region or "us-east-1",
                                                 endpoint_url=endpoint_url, config=config)


def has_credentials() -> bool:
    """Whether the default credential chain finds anything (environment, files, instance roles)."""
    with _lock:
        return _botocore_session().get_credentials() is not None


def _botocore_session() -> Any:
    global _session
    if _session is None:
        import botocore.session

        _session = botocore.session.get_session()
    return _session
