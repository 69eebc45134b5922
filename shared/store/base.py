"""What the logic above sees of storage: a few calls — read, versioned write, claim, finish, release,
query, increment — and the errors they raise. The logic receives a `Store` as a parameter, so tests
hand it an in-memory one; `dynamo.py` is the real one.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Sequence
from typing import Any, Protocol

from .. import telemetry

Item = dict[str, Any]


class Claim(enum.Enum):
    CLAIMED = "claimed"  # ours now, until the lease ends
    DONE = "done"  # finished before: nothing to do
    IN_PROGRESS = "in_progress"  # someone else holds an unexpired lease


class VersionConflict(Exception):
    """Another writer changed the item since it was read; read again and retry."""


class Store(Protocol):
    def get(self, key: str) -> Item | None: ...

    def put(self, key: str, item: Item, *, expected_version: int) -> None:
        """Write `item` with version `expected_version + 1`; 0 means the item must not exist yet."""

    def claim(self, key: str, token: str, *, now: int, until: int, expires_at: int | None = None,
              create: bool = True) -> Claim: ...

    def finish(self, key: str, token: str, *, now: int) -> None: ...

    def complete(self, key: str, *, now: int) -> Claim:
        """Set `done_at` at once, if nobody has and no live claim is held: a claim and its finish in
        one write, for work that has nothing to do between them. CLAIMED means this call did it."""

    def set_fields(self, key: str, fields: Item) -> Item:
        """Set these attributes (creating the item if needed), bump its version; returns the item after."""

    def release(self, key: str, token: str) -> None: ...

    def query(self, index: str, partition: str, *, limit: int) -> list[Item]:
        """The first `limit` items of an index partition, newest (greatest sort key) first."""

    def query_range(self, index: str, partition: str, *, start: str = "",
                    attributes: Sequence[str] | None = None) -> Iterator[Item]:
        """Every item of an index partition whose sort key is `start` or greater, oldest first, read a
        page at a time as the caller iterates; only `attributes` of each, when named."""

    def increment(self, key: str, *, expires_at: int) -> int:
        """Add one to the item's counter, atomically; returns the new count."""


def release_after_failure(store: Store, key: str, token: str, *, correlation_id: str) -> None:
    """Free a lease after the work under it failed, without hiding that failure: should the release
    fail too, it is logged and the caller re-raises the first error. The lease then runs out by itself,
    and the retry after it claims the key."""
    try:
        store.release(key, token)
    except Exception as exc:  # any: the work's failure, not this one, is what the caller must report
        telemetry.logger().warning("lease not released", extra={
            "correlation_id": correlation_id, "key_kind": key.split("#", 1)[0], "error": type(exc).__name__})
