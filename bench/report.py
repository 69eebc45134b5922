"""The sales report over a big table: `python -m bench.report [--orders 50000] [--subscriptions 5000]`.

Fills a store with orders and subscriptions shaped as the webhook records them (built with the same
pure functions: `orders.model.apply`, `orders.subscriptions.apply_subscription`), then times
`python -m shared report`'s work on them: reading (paginated Queries on `by_created`), computing,
and rendering the terminal text, the JSON and the HTML page.

Two stores: the in-memory one the tests use (what the computing and rendering cost, with reading
nearly free), and the embedded DynamoDB-compatible server (moto over loopback HTTP, in a process of
its own, as `serve` runs it when no DynamoDB is configured), where reading is real Query pages.
A benchmark, not a test: it prints figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from ._common import Services, machine_note, median

DAY = 86400
PRODUCTS = [("T-shirt", 1500), ("Poster", 2500), ("Mug", 1200), ("Hoodie", 4500), ("Cap", 1800), ("Tote", 1600),
            ("Sticker pack", 500), ("Notebook", 900), ("Print A3", 3500), ("Print A2", 5500), ("Socks", 1100),
            ("Gift card", 5000)]
CURRENCIES = [("usd", 1), ("eur", 1), ("gbp", 1), ("jpy", 100)]  # and how many minor units one USD cent makes


def orders(count: int, now: int, rng: random.Random) -> list[tuple[str, dict[str, Any]]]:
    """(key, item) for `count` orders created over the last 90 days: mostly paid, some expired, failed or
    awaiting payment; some refunded in part or in full, a few disputed."""
    from shared.events.decide import session_snapshot
    from shared.orders.model import Change, Fact, apply
    from shared.store.keys import order_key

    made = []
    for i in range(count):
        name, cents = rng.choice(PRODUCTS)
        currency, scale = rng.choices(CURRENCIES, weights=(70, 20, 5, 5))[0]
        quantity = rng.choice((1, 1, 1, 2, 3))
        amount = cents * scale * quantity
        created = now - rng.randrange(90 * DAY)
        session_id = f"cs_bench_{i:06d}"
        items = [{"price": f"price_{name.lower().replace(' ', '_')}", "quantity": quantity, "description": name,
                  "amount_total": amount}]
        session = {"id": session_id, "mode": "payment", "amount_total": amount, "amount_subtotal": amount,
                   "currency": currency, "customer_details": {"email": f"buyer{i % 20000}@example.com"},
                   "payment_intent": f"pi_bench_{i:06d}", "created": created, "livemode": False,
                   "metadata": {"static_checkout_items": json.dumps(items)}}
        fate = rng.random()
        fact: Fact = "paid" if fate < 0.80 else "expired" if fate < 0.90 else "payment_failed" if fate < 0.95 else (
            "awaiting_payment")
        order = apply(None, session_id, Change(f"evt_{i}_a", "checkout.session.completed", created + 90,
                                               session=session_snapshot(session), fact=fact))
        assert order is not None
        if fact == "paid" and rng.random() < 0.06:
            refunded = amount if rng.random() < 0.5 else amount // 2
            order = apply(order, session_id, Change(f"evt_{i}_r", "charge.refunded", created + 5 * DAY,
                                                    charge={"id": f"ch_{i}", "amount": amount,
                                                            "amount_refunded": refunded, "currency": currency}))
        elif fact == "paid" and rng.random() < 0.01:
            order = apply(order, session_id, Change(f"evt_{i}_d", "charge.dispute.created", created + 9 * DAY,
                                                    dispute={"id": f"dp_{i}", "status": "needs_response",
                                                             "amount": amount, "currency": currency,
                                                             "open": True, "charge": f"ch_{i}"}))
        assert order is not None
        made.append((order_key(session_id), order))
    return made


def subscriptions(count: int, now: int, rng: random.Random) -> list[tuple[str, dict[str, Any]]]:
    from shared.events.decide import subscription_snapshot
    from shared.orders.changes import SubscriptionChange
    from shared.orders.subscriptions import apply_subscription
    from shared.store.keys import subscription_key

    made = []
    for i in range(count):
        sub_id = f"sub_bench_{i:06d}"
        start = now - rng.randrange(400 * DAY)
        interval = rng.choices(("month", "year", "week"), weights=(80, 15, 5))[0]
        currency = rng.choices(("usd", "eur"), weights=(80, 20))[0]
        status = rng.choices(("active", "trialing", "past_due", "canceled"), weights=(70, 5, 5, 20))[0]
        ended = start + rng.randrange(max(now - start, 1)) if status == "canceled" else None
        obj = {"id": sub_id, "status": status, "customer": f"cus_bench_{i}", "currency": currency, "created": start,
               "start_date": start, "trial_end": start + 14 * DAY if status == "trialing" else None,
               "ended_at": ended, "canceled_at": ended, "cancel_at_period_end": False,
               "items": {"data": [{"price": {"id": f"price_{interval}", "unit_amount": rng.choice((500, 900, 1900)),
                                             "currency": currency, "recurring": {"interval": interval,
                                                                                 "interval_count": 1}},
                                   "quantity": 1, "current_period_end": now + 10 * DAY}]}}
        record = apply_subscription(None, sub_id, SubscriptionChange(
            sub_id, f"evt_sub_{i}", "customer.subscription.updated", ended or start,
            snapshot=subscription_snapshot(obj)))
        assert record is not None
        made.append((subscription_key(sub_id), record))
    return made


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def measure(store: Any, now: int, runs: int) -> dict[str, list[float]]:
    """Each stage of `report`, `runs` times after one run not counted: reading (paginated Queries through
    `report_data`), computing, and rendering the text, the JSON and the HTML page."""
    from shared.cli import report_data, report_html, report_text
    from shared.cli.report import build

    since = now - 90 * DAY
    figures: dict[str, list[float]] = {"read": [], "compute": [], "text": [], "json": [], "html": []}
    for run in range(runs + 1):
        read, (orders_read, subs_read) = timed(lambda: (list(report_data.orders_since(store, since)),
                                                        list(report_data.subscriptions(store))))
        compute, report = timed(partial(build, orders_read, subs_read, since=since, now=now))
        text = timed(partial(report_text.render, report))[0]
        as_json = timed(partial(json.dumps, report, indent=2, sort_keys=True))[0]
        html = timed(partial(report_html.render, report))[0]
        if run:  # the first warms caches (and the page server's), as a second `report` would find them
            for stage, seconds in zip(figures, (read, compute, text, as_json, html), strict=True):
                figures[stage].append(seconds)
    return figures


def show(title: str, figures: dict[str, list[float]]) -> float:
    total = sum(median(values) for values in figures.values())
    print(f"{title}: {total:.2f} s for the whole report (median of {len(figures['read'])} runs)")
    for stage, values in figures.items():
        print(f"  {stage:8} {median(values):7.3f} s   runs: {', '.join(f'{v:.3f}' for v in values)}")
    return total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Time the sales report over a big table.")
    parser.add_argument("--orders", type=int, default=50_000)
    parser.add_argument("--subscriptions", type=int, default=5_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--moto-orders", type=int, default=5_000,
                        help="orders for the embedded DynamoDB (moto), a tenth as many subscriptions; 0: skip")
    args = parser.parse_args(argv)
    print(f"bench.report: {args.orders} orders, {args.subscriptions} subscriptions — {machine_note()}", flush=True)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):  # local servers take any
        os.environ.setdefault(name, "bench")

    from tests.fakes import MemoryStore

    now, rng = int(time.time()), random.Random(7)
    seconds, items = timed(lambda: orders(args.orders, now, rng) + subscriptions(args.subscriptions, now, rng))
    size = sum(len(json.dumps(item)) for _, item in items)
    print(f"built {len(items)} records ({size / 1e6:.1f} MB as JSON) in {seconds:.1f} s\n", flush=True)

    memory = MemoryStore()
    memory.items = {key: {**item, "pk": key, "version": 1} for key, item in items}
    show("in-memory store (reading is the fake's copying)", measure(memory, now, args.runs))

    with PageServer(items, now - 90 * DAY) as server:
        wire = measure(server.store(), now, args.runs)
        total = show("\nDynamoDB's Query protocol over loopback HTTP (botocore, 1 MB pages, served from memory)", wire)
        pages = server.pages_served // (args.runs + 1)
        print(f"  {pages} Query pages a report; DynamoDB answers a page in-region in about 10-30 ms, so "
              f"{total + pages * 0.01:.1f}-{total + pages * 0.03:.1f} s against DynamoDB itself", flush=True)

    if args.moto_orders:
        few = orders(args.moto_orders, now, rng) + subscriptions(args.moto_orders // 10, now, rng)
        with Services() as info:
            store = fill_moto(info, few)
            show(f"\nembedded DynamoDB (moto, {args.moto_orders} orders, {args.moto_orders // 10} subscriptions)",
                 measure(store, now, args.runs))
    return 0


def fill_moto(info: dict[str, str], items: list[tuple[str, dict[str, Any]]]) -> Any:
    import boto3

    from shared import aws
    from shared.store.dynamo import DynamoStore
    from shared.store.keys import index_attributes

    table = boto3.resource("dynamodb", endpoint_url=info["dynamodb"], region_name="us-east-1").Table(info["table"])
    start = time.perf_counter()
    with table.batch_writer() as batch:  # 25 items a request, as `put` would store them
        for key, item in items:
            batch.put_item(Item={**item, **index_attributes(key, item), "pk": key, "version": 1})
    print(f"filled the embedded DynamoDB in {time.perf_counter() - start:.0f} s", flush=True)
    # moto answers a Query page far slower than DynamoDB (it goes through the whole table for each page),
    # and the webhook path's four-second read timeout is not made for that.
    client = aws.client("dynamodb", endpoint_url=info["dynamodb"], read_timeout=300, attempts=1)
    return DynamoStore(info["table"], client=client)


class PageServer:
    """Answers DynamoDB `Query` requests over loopback HTTP with pages cut as DynamoDB cuts them (1 MB of
    whole items, whatever the projection), precomputed: what is measured is the client's side — the
    requests, botocore's parsing, our pagination and decoding — not a server's."""

    def __init__(self, items: list[tuple[str, dict[str, Any]]], since: int) -> None:
        from shared.store.keys import index_attributes

        self.since = f"{since:012d}"
        self.partitions: dict[str, list[tuple[str, dict[str, Any], int]]] = {}
        for key, item in items:
            full = {**item, **index_attributes(key, item), "pk": key, "version": 1}
            self.partitions.setdefault(full["gsi2pk"], []).append((full["gsi2sk"], full, len(json.dumps(full))))
        for rows in self.partitions.values():
            rows.sort(key=lambda row: row[0])
        self.pages: dict[tuple[str, str, tuple[str, ...]], list[bytes]] = {}
        self.cursors: dict[str, int] = {}  # the sort key a page ends on -> the next page
        self.pages_served = 0

    def _pages(self, partition: str, start: str, names: tuple[str, ...]) -> list[bytes]:
        from shared.store.attributes import dump

        key = (partition, start, names)
        if key not in self.pages:
            pages, page, used = [], [], 0
            rows = [row for row in self.partitions.get(partition, []) if row[0] >= start]
            for i, (_, full, size) in enumerate(rows):
                page.append(dump({k: v for k, v in full.items() if not names or k in names}))
                used += size
                last = i == len(rows) - 1
                if used >= 1_000_000 or last:
                    body: dict[str, Any] = {"Items": page, "Count": len(page), "ScannedCount": len(page)}
                    if not last:
                        body["LastEvaluatedKey"] = dump({k: full[k] for k in ("pk", "gsi2pk", "gsi2sk")})
                    pages.append(json.dumps(body).encode())
                    self.cursors[full["gsi2sk"]] = len(pages)
                    page, used = [], 0
            self.pages[key] = pages or [b'{"Items": [], "Count": 0, "ScannedCount": 0}']
        return self.pages[key]

    def answer(self, request: dict[str, Any]) -> bytes:
        names = request.get("ExpressionAttributeNames", {})
        values = request["ExpressionAttributeValues"]
        projected = tuple(sorted(names[n.strip()] for n in request.get("ProjectionExpression", "").split(",")
                                 if n.strip()))
        pages = self._pages(values[":h"]["S"], values.get(":r", {}).get("S", ""), projected)
        index = 0
        if "ExclusiveStartKey" in request:
            index = self.cursors[request["ExclusiveStartKey"]["gsi2sk"]["S"]]
        self.pages_served += 1
        return pages[index]

    def __enter__(self) -> PageServer:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        from shared.cli.report_data import ORDER_ATTRIBUTES, SUBSCRIPTION_ATTRIBUTES
        from shared.store.keys import all_subscriptions, orders_since

        # Cut the pages the report asks for before serving, so that no answer waits for it.
        for (_, partition, start), names in ((orders_since(int(self.since)), ORDER_ATTRIBUTES),
                                             (all_subscriptions(), SUBSCRIPTION_ATTRIBUTES)):
            self._pages(partition, start, tuple(sorted(names)))
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                body = server.answer(request)
                self.send_response(200)
                self.send_header("Content-Type", "application/x-amz-json-1.0")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.http.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.http.shutdown()
        self.http.server_close()

    def store(self) -> Any:
        from shared.store.dynamo import DynamoStore

        return DynamoStore("bench", endpoint_url=f"http://127.0.0.1:{self.http.server_address[1]}",
                           region="us-east-1")


if __name__ == "__main__":
    sys.exit(main())
