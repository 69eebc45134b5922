"""The stand-in's invoices, customer search and price changes, driven through the real `stripe` package."""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from shared.demo.standin import StripeStandIn

DAY = 24 * 3600



@pytest.fixture
def plans(fresh_standin: StripeStandIn) -> dict[str, Any]:
    monthly = {"interval": "month"}
    basic = fresh_standin.add_price(unit_amount=1000, recurring=monthly, product_name="Basic")
    pro = fresh_standin.add_price(unit_amount=3000, recurring=monthly, product_name="Pro")
    customer = fresh_standin.add_customer(email="ada@example.com")
    sub = fresh_standin.add_subscription(customer=customer["id"], price=basic["id"])
    return {"basic": basic, "pro": pro, "customer": customer, "sub": sub}


def _change(plans: dict[str, Any], **details: Any) -> Any:
    item = plans["sub"]["items"]["data"][0]["id"]
    return {"items": [{"id": item, "price": plans["pro"]["id"]}], **details}


def _proration(line: stripe.InvoiceLineItem) -> bool | None:
    details = line.parent.subscription_item_details if line.parent else None
    return details.proration if details else None


def test_preview_prorates_at_the_proration_date(
    stripe_client: stripe.StripeClient, plans: dict[str, Any]
) -> None:
    start = plans["sub"]["items"]["data"][0]["current_period_start"]
    halfway = start + 15 * DAY  # of a 30-day period
    preview = stripe_client.v1.invoices.create_preview(
        params={
            "customer": plans["customer"]["id"],
            "subscription": plans["sub"]["id"],
            "subscription_details": _change(
                plans, proration_behavior="always_invoice", proration_date=halfway
            ),
        }
    )
    amounts = [line.amount for line in preview.lines.data]
    assert amounts == [-500, 1500] and preview.total == preview.amount_due == 1000
    assert all(_proration(line) for line in preview.lines.data)
    assert preview.id.startswith("upcoming_in_")


def test_preview_of_the_next_invoice_adds_the_new_price_for_the_next_period(
    stripe_client: stripe.StripeClient, plans: dict[str, Any]
) -> None:
    preview = stripe_client.v1.invoices.create_preview(
        params={
            "subscription": plans["sub"]["id"],
            "subscription_details": _change(plans, proration_behavior="none"),
        }
    )
    [line] = preview.lines.data
    assert (line.amount, line.description) == (3000, "1 × Pro")
    assert _proration(line) is False
    period_end = plans["sub"]["items"]["data"][0]["current_period_end"]
    assert preview.next_payment_attempt == period_end == line.period.start


@pytest.mark.parametrize(
    ("details", "message"),
    [
        ({"proration_behaviour": "none"}, "Received unknown parameter: subscription_details[proration_behaviour]"),
        ({"proration_behavior": "sometimes"}, "must be one of always_invoice, create_prorations, or none"),
        ({"proration_behavior": "none", "proration_date": 1}, "cannot be set when"),
        ({"proration_date": 1}, "must be within the current subscription period"),
    ],
)
def test_preview_rejects_what_stripe_rejects(
    stripe_client: stripe.StripeClient, plans: dict[str, Any], details: Any, message: str
) -> None:
    with pytest.raises(stripe.InvalidRequestError, match=message.replace("[", r"\[").replace("]", r"\]")):
        stripe_client.v1.invoices.create_preview(
            params={"subscription": plans["sub"]["id"], "subscription_details": _change(plans, **details)}
        )


def test_a_price_in_another_currency_or_one_time_is_refused(
    fresh_standin: StripeStandIn, stripe_client: stripe.StripeClient, plans: dict[str, Any]
) -> None:
    item = plans["sub"]["items"]["data"][0]["id"]
    euro = fresh_standin.add_price(unit_amount=900, currency="eur", recurring={"interval": "month"})
    mug = fresh_standin.add_price(unit_amount=900)
    for price, message in ((euro, "is in eur, but this subscription is in usd"), (mug, "type=one_time")):
        with pytest.raises(stripe.InvalidRequestError, match=message):
            stripe_client.v1.subscriptions.update(
                plans["sub"]["id"], params={"items": [{"id": item, "price": price["id"]}]}
            )
    assert fresh_standin.subscriptions[plans["sub"]["id"]]["items"]["data"][0]["price"]["id"] == plans["basic"]["id"]


