"""A rush on the last units, against the real server, the Stripe stand-in and DynamoDB over HTTP.

    python -m tests.load.stock_load [--buyers 200] [--units 10] [--expire 3] [--pay 2] [--seed 7]

`buyers` distinct clients (each its own address and idempotency key) ask for one unit each at the same
moment while `units` are left. Exactly `units` sessions must be made and every other buyer told
`409 out_of_stock`, `available` never below zero (watched throughout). Then `expire` of those sessions
expire and `pay` are paid, their events delivered shuffled and each several times, concurrently; a
create-session crashes between reserving and Stripe; a cart with one sold-out line is refused; and
`release-stale` settles what is left. Every unit must be accounted for at each step. Loopback only.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from shared.checkout.prices import Price
from shared.checkout.stale import release_stale
from shared.checkout.stock import create_with_stock
from shared.checkout.stripe_api import StripeGateway
from shared.orders import stock as counts
from shared.orders.fulfilment import Fulfiller
from shared.orders.reservations import RESERVATION_METADATA_KEY, OutOfStock, reserve
from shared.settings import Settings
from shared.store.dynamo import DynamoStore
from shared.web.app import create_app
from shared.web.client import PROXY_SECRET_HEADER
from shared.web.services import Services
from tests.fakes import make_event, signed
from tests.livesrv import LiveServer
from tests.load.webhook_load import MotoProcess

SECRET = "whsec_stock_load_secret"
STRIPE_KEY = "sk_test_51StockLoadKey000000"
PROXY_SECRET = "stock-load-proxy-secret-0123456789abcdef"  # the buyers' addresses come through "our proxy"
REF = "edition-print"  # the limited price's lookup key: where its stock is counted


class Crash(BaseException):
    """The process dying between reserving and Stripe's answer: nothing after it runs, no cleanup either."""


class CrashingGateway:
    def create_session(self, params: dict[str, Any], *, idempotency_key: str) -> dict[str, Any]:
        raise Crash()


def run(buyers: int = 200, units: int = 10, expire: int = 3, pay: int = 2, seed: int = 7,
        quiet: bool = False) -> dict[str, Any]:
    from shared.demo.standin import StripeStandIn

    rng = random.Random(seed)
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "load")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "load")
    dynamo = MotoProcess().start()
    standin = StripeStandIn().start()
    store = DynamoStore(f"stock-{uuid.uuid4().hex[:8]}", endpoint_url=dynamo.url, region="us-east-1")
    store.create_table()
    price = standin.add_price(unit_amount=4000, product_name="Edition print", lookup_key=REF)
    standin.add_price(unit_amount=900, product_name="Postcard", lookup_key="postcard")
    server = LiveServer()
    env = {"STRIPE_SECRET_KEY": STRIPE_KEY, "STRIPE_WEBHOOK_SECRET": SECRET, "STRIPE_API_BASE": standin.url,
           "SITE_URL": server.url, "ALLOWED_PRICES": f"{REF},postcard", "RATE_LIMIT": "5/60",
           "CLIENT_IP_HEADER": "x-real-ip", "PROXY_SECRET": PROXY_SECRET, "STRIPE_TIMEOUT": "30"}
    settings = Settings.from_env(env)
    server.start(create_app(Services(settings, store=store, fulfiller=Fulfiller([]))))
    try:
        counts.set_available(store, REF, units)
        report: dict[str, Any] = {"buyers": buyers, "units": units}
        watch = Watcher(store)
        with watch:
            answers, latencies, elapsed = _rush(server.url, buyers)
        made = [a["id"] for status, a in answers if status == 200]
        refusals = [a for status, a in answers if status == 409]
        report.update(sessions=len(made), out_of_stock=len(refusals),
                      other_answers=sorted({status for status, _ in answers} - {200, 409}),
                      refusals_saying_none_left=sum(1 for a in refusals if a["error"].get("available") == 0),
                      lowest_available_seen=watch.lowest, after_rush=_levels(store),
                      p50_ms=round(statistics.median(latencies) * 1000, 1),
                      p99_ms=round(latencies[max(0, int(len(latencies) * 0.99) - 1)] * 1000, 1),
                      rush_s=round(elapsed, 2))

        # A cart whose second line is sold out reserves nothing, not even its first line's units.
        counts.set_available(store, "postcard", 5)
        try:
            reserve(store, f"cart-{uuid.uuid4().hex}", [("postcard", 2), (REF, 1)], hold_until=int(time.time()) + 1860)
            report["cart_refused_on_line"] = None
        except OutOfStock as short:
            report["cart_refused_on_line"] = short.line
        report["postcard_after_cart"] = counts.current(store, "postcard").available

        # Some checkouts expire, some are paid: each event shuffled and delivered three times at once.
        rng.shuffle(made)
        expired, paid = made[:expire], made[expire:expire + pay]
        gateway = StripeGateway(settings)
        events = [make_event("checkout.session.expired", gateway.expire_session(sid)) for sid in expired]
        for sid in paid:
            standin.complete_session(sid)
            events.append(make_event("checkout.session.completed", standin.sessions[sid]))
        deliveries = events * 3
        rng.shuffle(deliveries)
        statuses = _deliver(server.url, deliveries)
        report.update(event_answers=sorted(set(statuses)), after_events=_levels(store))

        # A create-session that dies after reserving, before Stripe answers: the unit stays held.
        counts.add_available(store, REF, 1)
        try:
            create_with_stock(store, CrashingGateway(), [(Price.from_stripe(price), 1)],  # type: ignore[arg-type]
                              {"mode": "payment", "metadata": {}}, idempotency_key=f"crash-{uuid.uuid4().hex}",
                              expires_at=int(time.time()) + 1860)
        except Crash:
            pass
        report["after_crash"] = _levels(store)

        # release-stale, run after every checkout's window (and grace) ended: the crashed one and the
        # abandoned ones are released, the paid ones stay sold.
        later = int(time.time()) + 24 * 3600
        stale = release_stale(store, gateway, now=later, limit=10_000)
        report.update(release_stale=stale.counts(), after_release_stale=_levels(store),
                      sessions_left_open=sum(1 for sid in made if standin.sessions[sid]["status"] == "open"),
                      metadata_named_reservations=all(
                          standin.sessions[sid]["metadata"].get(RESERVATION_METADATA_KEY) for sid in made))
    finally:
        server.stop()
        standin.stop()
        dynamo.stop()
    if not quiet:
        for name, value in report.items():
            print(f"{name:28} {value}")
    return report


