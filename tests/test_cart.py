"""Carts through the real API: each rule, and exactly what reaches Stripe (the stand-in, through the `stripe`
package, refuses whatever Stripe would). A 20-line cart end to end: metadata within Stripe's limits, the
webhook's and the success page's knowledge of every line, one Stripe call when the prices are cached."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from shared.checkout.cart import MAX_LINES, Requested, build_cart, parse_lines
from shared.checkout.prices import Price
from shared.errors import InvalidRequest
from shared.orders.lines import ITEMS_METADATA_KEY, MAX_ITEMS_KEYS, items_metadata, line_items_of, recorded_items
from shared.store.keys import order_key
from tests.apiclient import error, make_client
from tests.fakes import make_event, signed


@pytest.fixture
def cart_env(api_env):
    return dict(api_env, RATE_LIMIT="off")


@pytest.fixture
def cart_client(cart_env, dynamo_store, hook):
    return make_client(cart_env, dynamo_store, hook)


CREATE = "/api/create-checkout-session"


def creates(standin) -> list[Any]:
    return [r for r in standin.requests if r["method"] == "POST" and r["path"] == "/v1/checkout/sessions"]


def cart(*lines: tuple[str, Any]) -> dict[str, Any]:
    return {"items": [{"priceId": ref, "quantity": quantity} for ref, quantity in lines]}


def sent_lines(standin) -> list[tuple[str, str]]:
    return [(item["price"], item["quantity"]) for item in creates(standin)[-1]["params"]["line_items"]]


# --- the rules ------------------------------------------------------------------------------------------

def test_a_cart_of_three_lines_is_one_payment_session_with_those_lines_in_order(cart_client, standin, catalog):
    tshirt, poster = catalog["tshirt"]["id"], catalog["poster"]["id"]
    response = cart_client.post(CREATE, json=cart((tshirt, 2), ("poster-lookup", 1)))
    assert response.status_code == 200, response.text
    sent = creates(standin)[-1]["params"]
    assert sent["mode"] == "payment"
    assert sent_lines(standin) == [(tshirt, "2"), (poster, "1")]
    session = standin.sessions[response.json()["id"]]
    assert session["amount_total"] == 2 * 1500 + 2500
    assert json.loads(sent["metadata"][ITEMS_METADATA_KEY]) == [
        {"price": tshirt, "quantity": 2, "description": "T-shirt", "amount_total": 3000},
        {"price": poster, "quantity": 1, "description": "Poster", "amount_total": 2500}]


def test_the_same_price_twice_is_one_line_by_id_or_lookup_key(cart_client, standin, catalog):
    tshirt, poster = catalog["tshirt"]["id"], catalog["poster"]["id"]
    assert cart_client.post(CREATE, json=cart((tshirt, 1), ("poster-lookup", 2), (tshirt, 3))).status_code == 200
    assert sent_lines(standin) == [(tshirt, "4"), (poster, "2")]
    # The poster's lookup key is allowed, so its ID is too; both name one price.
    assert cart_client.post(CREATE, json=cart(("poster-lookup", 2), (poster, 5))).status_code == 200
    assert sent_lines(standin) == [(poster, "7")]


def test_merged_lines_over_99_name_the_line_that_went_over(cart_client, standin, catalog):
    before = len(creates(standin))
    response = cart_client.post(CREATE, json=cart((catalog["tshirt"]["id"], 60), ("poster-lookup", 1),
                                             (catalog["tshirt"]["id"], 40)))
    error(response, 400, "invalid_quantity")
    assert response.json()["error"]["line"] == 3 and "line 1" in response.json()["error"]["message"]
    assert len(creates(standin)) == before  # nothing reached Stripe


def test_a_recurring_line_makes_a_subscription_with_the_one_time_lines_on_its_first_invoice(cart_client, standin,
                                                                                            catalog):
    response = cart_client.post(CREATE, json=cart((catalog["tshirt"]["id"], 2), (catalog["membership"]["id"], 1)))
    assert response.status_code == 200, response.text
    assert creates(standin)[-1]["params"]["mode"] == "subscription"
    assert sent_lines(standin) == [(catalog["tshirt"]["id"], "2"), (catalog["membership"]["id"], "1")]
    session = standin.complete_session(response.json()["id"])
    subscription = standin.subscriptions[session["subscription"]]
    # The subscription holds the recurring price; the T-shirts are billed once, with the first invoice.
    assert [item["price"]["id"] for item in subscription["items"]["data"]] == [catalog["membership"]["id"]]
    assert session["amount_total"] == 2 * 1500 + 500


def test_two_billing_intervals_are_400_mixed_intervals_naming_the_line(cart_client, catalog):
    response = cart_client.post(CREATE, json=cart((catalog["membership"]["id"], 1), (catalog["tshirt"]["id"], 1),
                                             (catalog["yearly"]["id"], 1)))
    error(response, 400, "mixed_intervals")
    assert response.json()["error"]["line"] == 3
    assert "every year" in response.json()["error"]["message"] and "every month" in response.json()["error"]["message"]


def test_two_currencies_are_400_mixed_currencies_naming_the_line(cart_client, catalog):
    response = cart_client.post(CREATE, json=cart((catalog["tshirt"]["id"], 1), (catalog["euro"]["id"], 1)))
    error(response, 400, "mixed_currencies")
    assert response.json()["error"]["line"] == 2 and "EUR" in response.json()["error"]["message"]


@pytest.mark.parametrize("line,code", [
    ({"priceId": "price_not_allowed"}, "unknown_price"),
    ({"priceId": "price_missing123"}, "unknown_price"),
    ({"priceId": "@retired"}, "inactive_price"),
    ({"quantity": 1}, "missing_price"),
    ({"priceId": "not a price!"}, "unknown_price"),
    ({"priceId": "@tshirt", "quantity": 0}, "invalid_quantity"),
    ({"priceId": "@tshirt", "quantity": "2.5"}, "invalid_quantity"),
    ("@tshirt", "invalid_items"),
])
def test_an_error_about_one_line_says_which(cart_client, standin, catalog, line, code):
    def named(value: Any) -> Any:
        if isinstance(value, str) and value.startswith("@"):
            return catalog[value[1:]]["id"]
        return {k: named(v) for k, v in value.items()} if isinstance(value, dict) else value

    before = len(creates(standin))
    body = {"items": [{"priceId": catalog["tshirt"]["id"]}, {"priceId": "poster-lookup"}, named(line)]}
    response = cart_client.post(CREATE, json=body)
    error(response, 400, code)
    assert response.json()["error"]["line"] == 3
    assert response.json()["error"]["message"].startswith("Line 3")
    assert len(creates(standin)) == before


@pytest.mark.parametrize("body", [
    {"items": []}, {"items": {"priceId": "x"}}, {"items": None}, {"items": "tshirt"},
    {"items": [{"priceId": "poster-lookup"}] * (MAX_LINES + 1)},
    {"items": [{"priceId": "poster-lookup"}], "priceId": "poster-lookup"},
])
def test_items_must_be_a_list_of_1_to_20_lines_without_priceid_beside_it(cart_client, body):
    response = cart_client.post(CREATE, json=body)
    error(response, 400, "invalid_items")
    assert "line" not in response.json()["error"]


def test_the_one_price_body_and_its_errors_are_as_before(cart_client, standin, catalog):
    assert cart_client.post(CREATE, json={"priceId": catalog["tshirt"]["id"], "quantity": 2}).status_code == 200
    assert sent_lines(standin) == [(catalog["tshirt"]["id"], "2")]
    response = cart_client.post(CREATE, json={"priceId": catalog["tshirt"]["id"], "quantity": 100})
    error(response, 400, "invalid_quantity")
    assert "line" not in response.json()["error"]  # no cart, no line
    metadata = creates(standin)[-1]["params"]["metadata"]
    assert list(metadata) == [ITEMS_METADATA_KEY]  # one line fits one key, as before carts


def test_the_idempotency_key_covers_the_whole_cart(cart_client, catalog):
    tshirt = catalog["tshirt"]["id"]
    one = cart((tshirt, 1), ("poster-lookup", 1))

    def session(body: dict[str, Any], key: str) -> str:
        response = cart_client.post(CREATE, json=body, headers={"Idempotency-Key": key})
        assert response.status_code == 200, response.text
        return str(response.json()["id"])

    first = session(one, "cart-click-1")
    assert session(one, "cart-click-1") == first  # a retried click
    assert session(cart((tshirt, 1), ("poster-lookup", 2)), "cart-click-1") != first  # another quantity
    assert session(cart((tshirt, 1)), "cart-click-1") != first  # a line less
    assert session(cart(("poster-lookup", 1), (tshirt, 1)), "cart-click-1") != first  # another order of lines
    assert session(one, "cart-click-2") != first


def test_a_subscription_cart_starts_with_the_shortest_trial_its_recurring_lines_offer(standin):
    def price(days: int | None) -> Price:
        return Price(id=f"price_{uuid.uuid4().hex[:8]}", lookup_key=None, active=True, recurring=True,
                     currency="usd", unit_amount=500, product_name="M", trial_days=days, interval="month")

    def trial(*days: int | None) -> int | None:
        prices = [price(d) for d in days]
        return build_cart([Requested(p.id, 1, n) for n, p in enumerate(prices, 1)], prices).trial_days

    assert (trial(14), trial(14, 30), trial(14, None), trial(None)) == (14, 14, None, None)


# --- 20 lines -------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def twenty(standin) -> list[dict[str, Any]]:
    """20 prices whose product names are as long as a line's description keeps, in several scripts."""
    names = [f"{n:02d} " + ("Très longue affiche « 303 » ✓ " * 6)[:110] for n in range(MAX_LINES)]
    return [standin.add_price(unit_amount=100 + n, product_name=name) for n, name in enumerate(names)]


