"""AWS clients, made with botocore directly.

boto3 adds nothing we call, and costs a cold start its import: `boto3` pulls in `s3transfer` at import
time (50–95 ms of the import-time breakdown, on both request paths). A botocore client makes the same
calls, signed and retried the same way, with the same credential chain. One session per process,
created on first use; clients are built under a lock, since botocore's session is not thread-safe
while it loads its data and a local server serves requests from a thread pool.

The session reads botocore's data (service models, endpoints) through a loader of our own
(`_loader_class`) that skips two costs of a first client which buy us nothing: about 30 ms of CPU of
every cold start that stores anything.
"""

from __future__ import annotations

import gzip
import json
import os
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
        session = _botocore_session()
        session.get_component("data_loader").services.add(service)
        return session.create_client(service, region_name=region or "us-east-1", endpoint_url=endpoint_url,
                                     config=config)


def has_credentials() -> bool:
    """Whether the default credential chain finds anything (environment, files, instance roles)."""
    with _lock:
        return _botocore_session().get_credentials() is not None


def _botocore_session() -> Any:
    global _session
    if _session is None:
        import botocore.session

        session = botocore.session.get_session()
        data_path = session.get_config_variable("data_path") or ""  # AWS_DATA_PATH, read as botocore reads it
        paths = [os.path.expanduser(os.path.expandvars(p)) for p in data_path.split(os.pathsep) if p]
        session.register_component("data_loader", _loader_class()(extra_search_paths=paths))
        _session = session
    return _session


def _loader_class() -> Any:
    """botocore's data `Loader`, less two costs of a first client (measured with botocore 1.44 on 2 cores:
    a DynamoDB client's 60 ms of CPU become 30 ms):

    - to check that the service asked for exists, it lists every service it ships (~450 folders, once
      for the model and once for the endpoint rules); this one lists only the services we make clients for;
    - it parses its JSON (1.3 MB of endpoints among it) into `OrderedDict`s, at half the speed of `dict`s,
      which keep their order as well since Python 3.7.

    Defined on first use: botocore stays out of paths that store nothing (create-session without the
    rate limit). Overrides public methods of `Loader` and `JSONFileLoader` only, unchanged for years.
    """
    from botocore.exceptions import DataNotFoundError
    from botocore.loaders import JSONFileLoader, Loader

    class Files(JSONFileLoader):
        def load_file(self, file_path: str) -> Any:
            for suffix, opener in ((".json", open), (".json.gz", gzip.open)):
                if os.path.isfile(file_path + suffix):
                    with opener(file_path + suffix, "rb") as handle:
                        return json.loads(handle.read())
            return None

    class ListedServices(Loader):
        def __init__(self, **kwargs: Any) -> None:
            super().__init__(file_loader=Files(), **kwargs)
            self.services: set[str] = set()

        def list_available_services(self, type_name: str) -> list[str]:
            found = []
            for name in sorted(self.services):
                try:
                    self.list_api_versions(name, type_name)
                except DataNotFoundError:
                    continue
                found.append(name)
            return found

    return ListedServices
