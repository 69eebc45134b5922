"""What each request path imports on a cold start (the benchmark's finding, kept true): the webhook
never imports stripe, no path imports boto3 (botocore is enough) or requests (Stripe is called on urllib3,
which botocore brings anyway). And every module of `shared` imports on its own: no import cycles."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SECRET_KEY, WEBHOOK_SECRET

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import base64, json, sys
from functions.aws_lambda import handler
event = json.loads(sys.stdin.read())
response = handler(event, None)
# httpx (and the idna it brings) are left out: stripe imports it whenever it is installed, as it is here for
# the tests, and the deployed bundle does not have it. Powertools must stay out: shared/telemetry.py writes the
# logs and metrics. requests and charset_normalizer: ~33 ms of a cold start, for nothing (checkout/stripe_http.py).
loaded = sorted(name for name in ("stripe", "boto3", "botocore", "s3transfer", "moto", "uvicorn", "yaml",
                                  "pytest", "aws_xray_sdk", "aws_lambda_powertools", "requests",
                                  "charset_normalizer") if name in sys.modules)
print(json.dumps({"status": response["statusCode"], "loaded": loaded}))
"""


def first_request(event: dict, **env: str) -> dict:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("STRIPE_", "DYNAMODB_"))}
    environment.update(PYTHONPATH=str(ROOT), POWERTOOLS_METRICS_DISABLED="true", **env)
    result = subprocess.run([sys.executable, "-c", CHILD], input=json.dumps(event), capture_output=True, text=True,
                            cwd=ROOT, env=environment, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def function_url_event(path: str, body: bytes, headers: dict[str, str]) -> dict:
    import base64

    event = json.loads((ROOT / "tests" / "platform_events" / "function_url.json").read_text())
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["headers"] = {**{k: v for k, v in event["headers"].items() if k != "content-length"}, **headers}
    event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode(), True
    return event


def test_the_webhook_path_never_imports_stripe(local_dynamo, dynamo_store):
    from tests.fakes import make_event, make_session, signed

    body, headers = signed(make_event("checkout.session.completed", make_session()), WEBHOOK_SECRET)
    answer = first_request(function_url_event("/api/webhook", body, {k.lower(): v for k, v in headers.items()}),
                           STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET, DYNAMODB_ENDPOINT_URL=local_dynamo.url,
                           DYNAMODB_TABLE=dynamo_store.table)
    assert answer["status"] == 200
    # What it truly needs, and nothing more: botocore's DynamoDB client, not boto3 (whose import brings
    # s3transfer along, tens of milliseconds of a cold start for nothing).
    assert answer["loaded"] == ["botocore"]


def test_create_session_with_the_rate_limit_needs_botocore_not_boto3(standin, catalog, local_dynamo, dynamo_store):
    body = json.dumps({"priceId": catalog["tshirt"]["id"]}).encode()
    answer = first_request(function_url_event("/api/create-checkout-session", body,
                                              {"content-type": "application/json"}),
                           STRIPE_SECRET_KEY=SECRET_KEY, STRIPE_API_BASE=standin.url,
                           ALLOWED_PRICES=catalog["tshirt"]["id"], SITE_URL="https://shop.example.com",
                           RATE_LIMIT="20/60", DYNAMODB_ENDPOINT_URL=local_dynamo.url,
                           DYNAMODB_TABLE=dynamo_store.table)
    assert answer["status"] == 200
    assert answer["loaded"] == ["botocore", "stripe"]


def test_create_session_without_the_rate_limit_never_imports_boto3(standin, catalog, local_dynamo, dynamo_store):
    # Without the limit, botocore still comes for the stock read: a price may be limited.
    body = json.dumps({"priceId": catalog["tshirt"]["id"]}).encode()
    answer = first_request(function_url_event("/api/create-checkout-session", body,
                                              {"content-type": "application/json"}),
                           STRIPE_SECRET_KEY=SECRET_KEY, STRIPE_API_BASE=standin.url,
                           ALLOWED_PRICES=catalog["tshirt"]["id"], SITE_URL="https://shop.example.com",
                           RATE_LIMIT="off", DYNAMODB_ENDPOINT_URL=local_dynamo.url, DYNAMODB_TABLE=dynamo_store.table)
    assert answer["status"] == 200
    assert answer["loaded"] == ["botocore", "stripe"]


# --- every module imports on its own: no import cycles ----------------------------------------------

MODULES = sorted(".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
                 for path in (ROOT / "shared").rglob("*.py") if path.name != "__main__.py")


def test_every_module_of_shared_is_listed():
    assert {"shared", "shared.settings", "shared.web.ratelimit", "shared.store.dynamo", "shared.cli.main"} <= set(
        MODULES)


@pytest.mark.parametrize("module", MODULES)
def test_each_module_imports_alone_in_a_fresh_interpreter(module):
    # A cycle (settings -> ratelimit -> store -> settings once was one) breaks only when a module of the
    # cycle is the first imported, so each is imported first, in its own interpreter.
    result = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True, text=True, cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]


