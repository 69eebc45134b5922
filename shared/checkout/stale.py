"""`release-stale`: held reservations whose checkout is over without our having heard how.

Events settle almost every reservation (`checkout.session.expired`, the payment, a failed delayed
payment). What is left is a create-session that died between reserving and Stripe's answer, or an
event that never came. For each reservation held past its window plus a grace period, Stripe is
asked about its session — by ID when the reservation has it (a retried click linked them), else among
the sessions created around the reservation, by the reservation id in their metadata: create-session
writes nothing after Stripe answers, so this is how most are found, listed once per run for all the
reservations of the same ten minutes (a rush's stale holds cost a few pages, not a call each) — and the
answer settles it through the same conditional steps events take, so racing an event changes nothing twice:

- no session (Stripe never made it), or an expired one: released;
- still open past its end: expired through the API (so nobody can pay it), then released;
- paid: sold; completed but unpaid (a delayed payment): left held for its outcome's event.

The CLI runs it (`python -m shared stock release-stale`), Lambda every 15 minutes (serverless.yml),
and Vercel Cron through `GET /api/release-stale`.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

from ..errors import DomainError, NotFound
from ..orders.reservations import RESERVATION_METADATA_KEY, release, sell
from ..store.base import Item, Store
from ..store.keys import held_reservations
from .stripe_api import StripeGateway

PAID = ("paid", "no_payment_required")  # a completed session's payment_status once the money is in
GRACE_SECONDS = 15 * 60  # past a session's end, time for Stripe to expire it and for its event to arrive
BATCH = 200  # reservations settled per run at most: the next run goes on (a Vercel function has 15 s)
CREATED_SLACK = 300  # seconds around the reservation in which its session was created (clock skew, timeouts)
SPAN = 600  # seconds of reservations whose sessions one listing covers


@dataclass
class StaleReport:
    released: list[str] = field(default_factory=list)
    sold: list[str] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)  # completed, the delayed payment not in yet
    unchanged: list[str] = field(default_factory=list)  # settled meanwhile by an event
    failed: list[tuple[str, str]] = field(default_factory=list)  # (reservation, error code)

    def counts(self) -> dict[str, int]:
        return {name: len(value) for name, value in asdict(self).items()}


def release_stale(store: Store, gateway: StripeGateway, *, now: int | None = None, grace: int = GRACE_SECONDS,
                  limit: int = BATCH) -> StaleReport:
    """Settle each reservation held past its window plus `grace`, oldest first, `limit` at most."""
    now = int(time.time()) if now is None else now
    report = StaleReport()
    sessions = _Sessions(gateway)
    for seen, item in enumerate(store.query_range(*held_reservations())):
        if seen >= limit or int(item.get("hold_until") or 0) + grace > now:
            break  # the index is by the end of the hold: the rest are not due yet
        reservation_id = str(item["reservation_id"])
        try:
            outcome = _settle(store, gateway, sessions.of(item), item, now)
        except DomainError as exc:
            report.failed.append((reservation_id, exc.code.value))
            continue
        getattr(report, outcome).append(reservation_id)
    return report


def _settle(store: Store, gateway: StripeGateway, session: dict[str, Any] | None, item: Item, now: int) -> str:
    reservation_id = str(item["reservation_id"])
    if session is not None and session.get("status") == "complete":
        if session.get("payment_status") not in PAID:
            return "waiting"
        done = sell(store, reservation_id, session_id=session["id"], now=now)
        return "sold" if done else "unchanged"
    if session is not None and session.get("status") == "open":
        gateway.expire_session(session["id"])  # past its end and still payable: not any more
    reason = "expired" if session is not None else "no_session"
    return "released" if release(store, reservation_id, reason=reason, now=now) else "unchanged"


class _Sessions:
    """The reservations' sessions as Stripe has them now (None: Stripe never made one), for one run."""

    def __init__(self, gateway: StripeGateway) -> None:
        self.gateway = gateway
        self._listed: set[int] = set()
        self._by_reservation: dict[str, dict[str, Any]] = {}

    def of(self, item: Item) -> dict[str, Any] | None:
        if item.get("session_id"):
            try:
                return self.gateway.retrieve_session(str(item["session_id"]))
            except NotFound:
                return None
        span = int(item.get("reserved_at") or 0) // SPAN
        if span not in self._listed:
            since, until = span * SPAN - CREATED_SLACK, (span + 1) * SPAN + CREATED_SLACK
            for session in self.gateway.sessions_created(since, until):
                named = (session.get("metadata") or {}).get(RESERVATION_METADATA_KEY)
                if isinstance(named, str):
                    self._by_reservation.setdefault(named, session)
            self._listed.add(span)
        return self._by_reservation.get(str(item["reservation_id"]))
