"""A bounded map whose entries expire: what a warm instance remembers of Stripe's prices and of which of
them have limited stock. At most `size` entries, the least recently used dropped first; safe to share
between the threads of a local server."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Expiring(Generic[K, V]):
    def __init__(self, size: int, clock: Callable[[], float]) -> None:
        self.size = size
        self.clock = clock
        self._entries: OrderedDict[K, tuple[float, V]] = OrderedDict()
        self._lock = threading.Lock()

    def fresh(self, keys: Iterable[K]) -> dict[K, V]:
        """The entries among `keys` that have not expired."""
        now = self.clock()
        found: dict[K, V] = {}
        with self._lock:
            for key in keys:
                entry = self._entries.get(key)
                if entry is not None and entry[0] > now:
                    self._entries.move_to_end(key)
                    found[key] = entry[1]
        return found

    def put(self, key: K, value: V, *, ttl: float) -> None:
        until = self.clock() + ttl
        with self._lock:
            self._entries[key] = (until, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)