def test_a_20_line_cart_is_recorded_exactly_in_metadata_stripe_accepts(cart_env, dynamo_store, standin, twenty):
    cart_client = make_client(dict(cart_env, ALLOWED_PRICES="*"), dynamo_store)
    response = cart_client.post(CREATE, json=cart(*[(p["id"], n + 1) for n, p in enumerate(twenty)]))
    assert response.status_code == 200, response.text
    metadata = standin.sessions[response.json()["id"]]["metadata"]
    assert 2 < len(metadata) <= MAX_ITEMS_KEYS and all(len(v.encode()) <= 500 for v in metadata.values())
    lines = json.loads(recorded_items(metadata) or "")
    assert [(line["price"], line["quantity"], line["amount_total"]) for line in lines] == [
        (p["id"], n + 1, (100 + n) * (n + 1)) for n, p in enumerate(twenty)]
    assert [line["description"] for line in lines] == [standin.products[p["product"]]["name"] for p in twenty]


def test_a_20_line_cart_is_known_line_by_line_to_the_webhook_and_the_success_page(cart_env, dynamo_store, standin,
                                                                                   twenty, hook):
    cart_client = make_client(dict(cart_env, ALLOWED_PRICES="*"), dynamo_store, hook)
    session_id = cart_client.post(CREATE, json=cart(*[(p["id"], 2) for p in twenty])).json()["id"]
    completed = standin.complete_session(session_id, email="ada@example.com")
    expected = [(p["id"], 2, (100 + n) * 2) for n, p in enumerate(twenty)]

    # The webhook: the event carries no line items, only the metadata.
    body, headers = signed(make_event("checkout.session.completed", completed), cart_env["STRIPE_WEBHOOK_SECRET"])
    assert cart_client.post("/api/webhook", content=body, headers=headers).json()["outcome"] == "applied"
    order = dynamo_store.get(order_key(session_id))
    assert [(i["price"], i["quantity"], i["amount_total"]) for i in order["line_items"]] == expected

    # The success page: Stripe expands 10 lines of 20; the rest are asked for once.
    summary = cart_client.get("/api/checkout-session", params={"session_id": session_id}).json()
    assert [(i["quantity"], i["amount_total"]) for i in summary["line_items"]] == [(q, a) for _, q, a in expected]
    line_calls = [r for r in standin.requests if r["path"] == f"/v1/checkout/sessions/{session_id}/line_items"]
    assert len(line_calls) == 1