def test_a_plan_change_that_always_invoices_bills_and_charges_the_prorations(
    fresh_standin: StripeStandIn, stripe_client: stripe.StripeClient, plans: dict[str, Any]
) -> None:
    updated = stripe_client.v1.subscriptions.update(
        plans["sub"]["id"],
        params={**_change(plans), "proration_behavior": "always_invoice", "expand": ["latest_invoice"]},
    )
    assert updated["items"].data[0].price.id == plans["pro"]["id"]
    assert updated["items"].data[0].plan.amount == 3000
    invoice = updated.latest_invoice
    assert isinstance(invoice, stripe.Invoice)
    assert (invoice.status, invoice.billing_reason, invoice.amount_paid) == ("paid", "subscription_update", 2000)
    assert fresh_standin.invoices[invoice.id]["status"] == "paid"


def test_paying_an_invoice_follows_the_customers_card(
    fresh_standin: StripeStandIn, stripe_client: stripe.StripeClient, plans: dict[str, Any]
) -> None:
    sub, customer = plans["sub"]["id"], plans["customer"]["id"]
    invoice = fresh_standin.add_invoice(sub)
    assert fresh_standin.subscriptions[sub]["status"] == "past_due"
    listed = stripe_client.v1.invoices.list(params={"subscription": sub, "status": "open"})
    assert [i.id for i in listed.data] == [invoice["id"]] and invoice["hosted_invoice_url"]

    fresh_standin.set_card(customer, "declines", decline_code="expired_card")
    with pytest.raises(stripe.CardError) as declined:
        stripe_client.v1.invoices.pay(invoice["id"])
    assert declined.value.error is not None
    assert declined.value.code == "card_declined" and declined.value.error.decline_code == "expired_card"
    assert declined.value.user_message == "Your card has expired."

    fresh_standin.set_card(customer, "requires_action")
    with pytest.raises(stripe.CardError) as action:
        stripe_client.v1.invoices.pay(invoice["id"])
    assert action.value.code == "invoice_payment_intent_requires_action"
    assert fresh_standin.invoices[invoice["id"]]["attempt_count"] == 3  # the renewal's own, and two here

    fresh_standin.set_card(customer)
    paid = stripe_client.v1.invoices.pay(invoice["id"])
    assert (paid.status, paid.amount_paid, paid.amount_remaining) == ("paid", 1000, 0)
    assert fresh_standin.subscriptions[sub]["status"] == "active"
    with pytest.raises(stripe.InvalidRequestError, match="already paid"):
        stripe_client.v1.invoices.pay(invoice["id"])
    assert stripe_client.v1.invoices.retrieve(invoice["id"]).status == "paid"


def test_customer_search_finds_an_exact_email_and_refuses_other_queries(
    fresh_standin: StripeStandIn, stripe_client: stripe.StripeClient
) -> None:
    ada = fresh_standin.add_customer(email="ada@example.com")
    fresh_standin.add_customer(email="ada@example.org")
    quoted = fresh_standin.add_customer(email="o'hara@example.com")
    found = stripe_client.v1.customers.search(params={"query": "email:'ada@example.com'"})
    assert [c.id for c in found.data] == [ada["id"]] and found["object"] == "search_result"
    assert [c.id for c in stripe_client.v1.customers.search(params={"query": r"email:'o\'hara@example.com'"}).data] == [
        quoted["id"]
    ]
    assert stripe_client.v1.customers.search(params={"query": "email:'ADA@example.com'"}).data == []
    with pytest.raises(stripe.InvalidRequestError, match="understands one clause"):
        stripe_client.v1.customers.search(params={"query": "name:'Ada'"})
    with pytest.raises(stripe.InvalidRequestError, match="Missing required param: query"):
        stripe_client.v1.customers.search(params={})  # type: ignore[typeddict-item]
