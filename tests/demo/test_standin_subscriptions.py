"""A subscription Checkout in the stand-in: its first invoice, and the events Stripe sends for it, in the
shapes our webhook reads (checked with the webhook's own shape check and decisions)."""

from __future__ import annotations

import json
from typing import Any

import stripe

from shared.demo.standin import StripeStandIn
from shared.events.decide import decide
from shared.events.shape import event_problem
from shared.orders.changes import InvoiceLink, SubscriptionChange
from tests.demo.test_standin_checkout import press, receiver, wait_until  # noqa: F401

MONTHLY = {"interval": "month"}


def subscription_checkout(stripe_client: stripe.StripeClient, *lines: tuple[str, int], **extra: Any) -> Any:
    params: Any = {
        "mode": "subscription", "line_items": [{"price": price, "quantity": qty} for price, qty in lines],
        "success_url": "https://shop.example/success.html?session_id={CHECKOUT_SESSION_ID}", **extra}
    return stripe_client.v1.checkout.sessions.create(params=params)


def events(fresh_standin: StripeStandIn) -> list[dict[str, Any]]:
    return list(fresh_standin._store.events)  # oldest first


def test_a_paid_subscription_checkout_makes_its_first_invoice_and_sends_stripes_events(
    fresh_standin: StripeStandIn, stripe_client: stripe.StripeClient
) -> None:
    plan = fresh_standin.add_price(unit_amount=1000, recurring=MONTHLY, product_name="Club")["id"]
    once = fresh_standin.add_price(unit_amount=500, product_name="Welcome kit")["id"]
    session = subscription_checkout(stripe_client, (plan, 2), (once, 1))

    assert press(session.url, "pay").status_code == 303

    done = fresh_standin.sessions[session.id]
    sub = fresh_standin.subscriptions[done["subscription"]]
    invoice = stripe_client.v1.invoices.retrieve(done["invoice"])
    item = sub["items"]["data"][0]
    assert (sub["status"], sub["latest_invoice"]) == ("active", invoice.id)
    assert (invoice.status, invoice.billing_reason) == ("paid", "subscription_create")
    assert invoice.amount_paid == invoice.total == done["amount_total"] == 2500
    assert invoice.parent and invoice.parent.subscription_details
    assert invoice.parent.subscription_details.subscription == sub["id"]
    recurring, one_time = invoice.lines.data
    assert (recurring.amount, recurring.period.start, recurring.period.end) == (
        2000, item["current_period_start"], item["current_period_end"])
    assert recurring.parent and recurring.parent.type == "subscription_item_details"
    assert one_time.amount == 500 and one_time.parent and one_time.parent.type == "invoice_item_details"
    payment = fresh_standin.invoice_payments[invoice.id]
    assert payment["payment"]["payment_intent"].startswith("pi_") and payment["amount_paid"] == 2500

    sent = events(fresh_standin)
    assert [e["type"] for e in sent] == ["customer.subscription.created", "invoice.paid",
                                         "invoice_payment.paid", "checkout.session.completed"]
    assert all(event_problem(e) is None for e in sent)
    created, paid, linked, completed = (decide(e) for e in sent)
    assert isinstance(created, SubscriptionChange) and created.snapshot
    assert created.snapshot["status"] == "active" and created.snapshot["items"][0]["unit_amount"] == 1000
    assert isinstance(paid, SubscriptionChange) and paid.link
    assert (paid.link.invoice_id, paid.link.payment_intent) == (invoice.id, None)  # basil: no `payments`
    assert linked == InvoiceLink(invoice.id, payment["payment"]["payment_intent"])
    assert sent[-1]["data"]["object"]["invoice"] == invoice.id


