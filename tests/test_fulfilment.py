"""Fulfilment actions: the SES receipt (moto's SES), the seller's hook, and retry after failure."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from moto import mock_aws
from starlette.testclient import TestClient

from shared.errors import Misconfigured, StoreUnavailable
from shared.events.intake import process
from shared.orders.fulfilment import EmailReceipt, Fulfiller, FulfilmentFailed, load_hook, receipt_text
from shared.settings import Settings
from shared.web.app import create_app
from shared.web.services import Services
from tests import hooks
from tests.conftest import WEBHOOK_SECRET
from tests.fakes import MemoryStore, RecordingAction, make_event, make_session, signed


def sent_messages():
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    return ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages


@mock_aws
def test_paid_order_sends_one_receipt_through_ses():
    ses = boto3.client("ses", region_name="us-east-1")
    ses.verify_email_identity(EmailAddress="shop@example.com")
    fulfiller = Fulfiller.from_settings(Settings(email_from="shop@example.com", aws_region="us-east-1"))
    store, session = MemoryStore(), make_session(email="ada@example.com")
    event = make_event("checkout.session.completed", session)
    process(event, store, fulfiller)
    process(event, store, fulfiller)
    messages = sent_messages()
    assert len(messages) == 1
    assert messages[0].destinations["ToAddresses"] == ["ada@example.com"]
    assert "2 × T-shirt" in messages[0].body and "30.00 USD" in messages[0].body
    assert session["id"] in messages[0].body


@mock_aws
def test_rejected_email_fails_the_delivery_and_the_retry_sends_it():
    ses = boto3.client("ses", region_name="us-east-1")
    fulfiller = Fulfiller([EmailReceipt("unverified@example.com", region="us-east-1")])
    store, session = MemoryStore(), make_session()
    event = make_event("checkout.session.completed", session)
    with pytest.raises(FulfilmentFailed):
        process(event, store, fulfiller)  # SES refuses an unverified sender
    assert store.get(f"ORDER#{session['id']}").get("done_at") is None
    ses.verify_email_identity(EmailAddress="unverified@example.com")
    assert process(event, store, fulfiller) == "applied"
    assert len(sent_messages()) == 1


def test_hook_named_in_settings_receives_the_order():
    hooks.granted.clear()
    fulfiller = Fulfiller.from_settings(Settings(fulfillment_hook="tests.hooks:grant_access"))
    session = make_session()
    process(make_event("checkout.session.completed", session), MemoryStore(), fulfiller)
    assert hooks.granted == [session["id"]]


def test_hook_that_is_not_callable_is_refused():
    with pytest.raises(Misconfigured, match="FULFILLMENT_HOOK"):
        load_hook("tests.hooks:not_callable")


@pytest.fixture
def broken_hook(tmp_path, monkeypatch) -> str:
    """A hook module that exists but cannot import: its own dependency is not installed."""
    (tmp_path / "seller_hooks_broken.py").write_text("import a_package_that_is_not_installed\n\n\n"
                                                     "def grant(order):\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    return "seller_hooks_broken:grant"


@pytest.mark.parametrize("spec", ["tests.no_such_module:grant", "tests.hooks:no_such_function", "broken"])
def test_a_hook_that_does_not_load_is_a_named_setting_problem(spec, broken_hook):
    with pytest.raises(Misconfigured, match="FULFILLMENT_HOOK") as raised:
        load_hook(broken_hook if spec == "broken" else spec)
    assert "seller_hooks" not in raised.value.message and "tests." not in raised.value.message  # names, no value


def hooked_app(spec: str, store: MemoryStore) -> TestClient:
    env = {"STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET, "FULFILLMENT_HOOK": spec}
    return TestClient(create_app(Services(environ=env, store=store)), raise_server_exceptions=False)


def test_a_hook_that_does_not_import_is_misconfigured_on_the_webhook_and_in_health(broken_hook):
    store = MemoryStore()
    client = hooked_app(broken_hook, store)
    health = client.get("/api/health").json()
    assert health["status"] == "misconfigured"
    assert any(p.startswith("FULFILLMENT_HOOK cannot be imported") for p in health["problems"]), health
    body, headers = signed(make_event("checkout.session.completed", make_session()), WEBHOOK_SECRET)
    response = client.post("/api/webhook", content=body, headers=headers)
    assert response.status_code == 500 and response.json()["error"]["code"] == "misconfigured"
    assert "FULFILLMENT_HOOK" in response.json()["error"]["message"]
    assert store.items == {}  # nothing claimed: Stripe's retry, once the hook is fixed, applies it


def test_health_is_ok_with_a_hook_that_loads():
    assert hooked_app("tests.hooks:grant_access", MemoryStore()).get("/api/health").json()["status"] == "ok"


class ReleaseFails(MemoryStore):
    def release(self, key: str, token: str, *, fields: dict[str, Any] | None = None) -> None:
        raise StoreUnavailable("memory store refuses the release")


def test_a_failed_release_does_not_hide_the_fulfilment_failure(capfd):
    store = ReleaseFails()
    with pytest.raises(FulfilmentFailed):
        process(make_event("checkout.session.completed", make_session()), store, Fulfiller([RecordingAction(
            fail=True)]))
    assert "lease not released" in capfd.readouterr().err


def test_malformed_hook_setting_is_misconfigured():
    with pytest.raises(Misconfigured, match="FULFILLMENT_HOOK"):
        Settings.from_env({"FULFILLMENT_HOOK": "not a hook"})


def test_receipt_formats_zero_decimal_currencies():
    text = receipt_text({"session_id": "cs_1", "amount_total": 500, "currency": "jpy",
                         "line_items": [{"quantity": 1, "description": "Mug"}]})
    assert "1 × Mug" in text and "500 JPY" in text
