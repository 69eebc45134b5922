"""The HTTP API end to end: the real app, Stripe through the `stripe` package and the stand-in,
DynamoDB over HTTP. Every error row of the API has its status and code pinned here."""

from __future__ import annotations

import json
import time
import uuid

import pytest
from starlette.testclient import TestClient

from shared.settings import Settings
from shared.web.app import create_app
from shared.web.services import Services
from tests.apiclient import SITE, error, make_client
from tests.conftest import SECRET_KEY, WEBHOOK_SECRET
from tests.fakes import make_event, make_session, signed


def creates(standin):
    return [r for r in standin.requests if r["method"] == "POST" and r["path"] == "/v1/checkout/sessions"]


# --- create-checkout-session -------------------------------------------------------------------

def test_json_request_creates_a_payment_session(api_client, standin, catalog):
    response = api_client.post("/api/create-checkout-session", json={"priceId": catalog["tshirt"]["id"], "quantity": 2})
    assert response.status_code == 200
    body = response.json()
    assert body["id"].startswith("cs_test_") and body["url"].endswith(body["id"])
    sent = creates(standin)[-1]["params"]
    assert sent["mode"] == "payment"
    assert sent["success_url"] == f"{SITE}/success.html?session_id={{CHECKOUT_SESSION_ID}}"
    assert sent["cancel_url"] == f"{SITE}/cancel.html"
    assert sent["line_items"] in ([{"price": catalog["tshirt"]["id"], "quantity": "2"}],
                                  {"0": {"price": catalog["tshirt"]["id"], "quantity": "2"}})
    assert creates(standin)[-1]["idempotency_key"]


def test_recurring_price_opens_a_subscription_session(api_client, standin, catalog):
    response = api_client.post("/api/create-checkout-session", json={"priceId": catalog["membership"]["id"]})
    assert response.status_code == 200
    assert standin.sessions[response.json()["id"]]["mode"] == "subscription"


def test_lookup_key_names_a_price(api_client, standin, catalog):
    response = api_client.post("/api/create-checkout-session", json={"priceId": "poster-lookup"})
    assert response.status_code == 200
    assert standin.sessions[response.json()["id"]]["amount_total"] == catalog["poster"]["unit_amount"]


