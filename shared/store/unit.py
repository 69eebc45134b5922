"""A unit of work: read what a change needs in one request, write all it changed in one transaction.

Applying an event reads a few records (the order, the payment's link, an invoice) and writes some of
them back, each under optimistic concurrency. Made one by one, that is a read and a write per record.
A `Unit` is handed to the same code as the store would be (it has the `Records` calls): the records
named up front come from one `get_many`, others from a `get` each, and the writes are only gathered,
every one conditional on the version that was read. `commit` makes them in one transaction (or one
`put` when a single item changed): all of them or, should any record have changed since it was read,
none (`TransactionFailed`), and the caller starts again from a fresh read.

This is stronger than one write after another: nobody ever sees half a change.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

from .base import Item, Put, Store, VersionConflict


class Unit:
    def __init__(self, store: Store, read: Sequence[str] = ()) -> None:
        self.store = store
        self._read: dict[str, Item | None] = {}  # each record as it was read: what the writes are conditional on
        self._now: dict[str, Item] = {}  # each record as this unit has written it
        if read:
            found = store.get_many(read)
            self._read.update({key: found.get(key) for key in read})

    def get(self, key: str) -> Item | None:
        """The record as this unit sees it: its own write, else as read (a `get` the first time a
        record not named up front is asked for)."""
        if key in self._now:
            return copy.deepcopy(self._now[key])
        if key not in self._read:
            self._read[key] = self.store.get(key)
        found = self._read[key]
        return copy.deepcopy(found) if found is not None else None

    def put(self, key: str, item: Item, *, expected_version: int) -> None:
        """Gather a versioned write: `expected_version` is the version this unit shows for the record."""
        if self._version(key) != expected_version:
            raise VersionConflict()
        self._now[key] = {**copy.deepcopy(item), "pk": key, "version": self._base(key) + 1}

    def set_fields(self, key: str, fields: Item) -> Item:
        """Gather a write of these attributes onto the record as read: conditional, like every write
        here, on nobody having changed the record meanwhile."""
        current = self.get(key) or {"pk": key}
        self._now[key] = {**current, **copy.deepcopy(fields), "pk": key, "version": self._base(key) + 1}
        return copy.deepcopy(self._now[key])

    def writes(self) -> list[Put]:
        """The transaction's items: each record written, whole, on the condition of its version as read."""
        return [Put(key, {k: v for k, v in item.items() if k not in ("pk", "version")},
                    expected_version=self._base(key)) for key, item in self._now.items()]

    def commit(self) -> None:
        """Make every gathered write at once, or raise `TransactionFailed`/`VersionConflict` having written
        nothing. One item goes as a single `put`: a transaction costs twice the capacity."""
        writes = self.writes()
        if len(writes) == 1:
            self.store.put(writes[0].key, writes[0].item, expected_version=writes[0].expected_version)
        elif writes:
            self.store.transact(writes)

    def _base(self, key: str) -> int:
        read = self._read.get(key)
        return int(read.get("version", 0)) if read else 0

    def _version(self, key: str) -> int:
        if key in self._now:
            return int(self._now[key]["version"])
        return self._base(key)
