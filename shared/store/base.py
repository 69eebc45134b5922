"""What the logic above sees of storage: a few calls — read, versioned write, claim, finish, release,
query, increment, and a transaction over several items (partial updates and whole versioned items) —
and the errors they raise. The logic receives a `Store` as a parameter, so tests hand it an in-memory
one; `dynamo.py` is the real one.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from .. import telemetry

Item = dict[str, Any]


class Claim(enum.Enum):
    CLAIMED = "claimed"  # ours now, until the lease ends
    DONE = "done"  # finished before: nothing to do
    IN_PROGRESS = "in_progress"  # someone else holds an unexpired lease


class VersionConflict(Exception):
    """Another writer changed the item since it was read; read again and retry."""


@dataclass(frozen=True)
class Write:
    """One item's part of a transaction (`Store.transact`): conditions on the item as it is, then changes.

    Every condition of every write holds, and then all the changes are made, or nothing is written.
    An attribute a condition names must exist: `at_least` on a missing number fails, as DynamoDB's does.
    """

    key: str
    new: bool = False  # the item must not exist yet
    equals: Mapping[str, Any] = field(default_factory=dict)  # attribute == value
    at_least: Mapping[str, int] = field(default_factory=dict)  # number attribute >= value
    set: Mapping[str, Any] = field(default_factory=dict)
    add: Mapping[str, int] = field(default_factory=dict)  # added to numbers (a missing one counts from 0)
    remove: tuple[str, ...] = ()  # attributes to delete (a lease's, say)


@dataclass(frozen=True)
class Put:
    """One item's part of a transaction written whole, as `Store.put` writes it: the item replaces what
    is there on the condition that its version is still `expected_version` (0: that there is none).
    What a read-decide-write changed, committed beside other items' changes (`store/unit.py`)."""

    key: str
    item: Item
    expected_version: int


class TransactionFailed(Exception):
    """A condition of a transaction did not hold, so nothing was written.

    `failed` maps the position of each write whose condition failed to its item as it was (None when
    there was none): the caller learns why (e.g. how many are left) without reading again.
    """

    def __init__(self, failed: dict[int, Item | None]) -> None:
        super().__init__(f"transaction condition failed at {sorted(failed)}")
        self.failed = failed


class Records(Protocol):
    """What applying a change to records needs: a read and the two writes that follow one. A `Store`
    does each at once; a `Unit` (`store/unit.py`) gathers them into one transaction."""

    def get(self, key: str) -> Item | None: ...

    def put(self, key: str, item: Item, *, expected_version: int) -> None:
        """Write `item` with version `expected_version + 1`; 0 means the item must not exist yet."""

    def set_fields(self, key: str, fields: Item) -> Item:
        """Set these attributes (creating the item if needed), bump its version; returns the item after."""


class Store(Protocol):
    def get(self, key: str) -> Item | None: ...

    def get_many(self, keys: Sequence[str]) -> dict[str, Item]:
        """The items that exist among `keys` (at most 100), by key, read consistently."""

    def put(self, key: str, item: Item, *, expected_version: int) -> None:
        """Write `item` with version `expected_version + 1`; 0 means the item must not exist yet."""

    def claim(self, key: str, token: str, *, now: int, until: int, expires_at: int | None = None,
              create: bool = True, fields: Item | None = None) -> Claim:
        """Take the item's lease if it is free and not done. `fields` are set too, in the same write,
        only when the claim succeeds."""

    def finish(self, key: str, token: str, *, now: int, fields: Item | None = None) -> None:
        """Set `done_at` (and `fields`) and drop the lease, if this token still holds it."""

    def complete(self, key: str, *, now: int) -> Claim:
        """Set `done_at` at once, if nobody has and no live claim is held: a claim and its finish in
        one write, for work that has nothing to do between them. CLAIMED means this call did it."""

    def set_fields(self, key: str, fields: Item) -> Item:
        """Set these attributes (creating the item if needed), bump its version; returns the item after."""

    def release(self, key: str, token: str, *, fields: Item | None = None) -> None:
        """Drop the lease (setting `fields`, to say why) if this token still holds it."""

    def query(self, index: str, partition: str, *, limit: int) -> list[Item]:
        """The first `limit` items of an index partition, newest (greatest sort key) first."""

    def query_range(self, index: str, partition: str, *, start: str = "",
                    attributes: Sequence[str] | None = None) -> Iterator[Item]:
        """Every item of an index partition whose sort key is `start` or greater, oldest first, read a
        page at a time as the caller iterates; only `attributes` of each, when named."""

    def increment(self, key: str, *, expires_at: int) -> int:
        """Add one to the item's counter, atomically; returns the new count."""

    def transact(self, writes: Sequence[Write | Put]) -> None:
        """Make all the writes (each on its own item, at most 100) at once, or none: `TransactionFailed`
        when a condition does not hold. Each written item's version goes up by one."""


def release_after_failure(store: Store, key: str, token: str, *, correlation_id: str,
                          fields: Item | None = None) -> None:
    """Free a lease after the work under it failed, without hiding that failure: should the release
    fail too, it is logged and the caller re-raises the first error. The lease then runs out by itself,
    and the retry after it claims the key. `fields` (why it failed) are set in the release's write."""
    try:
        store.release(key, token, fields=fields)
    except Exception as exc:  # any: the work's failure, not this one, is what the caller must report
        telemetry.logger().warning("lease not released", extra={
            "correlation_id": correlation_id, "key_kind": key.split("#", 1)[0], "error": type(exc).__name__})
