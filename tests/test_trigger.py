"""`trigger`: a signed sample event of every handled type, sent to the real app on a loopback port."""

from __future__ import annotations

import json

import pytest

from shared.cli.main import main
from shared.cli.trigger import SAMPLES, parse_override, sample_event
from shared.events.decide import HANDLED_TYPES, Ignored, decide
from shared.orders.fulfilment import Fulfiller
from shared.settings import Secret, Settings
from shared.web.app import create_app
from shared.web.services import Services
from tests.conftest import WEBHOOK_SECRET
from tests.fakes import MemoryStore, RecordingAction
from tests.livesrv import LiveServer


@pytest.fixture(scope="module")
def live():
    store, hook = MemoryStore(), RecordingAction()
    settings = Settings(webhook_secrets=(Secret(WEBHOOK_SECRET),), site_url="http://127.0.0.1")
    server = LiveServer().start(create_app(Services(settings, store=store, fulfiller=Fulfiller([hook]))))
    server.store, server.hook, server.webhook = store, hook, f"{server.url}/api/webhook"
    yield server
    server.stop()


@pytest.fixture
def trigger_env(monkeypatch, tmp_path):
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET)
    monkeypatch.chdir(tmp_path)  # no stray .env


def answer(out: str) -> dict:
    status, _, body = out.strip().splitlines()[-1].partition(" ")
    return {"status": int(status), **json.loads(body)}


def test_every_handled_type_has_a_sample():
    assert set(SAMPLES) == set(HANDLED_TYPES)


@pytest.mark.parametrize("event_type", HANDLED_TYPES)
def test_each_sample_is_an_event_our_handler_acts_on(event_type):
    event = sample_event(event_type)
    assert event["type"] == event_type and event["id"].startswith("evt_")
    assert not isinstance(decide(event), Ignored)


@pytest.mark.parametrize("event_type", HANDLED_TYPES)
def test_trigger_delivers_each_type_signed_and_the_app_applies_it(live, trigger_env, capsys, event_type):
    assert main(["trigger", event_type, "--to", live.webhook]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"Sending {event_type} evt_")
    assert answer(out) == {"status": 200, "received": True, "outcome": "applied"}


def test_a_triggered_completed_checkout_is_recorded_and_fulfilled_once(live, trigger_env, capsys):
    assert main(["trigger", "checkout.session.completed", "--to", live.webhook,
                 "-o", "customer_details.email=seller@example.com"]) == 0
    session_id = capsys.readouterr().out.split("(", 1)[1].split(",", 1)[0]
    order = live.store.get(f"ORDER#{session_id}")
    assert order["status"] == "paid" and order["customer_email"] == "seller@example.com"
    assert live.hook.calls.count(session_id) == 1


def test_a_refund_can_name_the_payment_of_an_earlier_trigger(live, trigger_env, capsys):
    assert main(["trigger", "checkout.session.completed", "--to", live.webhook]) == 0
    out = capsys.readouterr().out
    session_id = out.split("(", 1)[1].split(",", 1)[0]
    payment_intent = out.split("payment_intent ", 1)[1].split(")", 1)[0]
    assert main(["trigger", "charge.refunded", "--to", live.webhook, "--override",
                 f"payment_intent={payment_intent}"]) == 0
    assert live.store.get(f"ORDER#{session_id}")["status"] == "refunded"


def test_a_wrong_secret_is_refused_by_the_endpoint_and_fails_the_command(live, trigger_env, capsys):
    assert main(["trigger", "invoice.paid", "--to", live.webhook, "--secret", "whsec_not_the_right_one"]) == 1
    result = answer(capsys.readouterr().out)
    assert result["status"] == 400 and result["error"]["code"] == "invalid_signature"


def test_an_endpoint_that_does_not_answer_is_reported(trigger_env, capsys):
    assert main(["trigger", "invoice.paid", "--to", "http://127.0.0.1:9/api/webhook"]) == 1
    assert "no answer from http://127.0.0.1:9/api/webhook" in capsys.readouterr().out


def test_without_a_secret_the_command_says_which_setting_to_set(monkeypatch, tmp_path, capsys):
    monkeypatch.delenv("STRIPE_WEBHOOK_SECRET", raising=False)
    monkeypatch.chdir(tmp_path)
    assert main(["trigger", "invoice.paid", "--to", "http://127.0.0.1:9/api/webhook"]) == 1
    assert "STRIPE_WEBHOOK_SECRET is not set" in capsys.readouterr().err


def test_only_http_addresses_and_well_formed_overrides_are_accepted(trigger_env, capsys):
    with pytest.raises(SystemExit):
        main(["trigger", "invoice.paid", "--to", "file:///etc/passwd"])
    assert "--to: must be an http(s) address" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["trigger", "invoice.paid", "--to", "http://x", "-o", "novalue"])
    assert parse_override("amount_total=4200") == ("amount_total", 4200)
    assert parse_override("customer_details.email=a@b.c") == ("customer_details.email", "a@b.c")


def test_an_unknown_type_lists_the_supported_ones(trigger_env, capsys):
    with pytest.raises(SystemExit):
        main(["trigger", "payment_intent.succeeded", "--to", "http://x"])
    assert "checkout.session.completed" in capsys.readouterr().err
