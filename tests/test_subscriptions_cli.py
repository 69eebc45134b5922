"""`subscriptions list | cancel | resume`, against the Stripe stand-in through the real stripe package."""

from __future__ import annotations

import json
import time
import uuid

import pytest

from shared.cli.main import main
from shared.cli.subscriptions import Row
from tests.conftest import SECRET_KEY


@pytest.fixture
def subscriptions_env(monkeypatch, standin, tmp_path):
    monkeypatch.setenv("STRIPE_SECRET_KEY", SECRET_KEY)
    monkeypatch.setenv("STRIPE_API_BASE", standin.url)
    monkeypatch.chdir(tmp_path)  # no stray .env


@pytest.fixture
def subscription(standin, subscriptions_env) -> dict:
    key = f"club-{uuid.uuid4().hex[:8]}"
    price = standin.add_price(unit_amount=500, recurring={"interval": "month"}, lookup_key=key, product_name="Club")
    customer = standin.add_customer(email=f"{key}@example.com")
    return standin.add_subscription(customer=customer["id"], price=price["id"])


def day(stamp: int) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(stamp))


def test_list_shows_email_status_price_and_next_renewal(subscription, capsys):
    assert main(["subscriptions", "list", "--limit", "100"]) == 0
    line = next(row for row in capsys.readouterr().out.splitlines() if row.startswith(subscription["id"]))
    period_end = subscription["items"]["data"][0]["current_period_end"]
    price = subscription["items"]["data"][0]["price"]
    assert "active" in line and f"{price['lookup_key']}@example.com" in line
    assert f"{price['lookup_key']} 5.00 USD/month" in line and f"renews {day(period_end)}" in line


def test_list_as_json_with_a_status_filter(subscription, standin, capsys):
    assert main(["subscriptions", "cancel", subscription["id"]]) == 0
    capsys.readouterr()
    assert main(["subscriptions", "list", "--json", "--limit", "100"]) == 0
    assert subscription["id"] not in {r["id"] for r in json.loads(capsys.readouterr().out)}  # default: not canceled
    assert main(["subscriptions", "list", "--json", "--status", "canceled", "--limit", "100"]) == 0
    rows = {r["id"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows[subscription["id"]]["status"] == "canceled"


def test_list_honours_the_limit(subscription, standin, capsys):
    standin.add_subscription(price=subscription["items"]["data"][0]["price"]["id"])
    assert main(["subscriptions", "list", "--limit", "1", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 1
    assert main(["subscriptions", "list", "--limit", "0"]) == 1
    assert "--limit must be 1 or more" in capsys.readouterr().err


def test_cancel_at_period_end_then_resume(subscription, standin, capsys):
    sub_id = subscription["id"]
    period_end = subscription["items"]["data"][0]["current_period_end"]
    assert main(["subscriptions", "cancel", sub_id, "--at-period-end"]) == 0
    assert f"{sub_id} will cancel at the end of its period, {day(period_end)}" in capsys.readouterr().out
    assert standin.subscriptions[sub_id]["cancel_at_period_end"] is True
    assert standin.subscriptions[sub_id]["status"] == "active"

    assert main(["subscriptions", "cancel", sub_id, "--at-period-end"]) == 0
    assert "already cancels at the end of its period" in capsys.readouterr().out
    assert main(["subscriptions", "list", "--limit", "100"]) == 0
    assert f"cancels {day(period_end)}" in next(r for r in capsys.readouterr().out.splitlines() if sub_id in r)

    assert main(["subscriptions", "resume", sub_id]) == 0
    assert f"{sub_id} will renew on {day(period_end)}." in capsys.readouterr().out
    assert standin.subscriptions[sub_id]["cancel_at_period_end"] is False
    assert main(["subscriptions", "resume", sub_id]) == 0
    assert "not scheduled to cancel; nothing to do" in capsys.readouterr().out


def test_cancel_now_ends_it_and_it_cannot_be_resumed(subscription, standin, capsys):
    sub_id = subscription["id"]
    assert main(["subscriptions", "cancel", sub_id]) == 0
    assert f"{sub_id} is canceled now" in capsys.readouterr().out
    assert standin.subscriptions[sub_id]["status"] == "canceled"
    assert main(["subscriptions", "cancel", sub_id]) == 0
    assert "was already canceled" in capsys.readouterr().out
    assert main(["subscriptions", "resume", sub_id]) == 1
    assert "is canceled and cannot be resumed; the customer can subscribe again" in capsys.readouterr().err


@pytest.mark.parametrize("command", [["cancel", "sub_doesnotexist"], ["cancel", "sub_doesnotexist", "--at-period-end"],
                                     ["resume", "sub_doesnotexist"]])
def test_an_unknown_subscription_is_named_in_a_clear_error(subscriptions_env, capsys, command):
    assert main(["subscriptions", *command]) == 1
    assert "subscriptions: Stripe has no subscription sub_doesnotexist" in capsys.readouterr().err


def test_rows_read_the_period_from_older_api_versions_too():
    row = Row.from_stripe({"id": "sub_1", "status": "past_due", "current_period_end": 1_800_000_000,
                           "customer": "cus_1", "items": {"data": [{"price": {"id": "price_1"}}]}})
    assert (row.email, row.price, row.next_step) == (None, "price_1", f"renews {day(1_800_000_000)}")