EVERY_PATH = r"""
import json, sys
from functions.aws_lambda import handler
from functions.aws_eventbridge import handler as on_bridge_event
from functions.aws_schedule import handler as on_schedule
from api.index import app  # Vercel's entry point
steps = json.loads(sys.stdin.read())
statuses = []
for name, event in steps["requests"]:
    statuses.append([name, handler(event, None)["statusCode"]])
statuses.append(["eventbridge", on_bridge_event(steps["eventbridge"], None)])
statuses.append(["schedule", on_schedule({"source": "aws.events", "detail-type": "Scheduled Event"}, None)])
loaded = sorted(m for m in sys.modules if m.startswith(("shared.demo", "shared.cli", "shared.__main__")))
loaded += sorted(m for m in ("boto3", "s3transfer", "requests", "charset_normalizer") if m in sys.modules)
print(json.dumps({"statuses": statuses, "loaded": loaded}))
"""


def test_no_request_path_imports_the_demo_or_the_command_line(standin, catalog, local_dynamo, dynamo_store):
    """Every route of the Lambda and Vercel entry points, and the EventBridge function, in one process: the
    stand-in and the rest of shared/demo/ (and the seller's CLI) are never imported, so never needed; nor are
    boto3 and requests."""
    import stripe

    from tests.fakes import make_event, make_session, signed

    client = stripe.StripeClient(SECRET_KEY, base_addresses={"api": standin.url})
    paid = client.v1.checkout.sessions.create(params={
        "mode": "payment", "line_items": [{"price": catalog["tshirt"]["id"], "quantity": 1}],
        "success_url": "https://shop.example.com/success.html", "cancel_url": "https://shop.example.com/"}).id
    standin.complete_session(paid)
    body, headers = signed(make_event("checkout.session.completed", make_session()), WEBHOOK_SECRET)
    purchase = json.dumps({"priceId": catalog["tshirt"]["id"]}).encode()
    json_type = {"content-type": "application/json"}

    def get(path: str, query: str = "", headers: dict | None = None) -> dict:
        event = function_url_event(path, b"", headers or {})
        event["requestContext"]["http"]["method"], event["rawQueryString"], event["body"] = "GET", query, ""
        return event

    requests = [
        ("health", get("/api/health")),
        ("config", get("/api/config")),
        ("create", function_url_event("/api/create-checkout-session", purchase, json_type)),
        ("create-form", function_url_event("/api/create-checkout-session", b"priceId=nope",
                                           {"content-type": "application/x-www-form-urlencoded"})),
        ("session", get("/api/checkout-session", f"session_id={paid}")),
        ("portal", function_url_event("/api/create-portal-session", json.dumps({"session_id": paid}).encode(),
                                      json_type)),
        ("webhook", function_url_event("/api/webhook", body, {k.lower(): v for k, v in headers.items()})),
        ("stock", get("/api/stock", f"priceId={catalog['tshirt']['id']}")),
        ("release-stale", get("/api/release-stale", headers={"authorization": "Bearer imports-cron-secret-0123"})),
        ("wrong-method", get("/api/create-checkout-session")),
        ("unknown", get("/api/x")),
    ]
    bridge = json.loads((ROOT / "tests" / "platform_events" / "eventbridge_stripe.json").read_text())
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("STRIPE_", "DYNAMODB_"))}
    environment.update(PYTHONPATH=str(ROOT), POWERTOOLS_METRICS_DISABLED="true", STRIPE_SECRET_KEY=SECRET_KEY,
                       STRIPE_PUBLISHABLE_KEY="pk_test_importsOnly", STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
                       STRIPE_API_BASE=standin.url, ALLOWED_PRICES=catalog["tshirt"]["id"],
                       SITE_URL="https://shop.example.com", DYNAMODB_ENDPOINT_URL=local_dynamo.url,
                       DYNAMODB_TABLE=dynamo_store.table, RATE_LIMIT="20/60", CRON_SECRET="imports-cron-secret-0123")
    result = subprocess.run([sys.executable, "-c", EVERY_PATH], input=json.dumps({"requests": requests,
                            "eventbridge": bridge}), capture_output=True, text=True, cwd=ROOT, env=environment,
                            timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert dict(answer["statuses"]) == {"health": 200, "config": 200, "create": 200, "create-form": 400,
                                        "session": 200, "portal": 400, "webhook": 200, "stock": 200,
                                        "release-stale": 200, "wrong-method": 405, "unknown": 404,
                                        "eventbridge": {"event_id": "evt_1EventBridgeRecorded0001",
                                                        "outcome": "applied"},
                                        "schedule": {"released": 0, "sold": 0, "waiting": 0, "unchanged": 0,
                                                     "failed": 0}}
    assert answer["loaded"] == []
