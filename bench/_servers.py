"""The local services the benchmarks call, in a process of their own: `python -m bench._servers`.

A Stripe stand-in and a DynamoDB-compatible server (moto over loopback HTTP) run here, not in the
process being measured, so their work never competes with it for the GIL. Prints one JSON line
(their addresses, a price, a price with limited stock, the table) and serves until its standard input closes.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
from typing import Any

TABLE = "bench-checkout"
LIMITED = "bench-print"  # the lookup key of the price with limited stock
MAX_LIFETIME = 900.0  # seconds: a parent that died without closing stdin does not leave us behind


def main() -> int:
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per DynamoDB request
    from shared.demo.standin import StripeStandIn
    from shared.orders import stock
    from shared.store.dynamo import DynamoStore
    from tests.dynamo_server import LocalDynamo

    latency = float(os.environ.get("BENCH_STRIPE_LATENCY") or 0)
    if latency:
        _delay_stripe(latency)
    standin = StripeStandIn().start()
    price = standin.add_price(unit_amount=1500, product_name="Bench T-shirt", id="price_bench_tshirt")
    limited = standin.add_price(unit_amount=4000, product_name="Bench print", lookup_key=LIMITED)
    dynamo = LocalDynamo().start()
    store = DynamoStore(TABLE, endpoint_url=dynamo.url, region="us-east-1")
    store.create_table()
    stock.set_available(store, limited["lookup_key"], 10_000_000)  # every create holds one: enough for any run
    print(json.dumps({"stripe": standin.url, "dynamodb": dynamo.url, "price": price["id"],
                      "limited_price": limited["lookup_key"], "table": TABLE}), flush=True)

    done = threading.Event()

    def wait_for_eof() -> None:
        sys.stdin.read()
        done.set()

    threading.Thread(target=wait_for_eof, daemon=True).start()
    done.wait(MAX_LIFETIME)
    dynamo.stop()
    standin.stop()
    return 0


def _delay_stripe(seconds: float) -> None:
    """Every answer of the stand-in `seconds` late: on loopback, Stripe would answer at once, and a cold
    start would look as if nothing it waits for could overlap."""
    import time

    from shared.demo.standin import _http

    for name in ("do_GET", "do_POST", "do_DELETE"):
        answer = getattr(_http.Handler, name)

        def delayed(self: Any, answer: Any = answer) -> None:
            time.sleep(seconds)
            answer(self)

        setattr(_http.Handler, name, delayed)


if __name__ == "__main__":
    sys.exit(main())
