"""A buyer who paid in their own currency (Adaptive Pricing) sees that amount on the success page, through
the real API (Stripe's stand-in, DynamoDB over HTTP) and in Chromium."""

from __future__ import annotations

import httpx
import pytest

from tests.test_browser import browser, demo_prices, new_page, site  # noqa: F401 (fixtures)

EUROS = {"presentment_amount": 2790, "presentment_currency": "eur"}


def test_the_success_page_data_says_what_the_buyer_paid_in_their_currency(api_client, standin, catalog):
    session_id = api_client.post("/api/create-checkout-session",
                             json={"priceId": catalog["tshirt"]["id"], "quantity": 2}).json()["id"]
    standin.complete_session(session_id, payment_status="paid", email="eu@example.com")
    standin.sessions[session_id]["presentment_details"] = EUROS
    body = api_client.get("/api/checkout-session", params={"session_id": session_id}).json()
    assert (body["amount_total"], body["currency"]) == (3000, "usd")
    assert (body["presentment_amount"], body["presentment_currency"]) == (2790, "eur")
    assert body["order_status"] == "paid"


def test_a_buyer_paying_in_the_sellers_currency_sees_no_second_amount(api_client, standin, catalog):
    session_id = api_client.post("/api/create-checkout-session", json={"priceId": catalog["tshirt"]["id"]}).json()["id"]
    standin.complete_session(session_id, payment_status="paid")
    body = api_client.get("/api/checkout-session", params={"session_id": session_id}).json()
    assert body["presentment_amount"] is None and body["presentment_currency"] is None


@pytest.mark.browser
def test_success_page_shows_the_buyers_currency_first(browser, site, standin):  # noqa: F811
    created = httpx.post(site.url + "/api/create-checkout-session", json={"priceId": "price_tshirt", "quantity": 2})
    session_id = created.json()["id"]
    standin.complete_session(session_id, payment_status="paid", email="eu@example.com")
    standin.sessions[session_id]["presentment_details"] = EUROS
    page = new_page(browser, locale="en-US")
    page.goto(f"{site.url}/success.html?session_id={session_id}")
    page.wait_for_selector("#order[aria-busy=false]")
    assert page.text_content("#order-heading") == "Thank you!"
    assert page.text_content("#order-total") == "€27.90 ($30.00)"
    assert page.violations == []
