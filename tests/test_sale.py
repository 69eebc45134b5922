"""Orders carry the whole sale: each line, the subtotal, the discount and its promotion code, shipping (who,
where, which rate, what it cost), tax and the total, the buyer's name, phone, tax ids, custom fields and
consent; read from Stripe-shaped sessions in every API shape, through the webhook (which knows what the
event carries) and the success page (which reads the session back expanded and fills in the rest). The
recorded figures add up exactly as Stripe's: subtotal − discount + shipping + tax = total."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from shared.events.intake import process
from shared.events.recovery import record_session
from shared.orders.fulfilment import Fulfiller, receipt_text
from shared.orders.model import public_view
from shared.orders.sale import imbalance, sale_of
from shared.store.keys import order_key
from tests.apiclient import make_client
from tests.fakes import SHIP_TO, make_event, make_sale_session, make_session, sell_in_standin, signed

SHAPES = ["basil", "acacia", "legacy"]  # 2025-03-31 and later; 2022-08-01 to then; before


class Capture:
    """A fulfilment hook keeping the orders it was given."""

    def __init__(self) -> None:
        self.orders: list[dict[str, Any]] = []

    def __call__(self, order: dict[str, Any]) -> None:
        self.orders.append(copy.deepcopy(order))


def adds_up(sale: dict[str, Any]) -> bool:
    return (sale["amount_subtotal"] - sale["amount_discount"] + sale["amount_shipping"]
            + sale["amount_tax"] - sale["amount_tax_included"]) == sale["amount_total"]


def stripes_figures(session: dict[str, Any]) -> dict[str, int]:
    totals = session["total_details"]
    return {"amount_subtotal": session["amount_subtotal"], "amount_discount": totals["amount_discount"],
            "amount_shipping": totals["amount_shipping"], "amount_tax": totals["amount_tax"],
            "amount_total": session["amount_total"]}


def completed(store: Any, session: dict[str, Any], fulfiller: Fulfiller | None = None) -> dict[str, Any]:
    assert process(make_event("checkout.session.completed", session), store, fulfiller or Fulfiller([])) == "applied"
    return store.get(order_key(session["id"]))


# --- the webhook records what the event has, and it adds up ----------------------------------------

@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("tax_included", [False, True], ids=["tax added", "tax included"])
def test_the_webhook_records_stripes_figures_and_they_add_up(store, shape, tax_included):
    session = make_sale_session(shape=shape, tax_included=tax_included)
    order = completed(store, session)
    sale = order["sale"]
    assert {k: sale[k] for k in stripes_figures(session)} == stripes_figures(session)
    assert adds_up(sale) and imbalance(sale) == 0
    assert sale["amount_tax_included"] == (session["total_details"]["amount_tax"] if tax_included else 0)
    assert sale["currency"] == "usd" and sale["detail"] == "event"
    # The lines, from the metadata create-session wrote: their prices add up to Stripe's subtotal.
    assert [(line["description"], line["quantity"], line["unit_amount"]) for line in order["line_items"]] == [
        ("T-shirt", 2, 1500), ("Poster", 1, 2500)]
    assert sum(line["amount_subtotal"] for line in order["line_items"]) == sale["amount_subtotal"]
    # The event does not tell how the discount and tax fell on each line: unknown, not guessed.
    assert {line["amount_discount"] for line in order["line_items"]} == {None}
    ship = sale["shipping"]
    assert ship["name"] == "Ada Lovelace" and ship["address"] == {k: v for k, v in SHIP_TO.items() if v}
    assert ship["rate"] == "shr_standard" and ship["amount_subtotal"] == 500
    if shape != "legacy":  # sessions named their discounts only from 2022-08-01
        assert sale["discounts"][0]["promotion_code"] == "promo_ten"
        assert ship["amount_total"] == 500 + (0 if tax_included else 40)


def test_the_buyer_is_recorded_name_phone_tax_ids_custom_fields_and_consent(store):
    order = completed(store, make_sale_session())
    assert order["customer_name"] == "Ada Lovelace" and order["customer_phone"] == "+353 1 555 0100"
    assert order["customer_email"] == "buyer@example.com"
    assert order["tax_ids"] == [{"type": "eu_vat", "value": "IE1234567T"}]
    assert order["custom_fields"] == [{"key": "engraving", "label": "Engraving", "type": "text", "value": "For Ada"}]
    assert order["consent"] == {"terms_of_service": "accepted"}


def test_a_dropdown_answer_keeps_the_option_the_buyer_saw():
    session = make_sale_session(custom_fields=[{
        "key": "size", "label": {"type": "custom", "custom": "Size"}, "type": "dropdown", "optional": False,
        "dropdown": {"value": "m", "default_value": None,
                     "options": [{"label": "Small", "value": "s"}, {"label": "Medium", "value": "m"}]},
        "text": None, "numeric": None}])
    from shared.orders.sale import buyer_of

    assert buyer_of(session)["custom_fields"] == [
        {"key": "size", "label": "Size", "type": "dropdown", "value": "m", "value_label": "Medium"}]


def test_a_sale_without_discount_or_tax_knows_each_lines_total_from_the_metadata(store):
    order = completed(store, make_session(amount_total=3000))
    assert order["line_items"] == [{"description": "T-shirt", "price": "price_tshirt", "unit_amount": 1500,
                                    "quantity": 2, "currency": "usd", "amount_subtotal": 3000, "amount_discount": 0,
                                    "amount_tax": 0, "amount_total": 3000}]
    assert order["sale"]["amount_total"] == 3000 and imbalance(order["sale"]) == 0
    assert "shipping" not in order["sale"] and order["sale"]["discounts"] == []


def test_figures_that_do_not_add_up_are_recorded_as_stripe_gave_them_and_told(store, capsys):
    session = make_sale_session()
    session["amount_total"] += 7  # not a Stripe session: no tax explains a total above the figures
    assert imbalance(sale_of(session)) == -7
    order = completed(store, session)
    assert order["sale"]["amount_total"] == session["amount_total"] and order["status"] == "paid"
    # shared/telemetry.py writes JSON lines to stderr itself, not through the root logger caplog listens to.
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    assert any(line["message"] == "sale figures do not add up" and line["imbalance"] == -7 for line in lines)


def test_older_api_versions_paid_in_another_currency_keep_the_breakdown_in_the_buyers(store):
    # Before 2025-03-31.basil a session paid in EUR carried EUR amounts, and the seller's under
    # `currency_conversion`: the breakdown stays in EUR (where it adds up), the order's total in USD.
    session = make_sale_session(currency="eur", currency_conversion={
        "amount_subtotal": 6000, "amount_total": 6420, "fx_rate": "0.9", "source_currency": "usd"})
    order = completed(store, session)
    assert order["currency"] == "usd" and order["amount_total"] == 6420
    assert order["sale"]["currency"] == "eur" and adds_up(order["sale"])
    assert order["sale"]["amount_total"] == session["amount_total"]
    assert {line["currency"] for line in order["line_items"]} == {"usd"}  # recorded at the seller's price


# --- the success page's read fills in the rest, and nothing takes it back ----------------------------

@pytest.mark.parametrize("shape", ["basil", "acacia"])
def test_the_success_pages_read_fills_in_each_lines_discount_tax_and_the_code(store, shape):
    session = make_sale_session(shape=shape)
    completed(store, session)
    order = record_session(store, Fulfiller([]), {**make_sale_session(session["id"], shape=shape, expanded=True),
                                                  "status": "complete"})
    assert order is not None
    sale = order["sale"]
    assert sale["detail"] == "full" and adds_up(sale)
    assert sale["discounts"][0]["code"] == "PROMO10" and sale["shipping"]["rate_name"] == "Standard"
    lines = order["line_items"]
    assert [(line["amount_discount"], line["amount_tax"], line["amount_total"]) for line in lines] == [
        (300, 216, 2916), (250, 180, 2430)]
    # Each line's total and shipping's (tax included) make Stripe's total, to the cent.
    assert sum(line["amount_total"] for line in lines) + sale["shipping"]["amount_total"] == sale["amount_total"]
    assert sum(line["amount_discount"] for line in lines) == sale["amount_discount"]


def test_a_webhook_after_the_success_page_does_not_take_the_detail_back(store):
    expanded = make_sale_session(expanded=True)
    record_session(store, Fulfiller([]), expanded)
    plain = {k: v for k, v in expanded.items() if k != "line_items"}
    plain.update(discounts=[{"coupon": None, "promotion_code": "promo_ten"}])
    for kind in ("checkout.session.completed", "checkout.session.async_payment_succeeded"):
        process(make_event(kind, plain), store, Fulfiller([]))
    order = store.get(order_key(expanded["id"]))
    assert order["sale"]["detail"] == "full" and order["sale"]["discounts"][0]["code"] == "PROMO10"
    assert order["line_items"][0]["amount_tax"] == 216 and order["status"] == "paid"


# --- the receipt and the seller's hook get it all ---------------------------------------------------

def test_the_receipt_and_the_hook_get_the_breakdown_and_the_address(store):
    hook = Capture()
    session = make_sale_session(expanded=True)
    record_session(store, Fulfiller([hook]), session)
    [given] = hook.orders
    assert given["sale"]["amount_total"] == 5886 and given["sale"]["shipping"]["address"]["city"] == "Dublin"
    assert given["line_items"][1]["amount_total"] == 2430 and given["customer_name"] == "Ada Lovelace"
    assert given["custom_fields"][0]["value"] == "For Ada" and given["fulfilled"] is False
    text = receipt_text(given)
    for expected in ("2 × T-shirt: 30.00 USD", "1 × Poster: 25.00 USD", "Subtotal: 55.00 USD",
                     "Discount (PROMO10): -5.50 USD", "Shipping (Standard): 5.00 USD", "Tax: 4.36 USD",
                     "Total: 58.86 USD", "  Ada Lovelace\n  12 Harbour Road\n  Flat 3\n  D02 XY45 Dublin\n  IE",
                     f"Order reference: {session['id']}"):
        assert expected in text, expected


def test_a_receipt_of_prices_with_tax_included_says_so():
    session = make_sale_session(expanded=True, tax_included=True)
    text = receipt_text(public_view({"session_id": session["id"], **_snapshot(session)}))
    assert "Tax included: 4.05 USD" in text and "Total: 54.50 USD" in text


def _snapshot(session: dict[str, Any]) -> dict[str, Any]:
    from shared.events.decide import session_snapshot

    return session_snapshot(session)


# --- through the real webhook, signed, into DynamoDB over HTTP -------------------------------------

@pytest.mark.parametrize("shape", SHAPES)
def test_a_signed_delivery_records_the_sale_in_dynamodb(api_env, dynamo_store, hook, shape):
    client = make_client(api_env, dynamo_store, hook)
    session = make_sale_session(shape=shape)
    body, headers = signed(make_event("checkout.session.completed", session), api_env["STRIPE_WEBHOOK_SECRET"])
    assert client.post("/api/webhook", content=body, headers=headers).json()["outcome"] == "applied"
    order = dynamo_store.get(order_key(session["id"]))
    assert {k: order["sale"][k] for k in stripes_figures(session)} == stripes_figures(session)
    assert adds_up(order["sale"]) and order["sale"]["shipping"]["address"]["country"] == "IE"
    assert order["tax_ids"] == [{"type": "eu_vat", "value": "IE1234567T"}]


# --- the success page's data, from the stand-in through the official stripe package ------------------

def test_the_success_page_data_has_the_breakdown_and_the_shipping_address(api_env, dynamo_store, hook, catalog,
                                                                           standin, monkeypatch):
    client = make_client(api_env, dynamo_store, hook)
    session_id = client.post("/api/create-checkout-session",
                             json={"priceId": catalog["tshirt"]["id"], "quantity": 2}).json()["id"]
    sold = sell_in_standin(standin, session_id, monkeypatch)
    body = client.get("/api/checkout-session", params={"session_id": session_id}).json()
    assert body["breakdown"] == {"currency": "usd", "currency_exponent": 2, "amount_subtotal": 3000,
                                 "amount_discount": 300, "amount_shipping": 500, "amount_tax": 256,
                                 "amount_tax_included": 0, "amount_total": 3456, "promotion_codes": ["PROMO10"]}
    assert body["amount_total"] == sold["amount_total"] == 3456
    assert body["shipping"] == {"name": "Ada Lovelace", "address": {k: v for k, v in SHIP_TO.items() if v},
                                "rate": "Standard", "amount": 540}
    assert body["line_items"][0] | {"currency_exponent": 2} == {
        "description": "T-shirt", "quantity": 2, "unit_amount": 1500, "amount_subtotal": 3000,
        "amount_discount": 300, "amount_tax": 216, "amount_total": 2916, "currency": "usd", "currency_exponent": 2}
    # What the page read is what the order keeps, with the code and each line's figures.
    order = dynamo_store.get(order_key(session_id))
    assert order["sale"]["detail"] == "full" and order["sale"]["discounts"][0]["code"] == "PROMO10"
    assert order["line_items"][0]["amount_total"] == 2916 and adds_up(order["sale"])
    assert hook.calls == [session_id]
    expand = [r for r in standin.requests if r["path"] == f"/v1/checkout/sessions/{session_id}"][-1]
    assert expand["params"]["expand"] == ["line_items", "discounts.promotion_code", "shipping_cost.shipping_rate"]


def test_a_cart_bigger_than_an_expanded_page_is_read_whole(api_env, dynamo_store, hook, standin):
    # An expanded `line_items` holds only its first page; the rest is read from the session's list.
    import stripe

    prices = [standin.add_price(unit_amount=100 * (n + 1), product_name=f"Print {n + 1}") for n in range(12)]
    client = stripe.StripeClient(api_env["STRIPE_SECRET_KEY"], base_addresses={"api": standin.url},
                                 max_network_retries=0)
    session = client.v1.checkout.sessions.create(params={
        "mode": "payment", "line_items": [{"price": p["id"], "quantity": 1} for p in prices],
        "success_url": "https://shop.example.com/success.html?session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": "https://shop.example.com/cancel.html"})
    standin.complete_session(session.id, payment_status="paid", email="collector@example.com")
    body = make_client(api_env, dynamo_store, hook).get("/api/checkout-session",
                                                         params={"session_id": session.id}).json()
    assert [line["description"] for line in body["line_items"]] == [f"Print {n + 1}" for n in range(12)]
    assert [r["method"] for r in standin.requests if r["path"] == f"/v1/checkout/sessions/{session.id}/line_items"] \
        == ["GET"]  # the first ten came with the session, the rest in one page of the list
    order = dynamo_store.get(order_key(session.id))
    assert len(order["line_items"]) == 12 and order["sale"]["detail"] == "full"
    assert sum(line["amount_total"] for line in order["line_items"]) == order["sale"]["amount_total"] == 7800


def test_a_first_page_of_lines_is_not_taken_for_the_whole_sale(store):
    session = make_sale_session(expanded=True)
    session["line_items"]["has_more"] = True  # as if only the first page had come
    assert sale_of(session)["detail"] == "event"
    order = completed(store, session)
    assert [line["description"] for line in order["line_items"]] == ["T-shirt", "Poster"]  # from our record
    assert order["line_items"][0]["amount_discount"] is None
