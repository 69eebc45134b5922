"""checkout.toml: each option reaches Stripe under its own name (the stand-in refuses any name or value the
stripe package's typed definitions lack, and what Stripe refuses in a mode), none a mode forbids is sent, and
a file Stripe would refuse stops `serve` and answers 500 misconfigured, naming the key, before Stripe is asked."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import typing
from pathlib import Path
from typing import Any

import pytest

from shared.checkout import options as checkout_options
from shared.checkout._stripe_values import COUNTRIES, LOCALES
from shared.checkout.options import CheckoutOptions, expires_at, load, parse
from shared.demo.standin.params import _fields
from shared.errors import Misconfigured
from shared.store.keys import order_key
from tests.apiclient import error, make_client
from tests.fakes import make_event, signed

ROOT = Path(__file__).resolve().parent.parent
CREATE = "/api/create-checkout-session"

# Every option the issue lists, under Stripe's names, as a seller would write them.
EVERY_OPTION = """
allow_promotion_codes = true
billing_address_collection = "required"
submit_type = "pay"
locale = "fr"
customer_creation = "always"
payment_method_configuration = "pmc_1TestConfiguration"
expires_after_minutes = 45

[shipping_address_collection]
allowed_countries = ["US", "CA", "FR"]

[[shipping_options]]
[shipping_options.shipping_rate_data]
display_name = "Standard"
type = "fixed_amount"
tax_behavior = "exclusive"
tax_code = "txcd_92010001"
fixed_amount = { amount = 500, currency = "usd", currency_options = { eur = { amount = 450 } } }
delivery_estimate = { minimum = { unit = "business_day", value = 3 }, maximum = { unit = "business_day", value = 5 } }

[[shipping_options]]
shipping_rate = "SHIPPING_RATE_ID"

[automatic_tax]
enabled = true

[tax_id_collection]
enabled = true
required = "if_supported"

[phone_number_collection]
enabled = true

[consent_collection]
terms_of_service = "required"
promotions = "auto"

[[custom_fields]]
key = "engraving"
label = { type = "custom", custom = "Engraving" }
type = "text"
optional = true
text = { maximum_length = 20 }

[[custom_fields]]
key = "size"
label = { type = "custom", custom = "Size" }
type = "dropdown"
dropdown = { options = [{ label = "Small", value = "S" }, { label = "Large", value = "L" }], default_value = "S" }

[[custom_fields]]
key = "floor"
label = { type = "custom", custom = "Floor" }
type = "numeric"
optional = true

[custom_text]
submit = { message = "We ship within two days." }
shipping_address = { message = "No PO boxes, please." }
after_submit = { message = "Thank you!" }
terms_of_service_acceptance = { message = "I agree to the [terms](https://example.com/terms)." }

[invoice_creation]
enabled = true

[after_expiration.recovery]
enabled = true
allow_promotion_codes = true

[adjustable_quantity]
enabled = true
maximum = 10

