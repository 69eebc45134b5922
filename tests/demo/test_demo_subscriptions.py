"""A subscription bought end to end: the real app on a loopback port, DynamoDB over HTTP, and the stand-in
serving the Checkout page and delivering its signed events to the app's `/api/webhook`, as under
`serve --demo`. The events Stripe sends for a new subscription must leave the order paid and fulfilled,
the subscription recorded with its price and period, the first invoice's payment linked to the order,
and the sales report counting the MRR."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from shared.cli import report_data
from shared.cli.report import build
from shared.demo.standin import StripeStandIn
from shared.events.decide import HANDLED_TYPES
from shared.orders.fulfilment import Fulfiller
from shared.settings import Settings
from shared.store.dynamo import DynamoStore
from shared.store.keys import invoice_key, order_key, payment_key, subscription_key
from shared.web.app import create_app
from shared.web.services import Services
from tests.conftest import BARE_OPTIONS, SECRET_KEY, WEBHOOK_SECRET
from tests.demo.test_standin_checkout import press
from tests.fakes import RecordingAction
from tests.livesrv import LiveServer

DAY = 24 * 3600


@pytest.fixture
def shop(fresh_standin: StripeStandIn, dynamo_store: DynamoStore, hook: RecordingAction,
         request: pytest.FixtureRequest) -> Iterator[tuple[LiveServer, str]]:
    """The app selling `price_club` (12.00 USD a month) and `price_trial` (5.00, after 14 days free), with the
    stand-in delivering every handled event to it; to an endpoint of an older API version when parametrised so."""
    fresh_standin.add_price(id="price_club", unit_amount=1200, product_name="Club", recurring={"interval": "month"})
    fresh_standin.add_price(id="price_trial", unit_amount=500, product_name="Membership",
                            recurring={"interval": "month"})
    # A trial is the price's metadata, which `catalog sync` writes (shared/checkout/prices.py reads it).
    fresh_standin.prices["price_trial"]["metadata"]["trial_period_days"] = "14"
    server = LiveServer()
    env = {"STRIPE_SECRET_KEY": SECRET_KEY, "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET, "STRIPE_API_BASE":
           fresh_standin.url, "SITE_URL": server.url, "ALLOWED_PRICES": "price_club,price_trial", "RATE_LIMIT": "off",
           "CHECKOUT_CONFIG": BARE_OPTIONS}
    server.start(create_app(Services(Settings.from_env(env), store=dynamo_store, fulfiller=Fulfiller([hook]))))
    fresh_standin.add_webhook_endpoint(url=f"{server.url}/api/webhook", enabled_events=list(HANDLED_TYPES),
                                       secret=WEBHOOK_SECRET, api_version=getattr(request, "param", None))
    fresh_standin.deliver_webhooks(retry_delays=(0.2, 0.4, 0.8))
    yield server, fresh_standin.url
    server.stop()


def buy(server: LiveServer, price: str = "price_club", quantity: int = 2) -> tuple[str, str]:
    answer = httpx.post(server.url + "/api/create-checkout-session", data={"priceId": price, "quantity": str(quantity)})
    assert answer.status_code == 303, answer.text
    page = answer.headers["location"]
    assert press(page, "pay").status_code == 303
    return page.rsplit("/", 1)[1], page


def wait_for(read: Callable[[], Any], timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (found := read()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)
    return found


@pytest.mark.parametrize("shop", [None, "2024-06-20"], indirect=True, ids=["current", "pre-basil"])
def test_a_paid_subscription_checkout_is_recorded_linked_fulfilled_and_counted(
    shop: tuple[LiveServer, str], fresh_standin: StripeStandIn, dynamo_store: DynamoStore, hook: RecordingAction
) -> None:
    server, _ = shop

    session_id, _ = buy(server)

    session = fresh_standin.sessions[session_id]
    sub_id, invoice_id = session["subscription"], session["invoice"]
    intent = fresh_standin.invoice_payments[invoice_id]["payment"]["payment_intent"]
    order = wait_for(lambda: (o := dynamo_store.get(order_key(session_id))) and o.get("done_at") and o)
    assert (order["status"], order["subscription"], order["invoice"]) == ("paid", sub_id, invoice_id)
    assert hook.calls == [session_id]
    sub = wait_for(lambda: dynamo_store.get(subscription_key(sub_id)))
    item = fresh_standin.subscriptions[sub_id]["items"]["data"][0]
    assert sub["status"] == "active" and sub["price"] == "price_club"
    assert sub["current_period_end"] == item["current_period_end"] > time.time() + 27 * DAY
    assert sub["items"][0]["unit_amount"] == 1200 and sub["items"][0]["quantity"] == 2
    # The first invoice's payment reaches the order: invoice -> order, payment intent -> invoice and order.
    invoice = wait_for(lambda: (i := dynamo_store.get(invoice_key(invoice_id))) and i.get("payment_intent") and i)
    assert (invoice["session_id"], invoice["payment_intent"]) == (session_id, intent)
    assert invoice["billing_reason"] == "subscription_create" and invoice["amount_total"] == 2400
    payment = wait_for(lambda: (p := dynamo_store.get(payment_key(intent))) and p.get("session_id") and p)
    assert (payment["session_id"], payment["invoice_id"]) == (session_id, invoice_id)
    assert report(dynamo_store)["subscriptions"]["mrr"] == {"usd": 2400}


def report(store: DynamoStore) -> dict[str, Any]:
    """`python -m shared report --json`'s figures, from the same table."""
    now = int(time.time()) + 60
    return build(report_data.orders_since(store, now - 30 * DAY), report_data.subscriptions(store),
                 since=now - 30 * DAY, now=now)


def test_a_trial_is_recorded_trialing_with_a_0_first_invoice_and_no_mrr_yet(
    shop: tuple[LiveServer, str], fresh_standin: StripeStandIn, dynamo_store: DynamoStore, hook: RecordingAction
) -> None:
    server, _ = shop

    session_id, _ = buy(server, "price_trial", 1)

    session = fresh_standin.sessions[session_id]
    sub_id, invoice_id = session["subscription"], session["invoice"]
    wait_for(lambda: (o := dynamo_store.get(order_key(session_id))) and o.get("done_at"))
    assert hook.calls == [session_id]
    sub = wait_for(lambda: dynamo_store.get(subscription_key(sub_id)))
    assert sub["status"] == "trialing" and sub["trial_end"] == fresh_standin.subscriptions[sub_id]["trial_end"]
    invoice = wait_for(lambda: (i := dynamo_store.get(invoice_key(invoice_id))) and "amount_total" in i and i)
    assert invoice["session_id"] == session_id and invoice["amount_total"] == 0 and "payment_intent" not in invoice
    figures = report(dynamo_store)["subscriptions"]
    assert figures["mrr"] == {} and figures["trialing"] == 1
