"""What the benchmarks share: the local services, the environment a function sees, Function URL
events for our two paths, and order statistics."""

from __future__ import annotations

import copy
import json
import os
import random
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
SECRET_KEY = "sk_test_bench0123456789abcdef"
WEBHOOK_SECRET = "whsec_bench0123456789abcdef"
SITE = "https://shop.example.com"
_EVENT_TEMPLATE = ROOT / "tests" / "platform_events" / "function_url.json"


class Services:
    """`with Services() as info:` the stand-in and DynamoDB in a child process, for the block.
    `stripe_latency`: seconds the stand-in waits before each answer, as a network round trip to Stripe would."""

    def __init__(self, *, stripe_latency: float = 0.0) -> None:
        self.stripe_latency = stripe_latency

    def __enter__(self) -> dict[str, str]:
        env = dict(os.environ, PYTHONPATH=str(ROOT), BENCH_STRIPE_LATENCY=str(self.stripe_latency))
        self._proc = subprocess.Popen([PYTHON, "-m", "bench._servers"], cwd=ROOT, env=env, text=True,
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline()
        if not line:
            self._proc.kill()
            raise RuntimeError("bench._servers did not start")
        self.info: dict[str, str] = json.loads(line)
        return self.info

    def __exit__(self, *exc: Any) -> None:
        assert self._proc.stdin is not None
        self._proc.stdin.close()
        try:
            self._proc.wait(10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait(5)


def function_env(info: dict[str, str], **extra: str) -> dict[str, str]:
    """The environment of a deployed function, pointed at the local services. Nothing else leaks in."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "STRIPE_SECRET_KEY": SECRET_KEY,
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "STRIPE_API_BASE": info["stripe"],
        "ALLOWED_PRICES": ",".join(filter(None, (info["price"], info.get("limited_price")))),
        "SITE_URL": SITE,
        "DYNAMODB_TABLE": info["table"],
        "DYNAMODB_ENDPOINT_URL": info["dynamodb"],
        "POWERTOOLS_SERVICE_NAME": "static-checkout-bench",
        "POWERTOOLS_METRICS_NAMESPACE": "StaticCheckoutBench",
    }
    env.update(extra)
    return env


def function_url_event(method: str, path: str, body: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    event: dict[str, Any] = json.loads(_EVENT_TEMPLATE.read_text())
    event = copy.deepcopy(event)
    event.update(rawPath=path, body=body, isBase64Encoded=False)
    event["requestContext"]["http"].update(method=method, path=path)
    event["requestContext"]["requestId"] = str(uuid.uuid4())
    # A buyer of its own each time: the per-client rate limit on create-session never trips.
    ip = f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"
    event["requestContext"]["http"]["sourceIp"] = ip
    headers = {**(headers or {}), "x-forwarded-for": ip}
    event["headers"].update({"content-length": str(len(body.encode())), "content-type": "application/json"})
    event["headers"].update({k.lower(): v for k, v in (headers or {}).items()})
    return event


def create_session_event(price: str) -> dict[str, Any]:
    return function_url_event("POST", "/api/create-checkout-session",
                              json.dumps({"priceId": price, "quantity": 1}), {"origin": SITE})


def stripe_event() -> dict[str, Any]:
    """A `checkout.session.completed` event as Stripe sends it (~3 KB), new ids each time."""
    from tests.fakes import make_event, make_session

    return make_event("checkout.session.completed",
                      make_session(payment_intent=f"pi_{uuid.uuid4().hex[:24]}"))


def signed_body(event: dict[str, Any], secret: str = WEBHOOK_SECRET) -> tuple[bytes, str]:
    from shared.events.signature import sign

    body = json.dumps(event).encode()
    return body, sign(body, secret)


def webhook_event(secret: str = WEBHOOK_SECRET) -> dict[str, Any]:
    """A Function URL event delivering a freshly signed, never seen Stripe event."""
    body, signature = signed_body(stripe_event(), secret)
    return function_url_event("POST", "/api/webhook", body.decode(), {"stripe-signature": signature})


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0–100), nearest rank on the sorted values."""
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def ms(seconds: float) -> str:
    return f"{seconds * 1000:7.1f} ms"


def machine_note() -> str:
    """Cores and load: figures taken on a busy machine are slower and noisier, so each run says."""
    cores = os.cpu_count() or 1
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    note = f"Python {sys.version.split()[0]}, {cores} cores, load average {load:.1f}"
    if load > cores * 0.75:
        note += "  ! the machine is busy: figures will be slower and noisier than on an idle one"
    return note


class Deadline:
    def __init__(self, seconds: float) -> None:
        self.end = time.monotonic() + seconds

    def passed(self) -> bool:
        return time.monotonic() > self.end
