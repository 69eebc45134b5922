"""Which prices have limited stock, as this warm instance last read them.

Most carts hold nothing limited, and learning that from the table would cost every create-session a
DynamoDB round trip. So a warm instance keeps, per stock reference, whether it is limited, as long as it
keeps the price itself (the price cache's 60 s and bound: `prices.py`): a cart of known, unlimited prices
makes no DynamoDB call beside the rate limiter's.

The trade-off, stated: a price that becomes limited (`stock set`, `catalog sync`) while instances are warm
is checked by each of them from at most 60 s later; until then it sells as it did before, unchecked. The
other way is safe: a price believed limited whose stock item is gone or set unlimited fails the
reservation's condition, which says so (`orders/reservations.py`), and is then sold without a hold —
neither refused nor held against counts that no longer apply.

What a request lacks is read in one BatchGetItem. When Stripe is being asked about the prices anyway (not
cached), the read runs beside that look-up (`prefetch`): a cold cart waits for the slower of the two, not
their sum, and the answers are renewed with the prices, so both expire about together.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

from ..orders import stock
from ..store.base import Store
from ._expiring import Expiring

# Threads start on first use; a read takes one of them for one round trip.
_reads = ThreadPoolExecutor(max_workers=4, thread_name_prefix="stock-status")


class LimitedPrices:
    """Whether each stock reference (`checkout.stock.stock_ref`) is limited, each answer kept `ttl` seconds."""

    def __init__(self, *, ttl: float, size: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self._known: Expiring[str, bool] = Expiring(size, clock)
        self._reading: dict[str, Future[dict[str, bool]]] = {}
        self._lock = threading.Lock()

    def prefetch(self, store: Store, refs: Sequence[str]) -> list[Future[dict[str, bool]]]:
        """Read `refs` in the background, known or not (the answers are renewed), for `which` to take as
        `early`. A reference already being read joins that read: a burst of clicks makes one."""
        with self._lock:
            joined = {self._reading[ref] for ref in refs if ref in self._reading}
            new = [ref for ref in dict.fromkeys(refs) if ref not in self._reading]
            if new:
                future = _reads.submit(self._read_beside, store, new)
                self._reading.update(dict.fromkeys(new, future))
                joined.add(future)
        return list(joined)

    def which(self, store: Store, refs: Sequence[str], *,
              early: Iterable[Future[dict[str, bool]]] = ()) -> set[str]:
        """The references among `refs` that are limited: as known, once the `early` reads are in; what is
        still unknown, read now in one call. Raises what a read raised (`StoreUnavailable`): unknown is
        never taken for unlimited."""
        known: dict[str, bool] = {}
        for future in early:
            known.update(future.result())
        known.update({ref: limited for ref, limited in self._known.fresh(refs).items() if ref not in known})
        missing = [ref for ref in dict.fromkeys(refs) if ref not in known]
        if missing:
            known.update(self._read(store, missing))
        return {ref for ref in refs if known[ref]}

    def note(self, found: Mapping[str, bool]) -> None:
        """What was learnt elsewhere (a reservation's transaction): these references are limited, or not."""
        for ref, limited in found.items():
            self._known.put(ref, limited, ttl=self.ttl)

    def _read(self, store: Store, refs: Sequence[str]) -> dict[str, bool]:
        found = {ref: available is not None for ref, available in stock.read(store, refs).items()}
        self.note(found)
        return found

    def _read_beside(self, store: Store, refs: Sequence[str]) -> dict[str, bool]:
        try:
            return self._read(store, refs)
        finally:
            with self._lock:  # registered before this can run: `prefetch` holds the lock meanwhile
                for ref in refs:
                    self._reading.pop(ref, None)
