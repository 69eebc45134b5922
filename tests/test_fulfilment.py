"""Fulfilment actions: the SES receipt (moto's SES), the seller's hook, and retry after failure."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from shared.errors import Misconfigured
from shared.events.intake import process
from shared.orders.fulfilment import EmailReceipt, Fulfiller, FulfilmentFailed, load_hook, receipt_text
from shared.settings import Settings
from tests import hooks
from tests.fakes import MemoryStore, make_event, make_session


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
    with pytest.raises(TypeError):
        load_hook("tests.hooks:not_callable")


def test_malformed_hook_setting_is_misconfigured():
    with pytest.raises(Misconfigured, match="FULFILLMENT_HOOK"):
        Settings.from_env({"FULFILLMENT_HOOK": "not a hook"})


def test_receipt_formats_zero_decimal_currencies():
    text = receipt_text({"session_id": "cs_1", "amount_total": 500, "currency": "jpy",
                         "line_items": [{"quantity": 1, "description": "Mug"}]})
    assert "1 × Mug" in text and "500 JPY" in text
