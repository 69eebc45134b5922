"""A load of signed webhook deliveries against the real server and a local DynamoDB server.

    python -m tests.load.webhook_load [--orders 1000] [--senders 16] [--duplicates 0.2] [--seed 7]

Each order gets four events (a purchase, one-time or a subscription in either API shape, then refunds,
failed refunds, disputes won and lost, expiry or a delayed payment), so the
default 1,000 orders make 4,000 events, and with 20 % of deliveries duplicates, 5,000 in all, shuffled,
sent by 16 concurrent senders that retry what does not get a 2xx, as Stripe does. Afterwards every
order must exist once, with its correct final status and exactly one fulfilment. Loopback only;
bounded in count and time.
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
from dataclasses import dataclass, field
from typing import Any

import httpx

from shared.orders.fulfilment import Fulfiller
from shared.settings import Settings
from shared.store.dynamo import DynamoStore
from shared.web.app import create_app
from shared.web.services import Services
from tests.fakes import (
    RecordingAction,
    RecordingNotices,
    make_charge,
    make_dispute,
    make_event,
    make_invoice,
    make_invoice_payment,
    make_refund,
    make_session,
    make_subscription_session,
    signed,
)
from tests.livesrv import LiveServer

SECRET = "whsec_load_test_secret"
MAX_ATTEMPTS = 60
TIME_LIMIT = 600.0

# Each kind of order: the status its four events end in whatever order they arrive in, and whether it
# is then fulfilled: always, or (when money may be taken back before it could be) at most once.
KINDS = {
    "disputed_then_refunded": ("partially_refunded", "once"),
    "delayed_payment": ("paid", "once"),
    "dispute_lost": ("dispute_lost", "at_most_once"),  # fulfilled only if it came before the dispute
    "failed_refund": ("paid", "once"),  # refunded, then the refund failed: the money is the seller's
    "subscription_refunded": ("refunded", "at_most_once"),  # basil: the payment is linked by invoice_payment.paid
    "subscription_disputed_won": ("paid", "once"),  # acacia: the invoice names its payment
}


def order_events(kind: str, base: int) -> tuple[str, list[dict[str, Any]]]:
    pi = f"pi_{uuid.uuid4().hex[:20]}"
    paid = make_session(payment_intent=pi)
    objects: list[tuple[str, dict[str, Any]]]
    if kind.startswith("subscription"):
        invoice, sub = f"in_{uuid.uuid4().hex[:20]}", f"sub_{uuid.uuid4().hex[:20]}"
        paid = make_subscription_session(invoice=invoice, subscription=sub)
        shape = "basil" if kind == "subscription_refunded" else "acacia"
        objects = [("checkout.session.completed", paid),
                   ("invoice.paid", make_invoice(invoice, sub, shape=shape, payment_intent=pi,
                                                 billing_reason="subscription_create"))]
        if shape == "basil":
            objects += [("invoice_payment.paid", make_invoice_payment(invoice, pi)),
                        ("charge.refunded", make_charge(pi, amount=500, amount_refunded=500))]
        else:
            objects += [("charge.dispute.created", make_dispute(pi, amount=500)),
                        ("charge.dispute.closed", make_dispute(pi, status="won", amount=500))]
    elif kind == "disputed_then_refunded":
        objects = [("checkout.session.completed", paid), ("charge.dispute.created", make_dispute(pi)),
                   ("charge.dispute.closed", make_dispute(pi, status="won")),
                   ("charge.refunded", make_charge(pi, amount_refunded=1000))]
    elif kind == "delayed_payment":
        unpaid = dict(paid, payment_status="unpaid")
        objects = [("checkout.session.completed", unpaid), ("checkout.session.async_payment_succeeded", paid),
                   ("checkout.session.expired", dict(paid, status="expired")),
                   ("charge.dispute.closed", make_dispute(pi, status="won"))]
    elif kind == "failed_refund":
        refund = make_refund(pi, status="pending", created=base - 10)
        objects = [("checkout.session.completed", paid), ("refund.created", refund),
                   ("charge.refunded", make_charge(pi)), ("refund.failed", dict(refund, status="failed"))]
    else:
        objects = [("checkout.session.completed", paid), ("checkout.session.expired", dict(paid, status="expired")),
                   ("charge.dispute.created", make_dispute(pi)),
                   ("charge.dispute.closed", make_dispute(pi, status="lost"))]
    return paid["id"], [make_event(t, o, created=base + i) for i, (t, o) in enumerate(objects)]


class MotoProcess:
    """The tests' DynamoDB-compatible server in its own process, so it has a core of its own."""

    def start(self) -> MotoProcess:
        import socket
        import subprocess
        import sys

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        self._process = subprocess.Popen([sys.executable, "-m", "tests.dynamo_server", str(port)],
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(self.url + "/moto-api/", timeout=1)
                return self
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError("moto's server did not start")

    def stop(self) -> None:
        self._process.terminate()
        self._process.wait(10)


@dataclass
class Result:
    deliveries: int = 0
    attempts: int = 0
    latencies: list[float] = field(default_factory=list)
    gave_up: int = 0
    elapsed: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)