def test_a_20_line_cart_of_cached_prices_costs_one_stripe_call(cart_env, dynamo_store, standin, twenty):
    cart_client = make_client(dict(cart_env, ALLOWED_PRICES="*"), dynamo_store)
    body = cart(*[(p["id"], 1) for p in twenty])
    assert cart_client.post(CREATE, json=body).status_code == 200  # looks the 20 prices up, at once
    before = len(standin.requests)
    assert cart_client.post(CREATE, json=body).status_code == 200
    assert [r["path"] for r in standin.requests[before:]] == ["/v1/checkout/sessions"]


def test_the_longest_20_lines_fit_the_metadata_and_read_back_exactly():
    # Price IDs and lookup keys of 200 characters, names of 120 characters that take four bytes each.
    items = [{"price": "price_" + "x" * 194, "quantity": 99, "description": "𝄞" * 120, "amount_total": 10**12}
             for _ in range(MAX_LINES)]
    metadata = items_metadata(items)
    assert len(metadata) <= MAX_ITEMS_KEYS - 5 and all(len(value.encode()) <= 500 for value in metadata.values())
    read = line_items_of({"metadata": metadata, "currency": "usd"})
    # Recorded price × quantity reads back as each line's subtotal (and, with no discount or tax, its total).
    assert [(r["price"], r["quantity"], r["description"], r["amount_subtotal"], r["amount_total"], r["currency"])
            for r in read] == [(i["price"], 99, i["description"], 10**12, 10**12, "usd") for i in items]


def test_a_cart_parses_its_lines_in_order_and_numbers_them():
    assert parse_lines(cart(("a", 2), ("b", "3"), ("c", None))) == [Requested("a", 2, 1), Requested("b", 3, 2),
                                                                    Requested("c", 1, 3)]
    assert parse_lines({"priceId": "a"}) == [Requested("a", 1, None)]
    with pytest.raises(InvalidRequest) as raised:
        parse_lines(cart(("a", 1), ("b", True)))
    assert raised.value.line == 2
