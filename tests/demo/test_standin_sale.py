"""The stand-in's Checkout options and the sale it completes with them: its page asks for what the session
asks for (promotion code, shipping address and rate, phone, custom fields, consent), completes with Stripe's
totals and fields, expands what Stripe expands, refuses what Stripe refuses, and sends an endpoint of an
older API version the older shape of a completed session."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import stripe

from shared.demo.standin import StripeStandIn
from shared.demo.standin._sale import BuyerError
from tests.demo.test_standin_checkout import press, receiver, wait_until  # noqa: F401  (receiver: a fixture)

RATE = {"shipping_rate_data": {"display_name": "Standard", "type": "fixed_amount",
                               "fixed_amount": {"amount": 500, "currency": "usd"}}}
EXPRESS = {"shipping_rate_data": {"display_name": "Express", "type": "fixed_amount",
                                  "fixed_amount": {"amount": 1500, "currency": "usd"}}}


def shop(stripe_client: stripe.StripeClient, fresh_standin: StripeStandIn, *prices: tuple[int, int],
         **options: Any) -> Any:
    line_items = [{"price": fresh_standin.add_price(unit_amount=amount, product_name=f"Item {amount}")["id"],
                   "quantity": quantity} for amount, quantity in prices]
    params: Any = {"mode": "payment", "line_items": line_items, "success_url": "https://shop.example/ok",
                   "cancel_url": "https://shop.example/no", **options}
    return stripe_client.v1.checkout.sessions.create(params=params)


def test_a_bare_session_page_asks_for_nothing_more(fresh_standin, stripe_client):
    page = httpx.get(shop(stripe_client, fresh_standin, (1000, 1)).url).text
    for asked in ("standin-promotion-code", "standin-shipping-address", "standin-shipping-rates", 'name="phone"',
                  "accept_terms"):
        assert asked not in page


def test_the_page_asks_for_a_promotion_code_an_address_and_a_rate_and_shows_the_totals(fresh_standin, stripe_client):
    session = shop(stripe_client, fresh_standin, (1000, 2), allow_promotion_codes=True,
                   phone_number_collection={"enabled": True},
                   shipping_address_collection={"allowed_countries": ["DE", "FR"]}, shipping_options=[RATE, EXPRESS])
    page = httpx.get(session.url).text
    assert 'id="standin-promotion-code"' in page and 'name="phone"' in page
    assert "<option selected>DE</option><option>FR</option>" in page
    assert "Standard — 5.00 USD" in page and "Express — 15.00 USD" in page
    assert 'id="standin-shipping">5.00 USD<' in page and 'id="standin-amount">25.00 USD<' in page

    express = fresh_standin.sessions[session.id]["shipping_options"][1]["shipping_rate"]
    applied = press(session.url, "apply", promotion_code="PROMO10", shipping_rate=express, country="FR").text
    assert 'id="standin-discount">-2.00 USD<' in applied and 'id="standin-amount">33.00 USD<' in applied
    assert 'value="PROMO10"' in applied and "<option selected>FR</option>" in applied

    wrong = press(session.url, "pay", promotion_code="NOPE")
    assert wrong.status_code == 200 and "NOPE is not a valid promotion code." in wrong.text
    assert fresh_standin.sessions[session.id]["status"] == "open"

    paid = press(session.url, "pay", promotion_code="PROMO10", shipping_rate=express, country="FR", name="Ada",
                 line1="1 Rue", city="Paris", postal_code="75001", phone="+33100000000")
    assert paid.status_code == 303
    done = fresh_standin.sessions[session.id]
    assert done["amount_total"] == 3300 and done["total_details"] == {
        "amount_discount": 200, "amount_shipping": 1500, "amount_tax": 0}
    assert done["collected_information"]["shipping_details"]["address"]["country"] == "FR"
    assert done["customer_details"]["phone"] == "+33100000000"


def test_a_completed_sale_carries_stripes_fields_and_adds_up(fresh_standin, stripe_client):
    session = shop(stripe_client, fresh_standin, (1999, 3), (500, 1), allow_promotion_codes=True,
                   automatic_tax={"enabled": True},
                   shipping_address_collection={"allowed_countries": ["US"]}, shipping_options=[RATE],
                   tax_id_collection={"enabled": True}, consent_collection={"terms_of_service": "required"},
                   custom_fields=[{"key": "gift", "label": {"type": "custom", "custom": "Gift note"}, "type": "text"}])
    with pytest.raises(BuyerError, match="Gift note is required"):
        fresh_standin.complete_session(session.id)
    assert fresh_standin.sessions[session.id]["status"] == "open"  # nothing changed
    done = fresh_standin.complete_session(session.id, promotion_code="PROMO10", custom_fields={"gift": "Happy day"})
    totals, lines = done["total_details"], fresh_standin.line_items[session.id]
    assert done["amount_subtotal"] == 3 * 1999 + 500 == sum(line["amount_subtotal"] for line in lines)
    assert totals["amount_discount"] == 650 == sum(line["amount_discount"] for line in lines)  # 10 % of 64.97
    assert totals["amount_tax"] == sum(line["amount_tax"] for line in lines) + done["shipping_cost"]["amount_tax"]
    assert done["amount_total"] == done["amount_subtotal"] - totals["amount_discount"] + totals["amount_shipping"] \
        + totals["amount_tax"]
    assert all(line["amount_total"] == line["amount_subtotal"] - line["amount_discount"] + line["amount_tax"]
               for line in lines)
    assert done["shipping_cost"]["amount_total"] == 500 + done["shipping_cost"]["amount_tax"]
    assert done["automatic_tax"]["status"] == "complete"
    assert done["consent"] == {"terms_of_service": "accepted", "promotions": None}
    assert done["custom_fields"][0]["text"]["value"] == "Happy day"
    assert done["customer_details"]["tax_ids"] == []  # asked, none given

    expanded = stripe_client.v1.checkout.sessions.retrieve(session.id, params={
        "expand": ["discounts.promotion_code", "shipping_cost.shipping_rate", "total_details.breakdown"]})
    assert expanded.discounts[0].promotion_code.code == "PROMO10"
    assert expanded.shipping_cost.shipping_rate.display_name == "Standard"
    breakdown = expanded.total_details.breakdown
    assert breakdown.discounts[0].amount == 650 and breakdown.taxes[0].amount == totals["amount_tax"]
    assert breakdown.taxes[0].rate.percentage == 8.25


def test_an_expanded_session_holds_ten_lines_and_says_there_are_more(fresh_standin, stripe_client):
    session = shop(stripe_client, fresh_standin, *[(100 + n, 1) for n in range(12)])
    expanded = stripe_client.v1.checkout.sessions.retrieve(session.id, params={"expand": ["line_items"]})
    assert len(expanded.line_items.data) == 10 and expanded.line_items.has_more is True
    every = stripe_client.v1.checkout.sessions.line_items.list(session.id, params={"limit": 100})
    assert len(every.data) == 12 and every.has_more is False


@pytest.mark.parametrize("options,param", [
    ({"metadata": {"k": "x" * 501}}, "metadata[k]"),
    ({"metadata": {"k" * 41: "x"}}, "metadata[" + "k" * 41 + "]"),
    ({"metadata": {f"k{n}": "x" for n in range(51)}}, "metadata"),
    ({"shipping_options": [RATE] * 6}, "shipping_options"),
    ({"shipping_options": [{"shipping_rate": "shr_nope"}]}, "shipping_options[0][shipping_rate]"),
    ({"shipping_options": [{"shipping_rate_data": {**RATE["shipping_rate_data"],
                                                   "fixed_amount": {"amount": 1, "currency": "eur"}}}]},
     "shipping_options[0]"),
    ({"custom_text": {"shipping_address": {"message": "x"}}}, "custom_text[shipping_address]"),
    ({"custom_text": {"terms_of_service_acceptance": {"message": "x"}}}, "custom_text[terms_of_service_acceptance]"),
    ({"submit_type": "subscribe"}, "submit_type"),
    ({"expires_at": 1}, "expires_at"),
    ({"custom_fields": [{"key": f"k{n}", "label": {"type": "custom", "custom": "K"}, "type": "text"}
                        for n in range(4)]}, "custom_fields"),
])
def test_what_stripe_refuses_the_stand_in_refuses(fresh_standin, stripe_client, options, param):
    with pytest.raises(stripe.InvalidRequestError) as raised:
        shop(stripe_client, fresh_standin, (1000, 1), **options)
    assert raised.value.param == param


def test_a_line_quantity_outside_its_adjustable_bounds_is_refused(fresh_standin, stripe_client):
    price = fresh_standin.add_price()["id"]
    params: Any = {"mode": "payment", "success_url": "https://shop.example/ok", "line_items": [
        {"price": price, "quantity": 6, "adjustable_quantity": {"enabled": True, "maximum": 5}}]}
    with pytest.raises(stripe.InvalidRequestError) as raised:
        stripe_client.v1.checkout.sessions.create(params=params)
    assert raised.value.param == "line_items[0][quantity]"
    params["line_items"][0]["quantity"] = 5
    session = stripe_client.v1.checkout.sessions.create(params=params)
    assert fresh_standin.line_items[session.id][0]["adjustable_quantity"] == {"enabled": True, "minimum": None,
                                                                       "maximum": 5}


def test_an_endpoint_of_an_older_version_gets_the_older_shape_of_a_completed_session(fresh_standin, stripe_client,
                                                                                   receiver):  # noqa: F811
    current, older = receiver(), receiver()
    fresh_standin.deliver_webhooks(retry_delays=())
    fresh_standin.add_webhook_endpoint(url=current.url, secret="whsec_current_0123")
    fresh_standin.add_webhook_endpoint(url=older.url, secret="whsec_older_0123", api_version="2024-06-20")
    session = shop(stripe_client, fresh_standin, (1000, 1), shipping_address_collection={"allowed_countries": ["US"]})
    done = fresh_standin.complete_session(session.id, name="Grace")
    fresh_standin.add_event("checkout.session.completed", done)
    wait_until(lambda: len(current.received) == 1 and len(older.received) == 1)
    new, old = (json.loads(r.received[0][0])["data"]["object"] for r in (current, older))
    assert new["collected_information"]["shipping_details"]["name"] == "Grace" and "shipping_details" not in new
    assert old["shipping_details"]["name"] == "Grace" and "shipping_details" not in old["collected_information"]
    assert json.loads(older.received[0][0])["api_version"] == "2024-06-20"


def test_a_promotion_code_in_another_currency_or_where_none_are_allowed_is_refused(fresh_standin, stripe_client):
    fresh_standin.add_promotion_code("FIVEOFF", amount_off=500, currency="eur")
    session = shop(stripe_client, fresh_standin, (1000, 1), allow_promotion_codes=True)
    with pytest.raises(BuyerError, match="does not apply to payments in USD"):
        fresh_standin.complete_session(session.id, promotion_code="fiveoff")
    bare = shop(stripe_client, fresh_standin, (1000, 1))
    with pytest.raises(BuyerError, match="takes no promotion codes"):
        fresh_standin.complete_session(bare.id, promotion_code="PROMO10")