[adjustable_quantity.poster-lookup]
enabled = false
"""
STRIPE_NAMES = {"allow_promotion_codes", "billing_address_collection", "submit_type", "locale", "customer_creation",
                "payment_method_configuration", "shipping_address_collection", "shipping_options", "automatic_tax",
                "tax_id_collection", "phone_number_collection", "consent_collection", "custom_fields", "custom_text",
                "invoice_creation", "after_expiration"}
PAYMENT_ONLY = {"customer_creation", "invoice_creation", "shipping_options", "submit_type"}
# Every option but the shipping rate named by ID: inline rates only, one with an amount in EUR.
INLINE_RATES = EVERY_OPTION.replace('[[shipping_options]]\nshipping_rate = "SHIPPING_RATE_ID"\n', "")


@pytest.fixture
def write(tmp_path):
    def write(text: str, name: str = "checkout.toml") -> str:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return str(path)
    return write


@pytest.fixture
def every_option(write, standin) -> str:
    rate = standin.add_shipping_rate(display_name="Express", amount=1500)
    return write(EVERY_OPTION.replace("SHIPPING_RATE_ID", rate["id"]))


def client_with(api_env, store, config: str, **env: str) -> Any:
    return make_client(dict(api_env, RATE_LIMIT="off", CHECKOUT_CONFIG=config, **env), store)


def last_create(standin) -> dict[str, Any]:
    return [r for r in standin.requests if r["path"] == "/v1/checkout/sessions" and r["method"] == "POST"][-1]


# --- every option, under its own name, in the mode that takes it ------------------------------------------------

def test_every_option_reaches_stripe_under_its_own_name_in_payment_mode(api_env, dynamo_store, standin, catalog,
                                                                        every_option):
    client = client_with(api_env, dynamo_store, every_option)
    response = client.post(CREATE, json={"items": [{"priceId": catalog["tshirt"]["id"], "quantity": 2},
                                                   {"priceId": "poster-lookup", "quantity": 1}]})
    assert response.status_code == 200, response.text
    sent = last_create(standin)["params"]
    assert STRIPE_NAMES <= set(sent) and "expires_after_minutes" not in sent and "adjustable_quantity" not in sent
    assert sent["allow_promotion_codes"] == "true" and sent["locale"] == "fr" and sent["submit_type"] == "pay"
    assert sent["shipping_address_collection"] == {"allowed_countries": ["US", "CA", "FR"]}
    assert sent["shipping_options"][0]["shipping_rate_data"]["fixed_amount"] == {
        "amount": "500", "currency": "usd", "currency_options": {"eur": {"amount": "450"}}}
    assert sent["custom_fields"][1]["dropdown"]["options"][1] == {"label": "Large", "value": "L"}
    assert sent["custom_text"]["terms_of_service_acceptance"] == {"message": "I agree to the [terms](https://example.com/terms)."}
    assert sent["after_expiration"] == {"recovery": {"enabled": "true", "allow_promotion_codes": "true"}}
    # Ours: the lifetime as expires_at; adjustable quantities on every line but the poster's.
    session = standin.sessions[response.json()["id"]]
    assert 45 * 60 + 60 < session["expires_at"] - session["created"] <= 45 * 60 + 120
    assert [item.get("adjustable_quantity") for item in sent["line_items"]] == [
        {"enabled": "true", "maximum": "10"}, None]
    assert session["shipping_options"][0]["shipping_amount"] == 500 and len(session["shipping_options"]) == 2


def test_a_subscription_leaves_out_what_only_payments_take(api_env, dynamo_store, standin, catalog, every_option):
    client = client_with(api_env, dynamo_store, every_option)
    response = client.post(CREATE, json={"priceId": catalog["membership"]["id"]})
    assert response.status_code == 200, response.text
    sent = last_create(standin)["params"]
    assert sent["mode"] == "subscription"
    assert set(sent) & STRIPE_NAMES == STRIPE_NAMES - PAYMENT_ONLY
    assert set(sent) & PAYMENT_ONLY == set()


def test_submit_type_subscribe_is_sent_to_subscriptions_only(api_env, dynamo_store, standin, catalog, write):
    client = client_with(api_env, dynamo_store, write('submit_type = "subscribe"\n'))
    assert client.post(CREATE, json={"priceId": catalog["membership"]["id"]}).status_code == 200
    assert last_create(standin)["params"]["submit_type"] == "subscribe"
    assert client.post(CREATE, json={"priceId": catalog["tshirt"]["id"]}).status_code == 200
    assert "submit_type" not in last_create(standin)["params"]


def test_the_stand_in_refuses_what_a_mode_forbids(standin, catalog):
    """So the two tests above prove something: sent to the wrong mode, these fail as they would at Stripe."""
    import stripe

    client = stripe.StripeClient("sk_test_123", base_addresses={"api": standin.url}, max_network_retries=0)
    base = {"mode": "subscription", "line_items": [{"price": catalog["membership"]["id"], "quantity": 1}],
            "success_url": "https://shop.example/ok"}
    for extra in ({"invoice_creation": {"enabled": True}}, {"customer_creation": "always"}, {"submit_type": "pay"},
                  {"shipping_options": [{"shipping_rate_data": {"display_name": "x", "type": "fixed_amount",
                                                                "fixed_amount": {"amount": 1, "currency": "usd"}}}]},
                  {"expires_at": int(time.time()) + 25 * 3600}):
        with pytest.raises(stripe.InvalidRequestError):
            client.v1.checkout.sessions.create(params={**base, **extra})  # type: ignore[arg-type]


@pytest.mark.parametrize("minutes", [30, 1440])
def test_a_lifetime_at_either_bound_is_one_stripe_accepts(api_env, dynamo_store, standin, catalog, write, minutes):
    client = client_with(api_env, dynamo_store, write(f"expires_after_minutes = {minutes}\n"))
    response = client.post(CREATE, json={"priceId": catalog["tshirt"]["id"]})
    assert response.status_code == 200, response.text
    session = standin.sessions[response.json()["id"]]
    assert 1800 < session["expires_at"] - session["created"] <= 86400


def test_the_expiry_is_a_whole_minute_so_a_retried_click_gets_the_same_session(api_env, dynamo_store, catalog,
                                                                               write):
    assert expires_at(1_000_000.0, 30) == expires_at(1_000_019.0, 30) == (1_000_000 // 60 + 1) * 60 + 31 * 60
    client = client_with(api_env, dynamo_store, write("expires_after_minutes = 60\n"))
    body = {"priceId": catalog["tshirt"]["id"]}
    while int(time.time()) % 60 > 55:  # not across a minute's end
        time.sleep(1)
    first = client.post(CREATE, json=body, headers={"Idempotency-Key": "lifetime-1"}).json()["id"]
    assert client.post(CREATE, json=body, headers={"Idempotency-Key": "lifetime-1"}).json()["id"] == first


def test_adjustable_quantity_bounds_hold_for_the_quantity_asked(api_env, dynamo_store, standin, catalog, write):
    config = write("[adjustable_quantity]\nenabled = true\nminimum = 1\nmaximum = 5\n"
                   "[adjustable_quantity.poster-lookup]\nenabled = true\nmaximum = 50\n")
    client = client_with(api_env, dynamo_store, config)
    assert client.post(CREATE, json={"items": [{"priceId": catalog["tshirt"]["id"], "quantity": 5},
                                               {"priceId": "poster-lookup", "quantity": 20}]}).status_code == 200
    assert [i["adjustable_quantity"] for i in last_create(standin)["params"]["line_items"]] == [
        {"enabled": "true", "minimum": "1", "maximum": "5"}, {"enabled": "true", "maximum": "50"}]
    response = client.post(CREATE, json={"items": [{"priceId": "poster-lookup", "quantity": 1},
                                                   {"priceId": catalog["tshirt"]["id"], "quantity": 6}]})
    error(response, 400, "invalid_quantity")
    assert response.json()["error"]["line"] == 2 and "from 1 to 5" in response.json()["error"]["message"]


def test_shipping_rates_must_have_an_amount_in_the_carts_currency(api_env, dynamo_store, standin, catalog, write):
    before = len(standin.requests)
    client = client_with(api_env, dynamo_store, str(ROOT / "checkout.toml"))  # the demo store's: USD rates
    response = client.post(CREATE, json={"priceId": catalog["euro"]["id"]})
    error(response, 500, "misconfigured")
    message = response.json()["error"]["message"]
    assert "shipping_options[0].shipping_rate_data.fixed_amount has no amount in EUR" in message
    assert [r["path"] for r in standin.requests[before:]] == [f"/v1/prices/{catalog['euro']['id']}"]  # no session
    with_euros = write(INLINE_RATES)
    response = client_with(api_env, dynamo_store, with_euros).post(CREATE, json={"priceId": catalog["euro"]["id"]})
    assert response.status_code == 200, response.text
    assert standin.sessions[response.json()["id"]]["shipping_options"][0]["shipping_amount"] == 450


# --- strict reading ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text,named", [
    ("allow_promo_codes = true", "allow_promo_codes is not a known key"),
    ('allow_promotion_codes = "yes"', "allow_promotion_codes must be true or false"),
    ('billing_address_collection = "sometimes"', "billing_address_collection must be one of auto, required"),
    ('shipping_address_collection = { allowed_country = ["US"] }', "shipping_address_collection.allowed_country is"),
    ('shipping_address_collection = { allowed_countries = ["XX"] }',
     "shipping_address_collection.allowed_countries[0] must be a country code"),
    ("shipping_address_collection = { allowed_countries = [] }", "allowed_countries must be a list of 1 to"),
    ('locale = "xx"', "locale must be one of"),
    ("expires_after_minutes = 29", "expires_after_minutes must be a whole number from 30 to 1440"),
    ("expires_after_minutes = 1441", "expires_after_minutes must be a whole number from 30 to 1440"),
    ("expires_after_minutes = true", "expires_after_minutes must be a whole number"),
    ("automatic_tax = { enabled = 1 }", "automatic_tax.enabled must be true or false"),
    ("automatic_tax = {}", "automatic_tax.enabled is required"),
    ('payment_method_configuration = "cfg_1"', "payment_method_configuration must be a payment method configuration"),
    ('[[shipping_options]]\nshipping_rate = "shr_1"\nshipping_rate_data = { display_name = "x", fixed_amount = '
     '{ amount = 1, currency = "usd" } }', "shipping_options[0] must have either shipping_rate or shipping_rate_data"),
    ("[[shipping_options]]\nshipping_rate_data = { display_name = \"x\" }",
     "shipping_options[0].shipping_rate_data.fixed_amount is required"),
    ('[[shipping_options]]\nshipping_rate_data = { display_name = "x", fixed_amount = { amount = -1, currency = '
     '"usd" } }', "shipping_options[0].shipping_rate_data.fixed_amount.amount must be a whole number from 0"),
    ('[[shipping_options]]\nshipping_rate_data = { display_name = "x", fixed_amount = { amount = 1, currency = '
     '"USD" } }', "fixed_amount.currency must be a three-letter currency code in lowercase"),
    ("\n".join(['[[shipping_options]]\nshipping_rate = "shr_1"'] * 6), "shipping_options must be a list of 1 to 5"),
    ("\n".join([f'[[custom_fields]]\nkey = "k{n}"\nlabel = {{ type = "custom", custom = "K" }}\ntype = "text"'
                for n in range(4)]), "custom_fields must be a list of 1 to 3"),
    ('[[custom_fields]]\nkey = "gift-note"\nlabel = { type = "custom", custom = "Note" }\ntype = "text"',
     "custom_fields[0].key must be letters and digits only"),
    ('[[custom_fields]]\nkey = "note"\nlabel = { type = "custom", custom = "' + "x" * 51 + '" }\ntype = "text"',
     "custom_fields[0].label.custom must be text of 1 to 50 characters"),
    ('[[custom_fields]]\nkey = "size"\nlabel = { type = "custom", custom = "Size" }\ntype = "dropdown"',
     "custom_fields[0].dropdown is required for a field of type dropdown"),
    ('[[custom_fields]]\nkey = "size"\nlabel = { type = "custom", custom = "Size" }\ntype = "dropdown"\n'
     'dropdown = { options = [{ label = "S", value = "S" }], default_value = "M" }',
     "custom_fields[0].dropdown.default_value must be the value of one of the options"),
    ('[[custom_fields]]\nkey = "a"\nlabel = { type = "custom", custom = "A" }\ntype = "text"\n'
     '[[custom_fields]]\nkey = "a"\nlabel = { type = "custom", custom = "B" }\ntype = "text"',
     "custom_fields[1].key is used by another custom field"),
    ('custom_text = { terms_of_service_acceptance = { message = "Agree" } }',
     'custom_text.terms_of_service_acceptance needs consent_collection.terms_of_service = "required"'),
    ('custom_text = { shipping_address = { message = "No PO boxes" } }',
     "custom_text.shipping_address needs shipping_address_collection"),
    ('submit_type = "buy"', "submit_type must be one of auto, book, donate, pay, subscribe"),
    ("adjustable_quantity = { enabled = true, minimum = 5, maximum = 2 }", "adjustable_quantity.minimum must not be"),
    ("adjustable_quantity = { enabled = true, maximum = 1000000 }", "adjustable_quantity.maximum must be a whole"),
    ("[adjustable_quantity.tshirt]\nmaximum = 3", "adjustable_quantity.tshirt.enabled is required"),
    ('adjustable_quantity = { "not a key" = { enabled = true } }', "adjustable_quantity.not a key must be enabled,"),
    ("mode = \"payment\"", "mode is not a known key"),
    ('line_items = []', "line_items is not a known key"),
    ("allow_promotion_codes = true\nallow_promotion_codes = false", "is not valid TOML"),
])
def test_a_file_stripe_would_refuse_is_misconfigured_naming_the_key(write, text, named):
    with pytest.raises(Misconfigured) as raised:
        load(write(text))
    assert named in raised.value.message, raised.value.message


def test_the_repositorys_file_is_the_demo_stores(standin):
    options = load(None)
    assert options.source == "checkout.toml" and options.params["allow_promotion_codes"] is True
    assert len(options.params["shipping_address_collection"]["allowed_countries"]) >= 3
    assert [o["shipping_rate_data"]["fixed_amount"]["amount"] for o in options.params["shipping_options"]] == [500,
                                                                                                               1500]
    assert options.params["phone_number_collection"] == {"enabled": True}


def test_no_file_means_no_options_and_a_named_file_must_exist(tmp_path, monkeypatch):
    monkeypatch.setattr(checkout_options, "DEFAULT_PATH", tmp_path / "checkout.toml")
    assert load(None) == CheckoutOptions()
    with pytest.raises(Misconfigured) as raised:
        load(str(tmp_path / "shop.toml"))
    assert "CHECKOUT_CONFIG names" in raised.value.message


def test_a_file_stripe_would_refuse_answers_500_before_stripe_is_asked(api_env, dynamo_store, standin, catalog,
                                                                       write):
    client = make_client(dict(api_env, CHECKOUT_CONFIG=write("locale = \"klingon\"\n")), dynamo_store)
    before = len(standin.requests)
    response = client.post(CREATE, json={"priceId": catalog["tshirt"]["id"]})
    error(response, 500, "misconfigured")
    assert "locale must be one of" in response.json()["error"]["message"]
    assert len(standin.requests) == before
    health = client.get("/api/health").json()
    assert health["status"] == "misconfigured" and any("locale" in p for p in health["problems"])


def test_serve_stops_on_a_file_stripe_would_refuse(tmp_path, write):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STRIPE_", "ALLOWED_", "DYNAMODB_"))}
    env.update(PYTHONPATH=str(ROOT), STRIPE_SECRET_KEY="sk_test_51ServeRefuses", ALLOWED_PRICES="tshirt",
               DYNAMODB_ENDPOINT_URL="http://127.0.0.1:9", CHECKOUT_CONFIG=write("[[custom_fields]]\nkey = 1\n"))
    result = subprocess.run([sys.executable, "-m", "shared", "serve", "--port", "9"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    assert "Cannot start: CHECKOUT_CONFIG" in result.stderr and "custom_fields[0].key" in result.stderr


def test_the_lists_of_countries_and_locales_are_the_stripe_packages():
    from stripe.params.checkout import SessionCreateParams
    from stripe.params.checkout._session_create_params import SessionCreateParamsShippingAddressCollection

    def literals(hint: Any) -> set[str]:
        found: set[str] = set()
        for arg in typing.get_args(hint):
            found |= {a for a in typing.get_args(arg) if isinstance(a, str)} if typing.get_origin(arg) is \
                typing.Literal else literals(arg)
        return found

    countries = _fields(SessionCreateParamsShippingAddressCollection)[0]["allowed_countries"]
    assert countries.array is not None and set(countries.array.enum) == COUNTRIES
    assert set(_fields(SessionCreateParams)[0]["locale"].enum) == LOCALES
    assert literals(typing.get_type_hints(SessionCreateParamsShippingAddressCollection)["allowed_countries"]) == \
        COUNTRIES


# --- the sale the stand-in completes with these options -----------------------------------------------------------

def test_a_cart_with_a_promotion_code_shipping_and_tax_adds_up_as_stripe_adds_it(api_env, dynamo_store, standin,
                                                                                catalog, write, hook):
    config = write(INLINE_RATES)
    client = make_client(dict(api_env, RATE_LIMIT="off", CHECKOUT_CONFIG=config), dynamo_store, hook)
    session_id = client.post(CREATE, json={"items": [{"priceId": catalog["tshirt"]["id"], "quantity": 3},
                                                     {"priceId": "poster-lookup", "quantity": 1}]}).json()["id"]
    done = standin.complete_session(session_id, email="ada@example.com", promotion_code="promo10",
                                    address={"line1": "5 Rue Exemple", "city": "Paris", "postal_code": "75001",
                                             "country": "FR"}, name="Ada Lovelace", phone="+33123456789",
                                    tax_id="FR12345678901", custom_fields={"engraving": "AL", "size": "L"})
    totals = done["total_details"]
    # 3 × 15.00 + 25.00 = 70.00; 10 % off = 7.00; shipping 5.00; tax 8.25 % of 63.00 and of 5.00.
    assert (done["amount_subtotal"], totals["amount_discount"], totals["amount_shipping"]) == (7000, 700, 500)
    lines = standin.line_items[session_id]
    assert [line["amount_discount"] for line in lines] == [450, 250]
    assert totals["amount_tax"] == sum(line["amount_tax"] for line in lines) + done["shipping_cost"]["amount_tax"]
    assert done["amount_total"] == done["amount_subtotal"] - totals["amount_discount"] + totals["amount_shipping"] \
        + totals["amount_tax"] == 6300 + 500 + 520 + 41
    assert sum(line["amount_total"] for line in lines) + done["shipping_cost"]["amount_total"] == done["amount_total"]
    assert done["collected_information"]["shipping_details"] == {"name": "Ada Lovelace", "address": {
        "line1": "5 Rue Exemple", "line2": None, "city": "Paris", "state": None, "postal_code": "75001",
        "country": "FR"}}
    promotion = standin._store.promotion_codes[done["discounts"][0]["promotion_code"]]
    assert promotion["code"] == "PROMO10"
    assert done["customer_details"]["phone"] == "+33123456789"
    assert done["customer_details"]["tax_ids"] == [{"type": "eu_vat", "value": "FR12345678901"}]
    assert {f["key"]: (f[f["type"]] or {}).get("value") for f in done["custom_fields"]} == {
        "engraving": "AL", "size": "L", "floor": None}
    assert done["consent"] == {"terms_of_service": "accepted", "promotions": "opt_out"}
    # The webhook records Stripe's totals, not the cart's.
    # (Not added to the shared stand-in's events: `reconcile`'s tests count those.)
    body, headers = signed(make_event("checkout.session.completed", done), api_env["STRIPE_WEBHOOK_SECRET"])
    assert client.post("/api/webhook", content=body, headers=headers).status_code == 200
    order = dynamo_store.get(order_key(session_id))
    assert (order["amount_subtotal"], order["amount_total"]) == (7000, done["amount_total"])


def test_options_parse_from_plain_data_too():
    options = parse({"allow_promotion_codes": True, "expires_after_minutes": 90})
    params = options.session_params("payment", "usd", now=1_000_000)
    assert params == {"allow_promotion_codes": True, "expires_at": expires_at(1_000_000, 90)}
