"""One cold start of the bundle, in a child interpreter: smoke.run_requests starts it as

    python -S -E -s -B -m lambda_bundle.requests_child [--runtime DIR] BUNDLE EVENT REPORT SECRET ENTRY_POINT…

from scripts/ (so `-m` finds this package; it leaves sys.path at once). It imports every handler module
serverless.yml names, then sends a health check, a create-session call, a signed webhook and a badly signed
one through `functions.aws_lambda.handler`, built on the recorded Function URL EVENT. On sys.path: the
unpacked BUNDLE first and, as the Lambda runtime provides boto3, the --runtime folder after it. -S: no
site-packages; -E: no PYTHON* variables; -B: nothing is written next to the modules (/var/task is read-only).
Each module compiled from source is noted. The report (statuses, every loaded module's file and loader,
what was compiled) goes to the REPORT file as JSON: the app writes its metrics to stdout.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import hmac
import importlib
import importlib.machinery
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
SCRIPTS = Path(__file__).resolve().parents[1]


def note_compiled() -> list[str]:
    """From now on, the path of each module compiled from source is appended to the returned list."""
    compiled: list[str] = []
    loader = importlib.machinery.SourceFileLoader
    original = loader.source_to_code

    def noting(self: Any, data: Any, path: Any, *args: Any, **kwargs: Any) -> Any:
        compiled.append(str(path))
        return original(self, data, path, *args, **kwargs)

    loader.source_to_code = noting  # type: ignore[method-assign]
    return compiled


def only_the_bundle(bundle: str, runtime: str | None) -> None:
    """sys.path as on Lambda: the bundle, the standard library, and the runtime's boto3 after them."""
    kept = [p for p in sys.path if p and Path(p).resolve() != SCRIPTS]
    sys.path[:] = [bundle, *kept] + ([runtime] if runtime else [])


def signature(payload: str, secret: str) -> str:
    stamp = int(time.time())
    mac = hmac.new(secret.encode(), f"{stamp}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={stamp},v1={mac}"


def completed_checkout(now: int) -> str:
    """A checkout.session.completed event for a paid one-item order, as Stripe sends it."""
    items = [{"price": "price_smoke", "quantity": 1, "description": "Smoke", "amount_total": 1500}]
    session = {"id": "cs_test_smoke", "object": "checkout.session", "status": "complete", "payment_status": "paid",
               "mode": "payment", "amount_total": 1500, "amount_subtotal": 1500, "currency": "usd",
               "payment_intent": "pi_smoke", "customer": None, "created": now - 60, "livemode": False,
               "customer_details": {"email": "buyer@example.com", "name": "Smoke"},
               "metadata": {"static_checkout_items": json.dumps(items)}}
    return json.dumps({"id": "evt_smoke", "object": "event", "type": "checkout.session.completed",
                       "created": now, "livemode": False, "data": {"object": session}})


class Caller:
    """Sends requests through the Lambda handler as a Function URL would, noting each status by name."""

    def __init__(self, handler: Handler, template: dict[str, Any]) -> None:
        self.handler, self.template = handler, template
        self.statuses: dict[str, int] = {}

    def __call__(self, name: str, method: str, path: str, body: str = "", headers: dict[str, str] | None = None,
                 ) -> None:
        event = copy.deepcopy(self.template)
        event.update(rawPath=path, body=body, isBase64Encoded=False)
        event["requestContext"]["http"].update(method=method, path=path)
        event["headers"].update({"content-length": str(len(body.encode())), **(headers or {})})
        response = self.handler(event, None)
        self.statuses[name] = response["statusCode"]
        print(f"smoke: {method} {path} ({name}) -> {response['statusCode']} {response['body'][:70]}",
              file=sys.stderr)


def loaded_modules() -> dict[str, dict[str, Any]]:
    modules = {}
    for name, module in list(sys.modules.items()):
        spec = getattr(module, "__spec__", None)
        modules[name] = {"file": getattr(module, "__file__", None), "cached": getattr(spec, "cached", None),
                         "loader": type(getattr(module, "__loader__", None)).__name__}
    return modules


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="requests_child")
    for name in ("bundle", "event", "report", "secret"):
        parser.add_argument(name)
    parser.add_argument("--runtime")
    parser.add_argument("entry_points", nargs="+")
    args = parser.parse_args(argv)
    compiled = note_compiled()
    only_the_bundle(args.bundle, args.runtime)
    for module in args.entry_points:
        importlib.import_module(module)
    call = Caller(importlib.import_module("functions.aws_lambda").handler,
                  json.loads(Path(args.event).read_text(encoding="utf-8")))
    event = completed_checkout(int(time.time()))
    call("health", "GET", "/api/health")
    call("create", "POST", "/api/create-checkout-session", json.dumps({"priceId": "price_smoke", "quantity": 1}),
         {"content-type": "application/json", "origin": "https://shop.example.com"})
    call("webhook", "POST", "/api/webhook", event,
         {"content-type": "application/json", "stripe-signature": signature(event, args.secret)})
    call("bad_signature", "POST", "/api/webhook", '{"id": "evt_1"}', {"stripe-signature": "t=1,v1=00"})
    report = {"statuses": call.statuses, "modules": loaded_modules(), "compiled": compiled}
    Path(args.report).write_text(json.dumps(report), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
