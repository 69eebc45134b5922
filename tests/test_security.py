"""What an attacker can reach, closed: each test reproduces one probe that once worked (issue 12)."""

from __future__ import annotations

import json

import pytest

from shared import _json
from shared.store.keys import event_key, order_key
from tests.apiclient import error, make_client
from tests.conftest import WEBHOOK_SECRET
from tests.fakes import make_event, make_session, sign


@pytest.mark.parametrize("number", ["1e400", "-1e400", "1e-400", "1" * 39, "-" + "9" * 50, "1e126"])
def test_the_json_reader_refuses_numbers_dynamodb_cannot_hold(number):
    with pytest.raises(ValueError):
        _json.loads(f'{{"amount": {number}}}'.encode())


@pytest.mark.parametrize("number", ["0", "-0", "1.5", "1e125", "-2.5e-100", "9" * 38, "0.1", "1." + "1" * 40])
def test_the_json_reader_keeps_numbers_dynamodb_holds(number):
    assert _json.loads(f"[{number}]".encode()) == [json.loads(number)]  # and a float's many digits are harmless


@pytest.mark.parametrize("number", ["1e400", "1" * 50])
def test_a_signed_event_with_an_unstorable_number_is_refused_not_retried_forever(api_env, store, number):
    client = make_client(api_env, store)
    session = make_session()
    event = make_event("checkout.session.completed", session)
    body = json.dumps(event).replace('"amount_total": 3000', f'"amount_total": {number}').encode()
    assert number.encode() in body
    headers = {"Stripe-Signature": sign(body, WEBHOOK_SECRET), "Content-Type": "application/json"}
    error(client.post("/api/webhook", content=body, headers=headers), 400, "invalid_payload")
    assert store.get(order_key(session["id"])) is None and store.get(event_key(event["id"])) is None