def test_form_post_redirects_to_checkout_with_303(api_client, standin, catalog):
    response = api_client.post("/api/create-checkout-session", data={"priceId": catalog["tshirt"]["id"],
                                                                     "quantity": "3"},
                           follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith(f"{standin.url}/c/pay/cs_test_")


def test_same_idempotency_key_gives_the_same_session(api_client, catalog):
    body = {"priceId": catalog["tshirt"]["id"], "quantity": 1}
    first = api_client.post("/api/create-checkout-session", json=body, headers={"Idempotency-Key": "click-1"})
    again = api_client.post("/api/create-checkout-session", json=body, headers={"Idempotency-Key": "click-1"})
    other = api_client.post("/api/create-checkout-session", json=body, headers={"Idempotency-Key": "click-2"})
    assert first.json()["id"] == again.json()["id"] != other.json()["id"]


def test_a_burst_of_clicks_costs_one_price_read(api_client, standin, catalog):
    price = catalog["tshirt"]["id"]
    before = len([r for r in standin.requests if r["path"] == f"/v1/prices/{price}"])
    for _ in range(5):
        assert api_client.post("/api/create-checkout-session", json={"priceId": price}).status_code == 200
    reads = len([r for r in standin.requests if r["path"] == f"/v1/prices/{price}"])
    assert reads - before == 1


@pytest.mark.parametrize("body,code", [
    ({}, "missing_price"),
    ({"priceId": ""}, "missing_price"),
    ({"priceId": 42}, "unknown_price"),
    ({"priceId": "price_not_allowed"}, "unknown_price"),
    ({"priceId": "price_missing123"}, "unknown_price"),
    ({"priceId": "not a price!"}, "unknown_price"),
])
def test_bad_price_is_400(api_client, body, code):
    error(api_client.post("/api/create-checkout-session", json=body), 400, code)


def test_inactive_price_is_400(api_client, catalog):
    error(api_client.post("/api/create-checkout-session", json={"priceId": catalog["retired"]["id"]}), 400,
          "inactive_price")


@pytest.mark.parametrize("quantity", [0, 100, -1, 1.5, "abc", True, None, [1], 10**30])
def test_quantity_outside_1_to_99_is_400(api_client, catalog, quantity):
    body = {"priceId": catalog["tshirt"]["id"], "quantity": quantity}
    if quantity is None:
        body["quantity"] = {"n": 1}
    error(api_client.post("/api/create-checkout-session", json=body), 400, "invalid_quantity")


def test_bad_json_is_400(api_client):
    error(api_client.post("/api/create-checkout-session", content=b"{nope",
                                                                     headers={"Content-Type": "application/json"}),
          400, "invalid_json")
    error(api_client.post("/api/create-checkout-session", json=[1, 2]), 400, "invalid_json")


def test_wrong_method_is_405(api_client):
    error(api_client.get("/api/create-checkout-session"), 405, "method_not_allowed")
    error(api_client.post("/api/checkout-session"), 405, "method_not_allowed")
    error(api_client.get("/api/webhook"), 405, "method_not_allowed")


def test_body_over_16_kib_is_413(api_client):
    error(api_client.post("/api/create-checkout-session", content=b"{" + b" " * 17000 + b"}",
                      headers={"Content-Type": "application/json"}), 413, "payload_too_large")


def test_other_content_types_are_415(api_client):
    error(api_client.post("/api/create-checkout-session", content=b"priceId", headers={"Content-Type": "text/plain"}),
          415, "unsupported_media_type")


def test_stripe_failure_is_502_with_its_message(api_client, standin, catalog):
    standin.fail_next(1, status=500)
    response = api_client.post("/api/create-checkout-session", json={"priceId": catalog["tshirt"]["id"]})
    error(response, 502, "stripe_error")
    assert SECRET_KEY not in response.text


def test_missing_setting_is_500_misconfigured_naming_it(api_env, dynamo_store, catalog):
    broken = make_client({k: v for k, v in api_env.items() if k != "STRIPE_SECRET_KEY"}, dynamo_store)
    response = broken.post("/api/create-checkout-session", json={"priceId": catalog["tshirt"]["id"]})
    error(response, 500, "misconfigured")
    assert "STRIPE_SECRET_KEY" in response.json()["error"]["message"]


def test_malformed_secret_is_named_never_shown(api_env, dynamo_store):
    bad_value = "sk_test_has spaces and secret"
    api_client = TestClient(create_app(Services(environ=dict(api_env, STRIPE_SECRET_KEY=bad_value),
                                                store=dynamo_store)),
                        raise_server_exceptions=False)
    response = api_client.post("/api/create-checkout-session", json={"priceId": "price_x"})
    error(response, 500, "misconfigured")
    assert "STRIPE_SECRET_KEY" in response.text and bad_value not in response.text


# --- checkout-session (success page) -----------------------------------------------------------

def test_success_page_data_for_a_paid_session_records_and_fulfils(api_client, standin, catalog, hook, dynamo_store):
    created = api_client.post("/api/create-checkout-session", json={"priceId": catalog["tshirt"]["id"], "quantity": 2})
    session_id = created.json()["id"]
    standin.complete_session(session_id, payment_status="paid", email="ada@example.com")
    response = api_client.get("/api/checkout-session", params={"session_id": session_id})
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == session_id and body["status"] == "complete" and body["payment_status"] == "paid"
    assert body["amount_total"] == 2 * catalog["tshirt"]["unit_amount"] and body["currency"] == "usd"
    assert body["customer_email"] == "ada@example.com"
    unit = catalog["tshirt"]["unit_amount"]
    assert body["line_items"] == [{"description": "T-shirt", "quantity": 2, "unit_amount": unit,
                                   "amount_subtotal": 2 * unit, "amount_discount": 0, "amount_tax": 0,
                                   "amount_total": 2 * unit, "currency": "usd", "currency_exponent": 2}]
    assert body["breakdown"] == {"currency": "usd", "currency_exponent": 2, "amount_subtotal": 2 * unit,
                                 "amount_discount": 0, "amount_shipping": 0, "amount_tax": 0,
                                 "amount_tax_included": 0, "amount_total": 2 * unit, "promotion_codes": []}
    assert body["shipping"] is None
    assert body["currency_exponent"] == 2
    assert body["order_status"] == "paid" and body["fulfilled"] is True
    assert hook.calls == [session_id]
    assert api_client.get("/api/checkout-session", params={"session_id": session_id}).json()["fulfilled"] is True
    assert hook.calls == [session_id]


def test_unpaid_session_is_shown_and_not_fulfilled(api_client, catalog, hook):
    session_id = api_client.post("/api/create-checkout-session", json={"priceId": catalog["tshirt"]["id"]}).json()["id"]
    body = api_client.get("/api/checkout-session", params={"session_id": session_id}).json()
    assert body["status"] == "open" and body["fulfilled"] is False and hook.calls == []


@pytest.mark.parametrize("value", [None, "", "cs_x", "pi_123", "cs_test_" + "a" * 300, "cs_test_abc/../x"])
def test_malformed_session_id_is_400(api_client, value):
    params = {} if value is None else {"session_id": value}
    error(api_client.get("/api/checkout-session", params=params), 400, "invalid_session_id")


def test_unknown_session_is_404(api_client):
    error(api_client.get("/api/checkout-session", params={"session_id": "cs_test_" + "b" * 58}), 404,
          "session_not_found")


# --- health -------------------------------------------------------------------------------------

def test_health_names_settings_without_values(api_client):
    response = api_client.get("/api/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["version"] and body["stripe_mode"] == "test"
    assert "STRIPE_SECRET_KEY" in body["settings"]["present"]
    assert "EMAIL_FROM" in body["settings"]["missing"]
    assert SECRET_KEY not in response.text and WEBHOOK_SECRET not in response.text


# --- webhook ------------------------------------------------------------------------------------

def deliver(api_client, event, secret=WEBHOOK_SECRET, **kw):
    body, headers = signed(event, secret, **kw)
    return api_client.post("/api/webhook", content=body, headers=headers)


def test_signed_event_is_recorded_and_acknowledged(api_client, dynamo_store, hook):
    session = make_session()
    response = deliver(api_client, make_event("checkout.session.completed", session))
    assert response.status_code == 200 and response.json()["received"] is True
    assert dynamo_store.get(f"ORDER#{session['id']}")["status"] == "paid"
    assert hook.calls == [session["id"]]


def test_tampered_webhook_is_400_and_stores_nothing(api_client, dynamo_store):
    session = make_session()
    body, headers = signed(make_event("checkout.session.completed", session), WEBHOOK_SECRET)
    error(api_client.post("/api/webhook", content=body.replace(b"paid", b"PAID"), headers=headers), 400,
          "invalid_signature")
    error(deliver(api_client, make_event("checkout.session.completed", session), secret="whsec_wrong_secret"), 400,
          "invalid_signature")
    error(deliver(api_client, make_event("checkout.session.completed", session), timestamp=int(time.time()) - 600), 400,
          "invalid_signature")
    error(api_client.post("/api/webhook", content=body), 400, "invalid_signature")
    assert dynamo_store.get(f"ORDER#{session['id']}") is None


def test_rotated_webhook_secrets_both_verify(api_env, dynamo_store):
    api_client = make_client(dict(api_env, STRIPE_WEBHOOK_SECRET=f"whsec_old_secret_1,{WEBHOOK_SECRET}"), dynamo_store)
    assert deliver(api_client, make_event("checkout.session.completed", make_session())).status_code == 200
    assert deliver(api_client, make_event("checkout.session.completed", make_session()),
                   secret="whsec_old_secret_1").status_code == 200


def test_webhook_body_over_512_kib_is_413(api_client):
    error(api_client.post("/api/webhook", content=b"x" * (512 * 1024 + 1), headers={"Stripe-Signature": "t=1,v1=00"}),
          413, "payload_too_large")


def test_webhook_without_configured_secret_is_500_misconfigured(api_env, dynamo_store):
    api_client = make_client({k: v for k, v in api_env.items() if k != "STRIPE_WEBHOOK_SECRET"}, dynamo_store)
    response = deliver(api_client, make_event("checkout.session.completed", make_session()))
    error(response, 500, "misconfigured")
    assert "STRIPE_WEBHOOK_SECRET" in response.json()["error"]["message"]


def test_verified_garbage_is_400_invalid_payload(api_client):
    body = b'{"not": "an event"}'
    from shared.events.signature import sign

    error(api_client.post("/api/webhook", content=body, headers={"Stripe-Signature": sign(body, WEBHOOK_SECRET)}), 400,
          "invalid_payload")


def test_unknown_event_type_is_acknowledged(api_client):
    response = deliver(api_client, make_event("customer.created", {"id": "cus_1"}))
    assert response.status_code == 200 and response.json()["outcome"] == "ignored"


def test_store_down_answers_5xx_and_the_retry_records_once(api_client, local_dynamo, dynamo_store, hook):
    session = make_session()
    event = make_event("checkout.session.completed", session)
    local_dynamo.stop()
    try:
        response = deliver(api_client, event)
    finally:
        local_dynamo.start()
    assert response.status_code == 503 and response.json()["error"]["code"] == "store_unavailable"
    assert dynamo_store.get(f"ORDER#{session['id']}") is None
    assert dynamo_store.get(f"EVENT#{event['id']}") is None
    assert deliver(api_client, event).json()["outcome"] == "applied"
    assert deliver(api_client, event).json()["outcome"] == "duplicate"
    assert hook.calls == [session["id"]]
    assert len(dynamo_store.get(f"ORDER#{session['id']}")["history"]) == 1


def test_cors_allows_only_the_site_origin(api_client, catalog):
    allowed = api_client.options("/api/create-checkout-session", headers={"Origin": SITE,
                                                                      "Access-Control-Request-Method": "POST"})
    assert allowed.headers["access-control-allow-origin"] == SITE
    other = api_client.post("/api/create-checkout-session", json={"priceId": catalog["tshirt"]["id"]},
                        headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers
    hook = api_client.options("/api/webhook", headers={"Origin": SITE})
    assert "access-control-allow-origin" not in hook.headers


def test_error_responses_are_json_never_tracebacks(api_client):
    response = api_client.get("/api/nowhere")
    error(response, 404, "not_found")
    assert "Traceback" not in response.text


def test_webhook_emits_emf_counters_and_logs_no_payload(api_client, capfd):
    session = make_session(email="private-buyer@example.com")
    deliver(api_client, make_event("checkout.session.completed", session))
    error(deliver(api_client, make_event("checkout.session.completed", session), secret="whsec_wrong_secret"), 400,
          "invalid_signature")
    captured = capfd.readouterr()
    records = [json.loads(line) for line in captured.out.splitlines() if line.startswith('{"_aws"')]
    counted = {name for record in records for name in record if name[0].isupper() and name != "_aws"}
    assert {"EventsReceived", "EventsApplied", "Fulfilments", "InvalidSignatures"} <= counted
    logs = captured.err
    assert session["id"] in logs  # correlation by ids ...
    assert "private-buyer@example.com" not in logs and "line_items" not in logs  # ... never the payload


# --- abuse limits -------------------------------------------------------------------------------

def test_rate_limit_answers_429_with_retry_after_per_client(api_env, dynamo_store, catalog):
    limited = make_client(dict(api_env, RATE_LIMIT="3/60"), dynamo_store, peer="203.0.113.7")
    body = {"priceId": catalog["tshirt"]["id"]}
    for _ in range(3):
        assert limited.post("/api/create-checkout-session", json=body).status_code == 200
    refused = limited.post("/api/create-checkout-session", json=body)
    error(refused, 429, "rate_limited")
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    other = make_client(dict(api_env, RATE_LIMIT="3/60"), dynamo_store, peer="198.51.100.2")
    assert other.post("/api/create-checkout-session", json=body).status_code == 200
    # The count lives in DynamoDB, so a second instance of the function sees it too.
    second_instance = make_client(dict(api_env, RATE_LIMIT="3/60"), dynamo_store, peer="203.0.113.7")
    error(second_instance.post("/api/create-checkout-session", json=body), 429, "rate_limited")
    assert not any("203.0.113.7" in key for key in _keys(dynamo_store))  # IPs are stored hashed


def _keys(store):
    return [item["pk"]["S"] for item in store.client.scan(TableName=store.table)["Items"]]


def _hits(store) -> list[int]:
    return [int(item["hits"]["N"]) for item in store.client.scan(TableName=store.table)["Items"] if "hits" in item]


# As a server serves requests (the count in a thread), and as Lambda does (one at a time: inline once warm).
SERVING = pytest.mark.parametrize("one_at_a_time", [False, True], ids=["server", "lambda"])


@SERVING
def test_the_count_runs_beside_the_request_and_a_refusal_creates_nothing(api_env, standin, dynamo_store, catalog,
                                                                          one_at_a_time):
    """The limiter counts while the request looks up the price; Stripe is asked to create nothing until the
    verdict is in, so the refused click makes no session."""
    # An hour's window: a minute's could end between the two clicks, and the second would pass.
    limited = make_client(dict(api_env, RATE_LIMIT="1/3600"), dynamo_store, peer="203.0.113.9",
                          one_request_at_a_time=one_at_a_time)
    body = {"priceId": catalog["tshirt"]["id"]}
    assert limited.post("/api/create-checkout-session", json=body).status_code == 200
    made = len(creates(standin))
    error(limited.post("/api/create-checkout-session", json=body), 429, "rate_limited")
    assert len(creates(standin)) == made
    # A price the allow-list does not name is looked up only if the limiter agrees: the client picks it.
    reads = len(standin.requests)
    error(limited.post("/api/create-checkout-session", json={"priceId": "price_unlisted0001"}), 429,
          "rate_limited")
    portal = limited.post("/api/create-portal-session", json={"session_id": "cs_test_" + "a" * 24})
    error(portal, 429, "rate_limited")
    assert len(standin.requests) == reads  # neither a price read nor a session read


@SERVING
def test_a_request_refused_early_is_counted_before_it_is_answered(api_env, dynamo_store, one_at_a_time):
    """A bad body answers at once, but the count started with the request lands first: a Lambda instance
    is frozen as soon as it answers, and would freeze the count's call in flight."""
    limited = make_client(dict(api_env, RATE_LIMIT="5/3600"), dynamo_store, peer="203.0.113.10",
                          one_request_at_a_time=one_at_a_time)
    for n in range(1, 4):
        error(limited.post("/api/create-checkout-session", content=b"{",
                           headers={"Content-Type": "application/json"}), 400, "invalid_json")
        assert _hits(dynamo_store) == [n]  # read as soon as the answer is in


def test_a_warm_one_at_a_time_count_is_made_inline_and_its_verdict_given_at_admit(monkeypatch):
    import threading

    from shared.errors import RateLimited
    from shared.settings import RateLimit
    from shared.web import ratelimit
    from tests.fakes import MemoryStore

    store, limit = MemoryStore(), RateLimit(1, 3600)  # an hour: no window ends between the counts
    monkeypatch.setattr(ratelimit, "_warm", threading.Event())
    seen: list[str] = []

    def counted_store() -> MemoryStore:
        seen.append(threading.current_thread().name)
        return store

    cold = ratelimit.Count(limit, counted_store, "198.51.100.7", may_block=True)
    assert not cold.settled and not seen  # nothing counted before it is started
    cold.start()
    cold.admit()
    assert seen[-1].startswith("rate-limit") and ratelimit._warm.is_set()  # cold: in the counting thread
    inline = ratelimit.Count(limit, counted_store, "198.51.100.7", may_block=True)
    inline.start()
    assert inline.settled and seen[-1] == threading.current_thread().name  # warm: counted here, at once
    with pytest.raises(RateLimited):
        inline.admit()  # the verdict waits for admit: Stripe is the only thing it guards
    server = ratelimit.Count(limit, counted_store, "203.0.113.1")
    server.settle()  # starts it, if the request ended before it did
    assert seen[-1].startswith("rate-limit")  # a server never blocks its event loop on DynamoDB


def test_rate_limit_fails_open_when_its_store_is_down(api_env, catalog):
    from shared.errors import StoreUnavailable
    from tests.fakes import MemoryStore

    class CounterDown(MemoryStore):
        def increment(self, key, *, expires_at):
            raise StoreUnavailable("the counter's writes fail")

    api_client = make_client(dict(api_env, RATE_LIMIT="1/60"), CounterDown())
    for _ in range(3):
        assert api_client.post("/api/create-checkout-session",
                               json={"priceId": catalog["tshirt"]["id"]}).status_code == 200


def test_create_session_with_the_store_down_is_a_503_never_a_sale_unchecked(api_env, catalog):
    """Stock cannot be checked, so nothing is sold blind: the buyer retries, and Stripe was not called."""
    from tests.fakes import MemoryStore

    store = MemoryStore()
    store.fail = True
    api_client = make_client(dict(api_env, RATE_LIMIT="off"), store)
    error(api_client.post("/api/create-checkout-session", json={"priceId": catalog["tshirt"]["id"]}), 503,
          "store_unavailable")


def test_rate_limit_setting_is_validated():
    from shared.errors import Misconfigured

    with pytest.raises(Misconfigured, match="RATE_LIMIT"):
        Settings.from_env({"RATE_LIMIT": "lots"})
    assert Settings.from_env({"RATE_LIMIT": "off"}).rate_limit is None


# --- embedded Checkout, the customer portal, config ---------------------------------------------

def test_embedded_request_creates_an_embedded_page_session(api_client, standin, catalog):
    response = api_client.post("/api/create-checkout-session", json={"priceId": catalog["tshirt"]["id"],
                                                                 "uiMode": "embedded"})
    assert response.status_code == 200
    body = response.json()
    assert body["clientSecret"].startswith(body["id"]) and "url" not in body
    sent = creates(standin)[-1]["params"]
    assert sent["ui_mode"] == "embedded_page"
    assert sent["return_url"] == f"{SITE}/success.html?session_id={{CHECKOUT_SESSION_ID}}"
    assert "success_url" not in sent and "cancel_url" not in sent


def test_unknown_ui_mode_is_400(api_client, catalog):
    error(api_client.post("/api/create-checkout-session", json={"priceId": catalog["tshirt"]["id"], "uiMode": "popup"}),
          400, "invalid_ui_mode")


def test_a_form_post_always_gets_hosted_checkout(api_client, catalog):
    response = api_client.post("/api/create-checkout-session", data={"priceId": catalog["tshirt"]["id"],
                                                                 "uiMode": "embedded"}, follow_redirects=False)
    assert response.status_code == 303


def test_config_gives_the_publishable_key_only(api_env, dynamo_store):
    api_client = make_client(dict(api_env, STRIPE_PUBLISHABLE_KEY="pk_test_51Publishable"), dynamo_store)
    response = api_client.get("/api/config")
    assert response.json() == {"publishableKey": "pk_test_51Publishable"}
    assert SECRET_KEY not in response.text
    error(make_client(api_env, dynamo_store).get("/api/config"), 500, "misconfigured")


def test_publishable_key_of_the_other_mode_is_misconfigured():
    from shared.errors import Misconfigured

    with pytest.raises(Misconfigured, match="different modes"):
        Settings.from_env({"STRIPE_SECRET_KEY": SECRET_KEY, "STRIPE_PUBLISHABLE_KEY": "pk_live_51abcdefgh"})


def subscribed(api_client, standin, catalog) -> str:
    session_id = api_client.post("/api/create-checkout-session",
                                 json={"priceId": catalog["membership"]["id"]}).json()["id"]
    standin.complete_session(session_id, payment_status="paid", email="member@example.com")
    return session_id


def test_portal_session_for_a_subscriber(api_client, standin, catalog):
    session_id = subscribed(api_client, standin, catalog)
    response = api_client.post("/api/create-portal-session", json={"session_id": session_id})
    assert response.status_code == 200 and response.json()["url"].startswith(f"{standin.url}/p/session/")
    form = api_client.post("/api/create-portal-session", data={"session_id": session_id}, follow_redirects=False)
    assert form.status_code == 303 and form.headers["location"].startswith(f"{standin.url}/p/session/")
    portal = [r for r in standin.requests if r["path"] == "/v1/billing_portal/sessions"][-1]["params"]
    assert portal["customer"] == standin.sessions[session_id]["customer"]
    assert portal["return_url"] == f"{SITE}/success.html?session_id={session_id}"


def test_portal_refuses_open_sessions_and_orders_without_a_customer(api_client, standin, catalog):
    open_session = api_client.post("/api/create-checkout-session", json={"priceId": catalog["membership"]["id"]}).json()
    error(api_client.post("/api/create-portal-session", json={"session_id": open_session["id"]}), 400,
          "session_not_complete")
    one_time = api_client.post("/api/create-checkout-session", json={"priceId": catalog["tshirt"]["id"]}).json()["id"]
    standin.complete_session(one_time)
    standin.sessions[one_time]["customer"] = None  # a one-time payment without customer creation
    error(api_client.post("/api/create-portal-session", json={"session_id": one_time}), 400, "no_customer")
    error(api_client.post("/api/create-portal-session", json={"session_id": "nope"}), 400, "invalid_session_id")
    error(api_client.post("/api/create-portal-session", json={}), 400, "invalid_session_id")


def test_trial_days_from_the_price_metadata_start_the_subscription_with_a_trial(api_env, dynamo_store, standin):
    trial = standin.add_price(unit_amount=900, product_name="Club", recurring={"interval": "month"},
                              lookup_key=f"club-{uuid.uuid4().hex[:6]}")
    standin.prices[trial["id"]]["metadata"] = {"trial_period_days": "14"}
    api_client = make_client(dict(api_env, ALLOWED_PRICES=trial["id"]), dynamo_store)
    assert api_client.post("/api/create-checkout-session", json={"priceId": trial["id"]}).status_code == 200
    assert creates(standin)[-1]["params"]["subscription_data"] == {"trial_period_days": "14"}