def run(orders: int = 1000, senders: int = 16, duplicates: float = 0.2, seed: int = 7,
        quiet: bool = False) -> dict[str, Any]:
    rng = random.Random(seed)
    # The local server takes any credentials; these keep boto3 from looking for real ones.
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "load")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "load")
    dynamo = MotoProcess().start()
    store = DynamoStore(f"load-{uuid.uuid4().hex[:8]}", endpoint_url=dynamo.url, region="us-east-1")
    store.create_table()
    hook, notices = RecordingAction(), RecordingNotices()
    settings = Settings.from_env({"STRIPE_WEBHOOK_SECRET": SECRET, "RATE_LIMIT": "off"})
    server = LiveServer().start(create_app(Services(settings, store=store,
                                                    fulfiller=Fulfiller([hook], notify=notices))))
    try:
        expected: dict[str, tuple[str, str]] = {}
        events: list[dict[str, Any]] = []
        base = int(time.time()) - 3600
        kinds = list(KINDS)
        for n in range(orders):
            kind = kinds[n % len(kinds)]
            session_id, made = order_events(kind, base + n)
            expected[session_id] = KINDS[kind]
            events += made
        # `duplicates` is the share of all deliveries that repeat one: 20 % of 5,000 is 1,000 repeats.
        deliveries = events + rng.sample(events, round(len(events) * duplicates / (1 - duplicates)))
        rng.shuffle(deliveries)
        result = _send(server.url, deliveries, senders)
        return _check(store, expected, hook, notices, result, quiet)
    finally:
        server.stop()
        dynamo.stop()


def _send(url: str, deliveries: list[dict[str, Any]], senders: int) -> Result:
    result = Result()
    deadline = time.monotonic() + TIME_LIMIT
    local = threading.local()

    def deliver(event: dict[str, Any]) -> None:
        if not hasattr(local, "client"):
            local.client = httpx.Client(base_url=url, timeout=30)
        for attempt in range(MAX_ATTEMPTS):
            if time.monotonic() > deadline:
                break
            body, headers = signed(event, SECRET)  # re-signed per attempt, as Stripe does
            started = time.perf_counter()
            status = local.client.post("/api/webhook", content=body, headers=headers).status_code
            with result.lock:
                result.latencies.append(time.perf_counter() - started)
                result.attempts += 1
            if status == 200:
                with result.lock:
                    result.deliveries += 1
                return
            time.sleep(min(0.5, 0.01 * 2 ** attempt))  # Stripe backs off too
        with result.lock:
            result.gave_up += 1

    started = time.perf_counter()
    with ThreadPoolExecutor(senders) as pool:
        list(pool.map(deliver, deliveries))
    result.elapsed = time.perf_counter() - started
    return result


def _check(store: DynamoStore, expected: dict[str, tuple[str, str]], hook: RecordingAction,
           notices: RecordingNotices, result: Result, quiet: bool) -> dict[str, Any]:
    import boto3
    from botocore.config import Config

    from shared.store.attributes import load as _load

    # The check reads the whole table: a patient client of its own, not the function's.
    reader = boto3.client("dynamodb", endpoint_url=store._endpoint_url, region_name="us-east-1",
                          config=Config(read_timeout=300))
    orders: dict[str, dict[str, Any]] = {}
    kwargs: dict[str, Any] = {"TableName": store.table}
    while True:
        page = reader.scan(**kwargs)
        for raw in page["Items"]:
            item = _load(raw)
            if item["pk"].startswith("ORDER#"):
                orders[item["session_id"]] = item
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    fulfilments = {sid: hook.calls.count(sid) for sid in expected}
    told = [n["order"]["session_id"] for n in notices.notices if n["kind"] == "dispute_lost"]

    def fulfilled(sid: str) -> bool:
        return orders.get(sid, {}).get("done_at") is not None

    latencies = sorted(result.latencies)
    report = {
        "deliveries": result.deliveries,
        "attempts": result.attempts,
        "gave_up": result.gave_up,
        "orders_expected": len(expected),
        "orders_stored": len(orders),
        "orders_lost": len(set(expected) - set(orders)),
        "wrong_status": sum(1 for sid, (status, _) in expected.items() if orders.get(sid, {}).get("status") != status),
        "double_fulfilments": sum(1 for count in fulfilments.values() if count > 1),
        "unfulfilled": sum(1 for sid, (_, rule) in expected.items() if rule == "once" and fulfilments[sid] == 0),
        # Fulfilled exactly when the order says so; taken back first, never fulfilled.
        "fulfilment_mismatch": sum(1 for sid in expected if fulfilments[sid] != (1 if fulfilled(sid) else 0)),
        "lost_disputes_told": len(told),
        "lost_notice_mismatch": sum(1 for sid, (status, _) in expected.items() if status == "dispute_lost"
                                    and told.count(sid) != (1 if fulfilled(sid) else 0)),
        "throughput_per_s": round(result.deliveries / result.elapsed, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 2),
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 2),
        "elapsed_s": round(result.elapsed, 1),
    }
    if not quiet:
        for name, value in report.items():
            print(f"{name:20} {value}")
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--senders", type=int, default=16)
    parser.add_argument("--duplicates", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    report = run(args.orders, args.senders, args.duplicates, args.seed)
    ok = not (report["orders_lost"] or report["wrong_status"] or report["double_fulfilments"]
              or report["unfulfilled"] or report["gave_up"] or report["fulfilment_mismatch"]
              or report["lost_notice_mismatch"])
    print("OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