class Watcher:
    """Reads the stock over and over while the rush runs: the lowest `available` it ever saw."""

    def __init__(self, store: DynamoStore) -> None:
        self.store = store
        self.lowest: int | None = None
        self._stop = threading.Event()

    def __enter__(self) -> Watcher:
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()

    def _watch(self) -> None:
        while not self._stop.is_set():
            seen = counts.current(self.store, REF).available
            if seen is not None:
                self.lowest = seen if self.lowest is None else min(self.lowest, seen)
            time.sleep(0.005)


def _rush(url: str, buyers: int) -> tuple[list[tuple[int, Any]], list[float], float]:
    start = threading.Barrier(buyers)
    latencies: list[float] = []
    lock = threading.Lock()

    def buyer(n: int) -> tuple[int, Any]:
        with httpx.Client(base_url=url, timeout=120) as client:
            start.wait()  # every buyer at the same moment
            began = time.perf_counter()
            answer = client.post("/api/create-checkout-session", json={"priceId": REF, "quantity": 1},
                                 headers={"Idempotency-Key": f"buyer-{n}-{uuid.uuid4().hex}",
                                          "X-Real-IP": f"10.{n // 65536}.{n // 256 % 256}.{n % 256}",
                                          # As our proxy would: the address is believed only with its proof.
                                          PROXY_SECRET_HEADER: PROXY_SECRET})
            with lock:
                latencies.append(time.perf_counter() - began)
            return answer.status_code, answer.json()

    began = time.perf_counter()
    with ThreadPoolExecutor(buyers) as pool:
        answers = list(pool.map(buyer, range(buyers)))
    return answers, sorted(latencies), time.perf_counter() - began


def _deliver(url: str, events: list[dict[str, Any]]) -> list[int]:
    def send(event: dict[str, Any]) -> int:
        with httpx.Client(base_url=url, timeout=60) as client:
            for attempt in range(30):  # a 409 (the same event in progress elsewhere) is retried, as Stripe does
                body, headers = signed(event, SECRET)
                status = client.post("/api/webhook", content=body, headers=headers).status_code
                if status == 200:
                    return status
                time.sleep(min(0.5, 0.01 * 2**attempt))
            return status

    with ThreadPoolExecutor(16) as pool:
        return list(pool.map(send, events))


def _levels(store: DynamoStore) -> dict[str, int | None]:
    now = counts.current(store, REF)
    return {"available": now.available, "held": now.held, "sold": now.sold, "oversold": now.oversold}


def check(report: dict[str, Any], *, expire: int = 3, pay: int = 2) -> list[str]:
    """What the run got wrong (empty: nothing)."""
    units, buyers = report["units"], report["buyers"]
    left_open = units - expire - pay
    want = {
        "sessions": units, "out_of_stock": buyers - units, "other_answers": [],
        "refusals_saying_none_left": buyers - units,
        "after_rush": {"available": 0, "held": units, "sold": 0, "oversold": 0},
        "event_answers": [200],
        "after_events": {"available": expire, "held": left_open, "sold": pay, "oversold": 0},
        "after_crash": {"available": expire, "held": left_open + 1, "sold": pay, "oversold": 0},
        "cart_refused_on_line": 2, "postcard_after_cart": 5,
        "release_stale": {"released": left_open + 1, "sold": 0, "waiting": 0, "unchanged": 0, "failed": 0},
        "after_release_stale": {"available": units + 1 - pay, "held": 0, "sold": pay, "oversold": 0},
        "sessions_left_open": 0, "metadata_named_reservations": True,
    }
    wrong = [f"{name}: {report.get(name)!r}, expected {value!r}" for name, value in want.items()
             if report.get(name) != value]
    if report["lowest_available_seen"] is not None and report["lowest_available_seen"] < 0:
        wrong.append(f"available went below zero: {report['lowest_available_seen']}")
    return wrong


def main() -> int:
    # The report, not a log line per request and event: the app's own output stays below warnings.
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--buyers", type=int, default=200)
    parser.add_argument("--units", type=int, default=10)
    parser.add_argument("--expire", type=int, default=3)
    parser.add_argument("--pay", type=int, default=2)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    report = run(args.buyers, args.units, args.expire, args.pay, args.seed)
    wrong = check(report, expire=args.expire, pay=args.pay)
    print("OK" if not wrong else "FAILED:\n  " + "\n  ".join(wrong))
    return 0 if not wrong else 1


if __name__ == "__main__":
    raise SystemExit(main())