def test_a_trial_is_trialing_with_a_0_first_invoice_and_no_payment(
    fresh_standin: StripeStandIn, stripe_client: stripe.StripeClient
) -> None:
    plan = fresh_standin.add_price(unit_amount=500, recurring=MONTHLY, product_name="Membership")["id"]
    session = subscription_checkout(stripe_client, (plan, 1), subscription_data={"trial_period_days": 14})

    press(session.url, "pay")

    done = fresh_standin.sessions[session.id]
    sub = fresh_standin.subscriptions[done["subscription"]]
    invoice = fresh_standin.invoices[done["invoice"]]
    assert sub["status"] == "trialing"
    assert (invoice["status"], invoice["amount_paid"], invoice["total"]) == ("paid", 0, 0)
    assert invoice["lines"]["data"][0]["description"] == "Trial period for Membership"
    assert invoice["lines"]["data"][0]["period"]["end"] == sub["trial_end"]
    assert invoice["id"] not in fresh_standin.invoice_payments
    assert [e["type"] for e in events(fresh_standin)] == [
        "customer.subscription.created", "invoice.paid", "checkout.session.completed"]


def test_a_bank_transfer_subscription_sends_its_events_once_the_payment_arrives(
    fresh_standin: StripeStandIn, stripe_client: stripe.StripeClient
) -> None:
    fresh_standin.async_payment_delay = 0.1
    plan = fresh_standin.add_price(unit_amount=1000, recurring=MONTHLY)["id"]
    session = subscription_checkout(stripe_client, (plan, 1))

    press(session.url, "bank_transfer")

    assert fresh_standin.sessions[session.id]["invoice"] is None
    # The session turns paid first and its events follow, all under the stand-in's lock: wait for the last.
    wait_until(lambda: any(e["type"] == "checkout.session.async_payment_succeeded" for e in events(fresh_standin)))
    assert fresh_standin.sessions[session.id]["payment_status"] == "paid"
    assert [e["type"] for e in events(fresh_standin)] == [
        "checkout.session.completed", "customer.subscription.created", "invoice.paid", "invoice_payment.paid",
        "checkout.session.async_payment_succeeded"]
    invoice = fresh_standin.invoices[fresh_standin.sessions[session.id]["invoice"]]
    assert invoice["status"] == "paid" and invoice["amount_paid"] == 1000


def test_an_older_endpoint_gets_the_invoice_naming_its_subscription_and_payment_and_no_invoice_payment(
    fresh_standin: StripeStandIn, stripe_client: stripe.StripeClient, receiver: Any  # noqa: F811
) -> None:
    current, older = receiver(), receiver()
    fresh_standin.deliver_webhooks(retry_delays=())
    fresh_standin.add_webhook_endpoint(url=current.url, secret="whsec_current_0123")
    fresh_standin.add_webhook_endpoint(url=older.url, secret="whsec_older_0123", api_version="2024-06-20")
    plan = fresh_standin.add_price(unit_amount=1000, recurring=MONTHLY)["id"]
    session = subscription_checkout(stripe_client, (plan, 1))

    press(session.url, "pay")

    wait_until(lambda: len(current.received) == 4 and len(older.received) == 3)
    by_type = {e["type"]: e for e in (json.loads(body) for body, _ in older.received)}
    assert set(by_type) == {"customer.subscription.created", "invoice.paid", "checkout.session.completed"}
    invoice = by_type["invoice.paid"]["data"]["object"]
    done = fresh_standin.sessions[session.id]
    intent = fresh_standin.invoice_payments[done["invoice"]]["payment"]["payment_intent"]
    assert (invoice["subscription"], invoice["payment_intent"]) == (done["subscription"], intent)
    assert "parent" not in invoice
    sub = by_type["customer.subscription.created"]["data"]["object"]
    assert sub["current_period_end"] == sub["items"]["data"][0]["current_period_end"]
    assert all(event_problem(e) is None for e in by_type.values())
    paid = decide(by_type["invoice.paid"])
    assert isinstance(paid, SubscriptionChange) and paid.link and paid.link.payment_intent == intent
