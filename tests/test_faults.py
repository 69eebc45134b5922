"""Injected faults: DynamoDB throttling and outage, Stripe down or slow, a process killed mid-event."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from shared.events.intake import process
from shared.orders.fulfilment import Fulfiller
from shared.store.dynamo import DynamoStore
from tests.apiclient import error, make_client
from tests.conftest import WEBHOOK_SECRET
from tests.fakes import make_event, make_session, signed

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def faults_env(api_env, catalog):
    return dict(api_env, STRIPE_TIMEOUT="0.5", ALLOWED_PRICES=catalog["tshirt"]["id"], RATE_LIMIT="off")


def deliver(client, event):
    body, headers = signed(event, WEBHOOK_SECRET)
    return client.post("/api/webhook", content=body, headers=headers)


def test_dynamodb_throttling_answers_503_then_retries_record_once(faults_env, local_dynamo, dynamo_store, hook):
    client = make_client(faults_env, dynamo_store, hook)
    session = make_session()
    event = make_event("checkout.session.completed", session)
    local_dynamo.fail_next(3)  # more than botocore's own three attempts absorb
    error(deliver(client, event), 503, "store_unavailable")
    assert dynamo_store.get(f"ORDER#{session['id']}") is None
    local_dynamo.fail_next(2)  # a short burst: botocore's retries ride it out
    assert deliver(client, event).json()["outcome"] == "applied"
    assert deliver(client, event).json()["outcome"] == "duplicate"
    assert hook.calls == [session["id"]]


@pytest.mark.parametrize("offset", range(0, 14))
def test_throttling_at_any_step_of_an_event_loses_nothing_and_fulfils_once(faults_env, local_dynamo, dynamo_store, hook,
                                                                         offset):
    """Throttle from the `offset`-th DynamoDB request of a delivery on: whatever step that hits, the
    delivery fails or succeeds cleanly, and Stripe's later retries leave one order, fulfilled once."""
    client = make_client(faults_env, dynamo_store, hook)
    session = make_session()
    event = make_event("checkout.session.completed", session)
    local_dynamo.fail_next(3, after=offset)
    first = deliver(client, event)
    local_dynamo.clear_faults()
    assert first.status_code in (200, 503), first.text
    # Stripe retries later, after any lease the failed attempt left behind.
    outcome = process(event, dynamo_store, Fulfiller([hook]), now=int(time.time()) + 120)
    assert outcome == ("duplicate" if first.status_code == 200 else "applied")
    order = dynamo_store.get(f"ORDER#{session['id']}")
    assert order["status"] == "paid" and order["done_at"] is not None and len(order["history"]) == 1
    assert hook.calls == [session["id"]]


def test_stripe_5xx_answers_502_and_a_retried_click_makes_one_session(faults_env, dynamo_store, standin, catalog):
    client = make_client(faults_env, dynamo_store)
    body, key = {"priceId": catalog["tshirt"]["id"]}, {"Idempotency-Key": "retry-me"}
    standin.fail_next(1, status=503)
    error(client.post("/api/create-checkout-session", json=body, headers=key), 502, "stripe_error")
    first = client.post("/api/create-checkout-session", json=body, headers=key)
    again = client.post("/api/create-checkout-session", json=body, headers=key)
    assert first.status_code == again.status_code == 200 and first.json()["id"] == again.json()["id"]


def test_slow_stripe_answers_502_within_the_timeout_and_the_retry_reuses_the_session(faults_env, dynamo_store, standin,
                                                                                     catalog):
    client = make_client(faults_env, dynamo_store)
    body, key = {"priceId": catalog["tshirt"]["id"], "quantity": 4}, {"Idempotency-Key": "slow-click"}
    client.post("/api/create-checkout-session", json=body)  # warm the price cache: time only the create call
    before = len(standin.sessions)
    standin.fail_next(1, status=0, delay=1.5)  # Stripe answers, but after our 0.5 s timeout
    started = time.monotonic()
    response = client.post("/api/create-checkout-session", json=body, headers=key)
    elapsed = time.monotonic() - started
    error(response, 502, "stripe_error")
    assert "in time" in response.json()["error"]["message"]
    assert elapsed < 1.0
    time.sleep(1.2)  # Stripe finishes the slow request: the session exists although we gave up on it
    retried = client.post("/api/create-checkout-session", json=body, headers=key)
    assert retried.status_code == 200
    assert len(standin.sessions) == before + 1  # the retry got the session Stripe made, not a second one


CRASHING_CHILD = """
import os, signal, sys, json
from shared.store.dynamo import DynamoStore
from shared.orders.fulfilment import Fulfiller
from shared.events.intake import process

def die(order):
    os.kill(os.getpid(), signal.SIGKILL)  # the function is killed mid-fulfilment

store = DynamoStore(sys.argv[1], endpoint_url=sys.argv[2], region="us-east-1")
process(json.loads(sys.stdin.read()), store, Fulfiller([die]), lease_seconds=60)
"""


def test_a_process_killed_mid_event_is_completed_by_the_retry_after_the_lease(dynamo_store, local_dynamo, hook):
    import json

    session = make_session()
    event = make_event("checkout.session.completed", session)
    child = subprocess.run([sys.executable, "-c", CRASHING_CHILD, dynamo_store.table, local_dynamo.url],
                           input=json.dumps(event), capture_output=True, text=True, cwd=ROOT, timeout=60,
                           env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert child.returncode == -signal.SIGKILL
    ledger = dynamo_store.get(f"EVENT#{event['id']}")
    assert ledger["claim_token"] and ledger.get("done_at") is None  # claimed, never finished
    now = int(time.time())
    from shared.events.intake import EventInProgress

    with pytest.raises(EventInProgress):  # a retry inside the lease is told to come back
        process(event, dynamo_store, Fulfiller([hook]), now=now)
    assert process(event, dynamo_store, Fulfiller([hook]), now=now + 61) == "applied"
    assert hook.calls == [session["id"]]
    assert dynamo_store.get(f"ORDER#{session['id']}")["done_at"] is not None


_ = DynamoStore


def test_a_write_dynamodb_refuses_is_noted_in_the_ledger_and_the_retry_applies(dynamo_store, local_dynamo, hook):
    """The read passes, the transaction is throttled past botocore's retries: 503, nothing of the change stored,
    the ledger says `store_unavailable` (for `python -m shared events`), and Stripe's retry applies it at once."""
    from shared.errors import StoreUnavailable

    session = make_session()
    event = make_event("checkout.session.completed", session)
    local_dynamo.fail_next(3, after=1)  # the BatchGetItem passes; the TransactWriteItems and its retries fail
    with pytest.raises(StoreUnavailable):
        process(event, dynamo_store, Fulfiller([hook]))
    local_dynamo.clear_faults()
    assert dynamo_store.get(f"ORDER#{session['id']}") is None
    ledger = dynamo_store.get(f"EVENT#{event['id']}")
    assert ledger["last_error"] == "store_unavailable" and ledger.get("done_at") is None
    assert process(event, dynamo_store, Fulfiller([hook])) == "applied"
    assert hook.calls == [session["id"]]
