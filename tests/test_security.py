"""What an attacker can reach, closed: each test reproduces one probe that once worked (issue 12)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import importlib
import json
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from shared import _json
from shared.cli.serve import PUBLIC_DIR
from shared.errors import Misconfigured
from shared.settings import Settings
from shared.store.keys import event_key, order_key
from shared.web import routes as paths
from shared.web.app import create_app
from shared.web.client import bucket
from shared.web.services import Services
from tests.apiclient import SITE, error, make_client
from tests.conftest import PROXY_SECRET, SECRET_KEY, WEBHOOK_SECRET
from tests.fakes import MemoryStore, make_event, make_session, sign


@pytest.mark.parametrize("number", ["1e400", "-1e400", "1e-400", "1" * 39, "-" + "9" * 50, "1e126"])
def test_the_json_reader_refuses_numbers_dynamodb_cannot_hold(number):
    with pytest.raises(ValueError):
        _json.loads(f'{{"amount": {number}}}'.encode())


@pytest.mark.parametrize("number", ["0", "-0", "1.5", "1e125", "-2.5e-100", "9" * 38, "0.1", "1." + "1" * 40])
def test_the_json_reader_keeps_numbers_dynamodb_holds(number):
    assert _json.loads(f"[{number}]".encode()) == [json.loads(number)]  # and a float's many digits are harmless


@pytest.mark.parametrize("number", ["1e400", "1" * 50])
def test_a_signed_event_with_an_unstorable_number_is_refused_not_retried_forever(api_env, store, number):
    client = make_client(api_env, store)
    session = make_session()
    event = make_event("checkout.session.completed", session)
    body = json.dumps(event).replace('"amount_total": 3000', f'"amount_total": {number}').encode()
    assert number.encode() in body
    headers = {"Stripe-Signature": sign(body, WEBHOOK_SECRET), "Content-Type": "application/json"}
    error(client.post("/api/webhook", content=body, headers=headers), 400, "invalid_payload")
    assert store.get(order_key(session["id"])) is None and store.get(event_key(event["id"])) is None


# --- 1. every route that calls Stripe is rate-limited; a repeat visit to a fulfilled order writes nothing ---

CREATE, SUMMARY, PORTAL = paths.CREATE_CHECKOUT_SESSION, paths.CHECKOUT_SESSION, paths.CREATE_PORTAL_SESSION
# A day's window: the counts these tests make never straddle two windows (a minute's could, now and then).
DAY = 86400


def invented_session_id() -> str:
    return "cs_test_" + uuid.uuid4().hex + uuid.uuid4().hex


def session_reads(standin: Any, since: int) -> list[Any]:
    return [r for r in standin.requests[since:] if r["path"].startswith("/v1/checkout/sessions/")]


def test_invented_session_ids_cannot_burn_the_sellers_stripe_quota(api_env, store, standin):
    # The default count (20), over a day: the 50 look-ups below cannot straddle two windows.
    env = dict(api_env, RATE_LIMIT=f"20/{DAY}")
    limit = Settings.from_env(env).summary_rate_limit
    assert limit is not None and limit.requests == 40  # twice RATE_LIMIT
    client = make_client(env, store, peer="203.0.113.50")
    before = len(standin.requests)
    statuses = [client.get(SUMMARY, params={"session_id": invented_session_id()}).status_code for _ in range(50)]
    assert statuses == [404] * limit.requests + [429] * (50 - limit.requests)
    assert len(session_reads(standin, before)) == limit.requests  # Stripe was asked no more than the limit


def test_the_success_page_is_counted_apart_from_the_buy_button(api_env, store, catalog):
    client = make_client(dict(api_env, RATE_LIMIT=f"1/{DAY}"), store, peer="203.0.113.51")
    created = client.post(CREATE, json={"priceId": catalog["tshirt"]["id"]}).json()
    error(client.post(CREATE, json={"priceId": catalog["tshirt"]["id"]}), 429, "rate_limited")
    for _ in range(2):  # the buyer's one purchase used up the buy button's count, not the success page's
        assert client.get(SUMMARY, params={"session_id": created["id"]}).status_code == 200
    refused = client.get(SUMMARY, params={"session_id": created["id"]})
    error(refused, 429, "rate_limited")
    assert "order" in refused.json()["error"]["message"] and int(refused.headers["retry-after"]) >= 1


def test_the_portal_is_rate_limited_with_the_buy_button(api_env, store):
    client = make_client(dict(api_env, RATE_LIMIT=f"2/{DAY}"), store, peer="203.0.113.52")
    statuses = [client.post(PORTAL, json={"session_id": invented_session_id()}).status_code for _ in range(4)]
    assert statuses == [404, 404, 429, 429]


class CountingStore:
    """A store that notes every call that writes, and passes everything through."""

    WRITES = ("put", "claim", "finish", "complete", "set_fields", "release", "increment")

    def __init__(self, store: Any) -> None:
        self.store = store
        self.writes: list[tuple[str, str]] = []

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.store, name)
        if name not in self.WRITES:
            return method

        def write(key: str, *args: Any, **kwargs: Any) -> Any:
            self.writes.append((name, key))
            return method(key, *args, **kwargs)

        return write


def test_a_repeat_visit_to_a_fulfilled_order_writes_nothing(api_env, store, standin, catalog):
    counting = CountingStore(store)
    # The limiter's own count is a write per request by design; this is about the order.
    client = make_client(dict(api_env, RATE_LIMIT="off"), counting)
    created = client.post(CREATE, json={"priceId": catalog["tshirt"]["id"], "quantity": 2}).json()
    standin.complete_session(created["id"], payment_status="paid")
    first = client.get(SUMMARY, params={"session_id": created["id"]})
    assert first.json()["fulfilled"] is True and counting.writes  # the first visit records and fulfils
    counting.writes.clear()
    for _ in range(3):
        again = client.get(SUMMARY, params={"session_id": created["id"]})
        assert again.json() == first.json()
    assert counting.writes == []


def test_a_repeat_visit_after_the_webhook_fulfilled_the_order_writes_nothing(api_env, store, standin, catalog):
    counting = CountingStore(store)
    client = make_client(dict(api_env, RATE_LIMIT="off"), counting)
    created = client.post(CREATE, json={"priceId": catalog["tshirt"]["id"]}).json()
    session = standin.complete_session(created["id"], payment_status="paid")
    body = json.dumps(make_event("checkout.session.completed", session)).encode()
    delivered = client.post(paths.WEBHOOK, content=body, headers={"Stripe-Signature": sign(body, WEBHOOK_SECRET)})
    assert delivered.json()["outcome"] == "applied"
    # The first visit may write once: Stripe's read-back fills in what the event lacked (each line's
    # discount and tax, the promotion code as typed, the rate's name). Every visit after costs a read.
    client.get(SUMMARY, params={"session_id": created["id"]})
    counting.writes.clear()
    for _ in range(3):
        shown = client.get(SUMMARY, params={"session_id": created["id"]}).json()
        assert shown["order_status"] == "paid" and shown["fulfilled"] is True
    assert counting.writes == []


# --- 2. a client-IP header is believed only from our own proxy ----------------------------------------------

NETLIFY_IP = "x-nf-client-connection-ip"


def netlify_signature(secret: str = PROXY_SECRET, *, expires_in: int = 300, alg: str = "HS256",
                      issuer: str = "netlify") -> str:
    """`X-Nf-Sign` as Netlify's signed proxy redirects make it: a JWS (HS256) over Netlify's claims."""
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    signing_input = part({"alg": alg, "typ": "JWT"}) + "." + part({
        "deploy_context": "production", "netlify_id": "site-0123", "site_url": SITE, "iss": issuer,
        "exp": int(time.time()) + expires_in})
    if alg == "none":  # the classic forgery: "unsigned", an empty signature
        return signing_input + "."
    mac = hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


@pytest.fixture
def lambda_handler(monkeypatch, api_env, dynamo_store, local_dynamo):
    """functions/aws_lambda.py as deployed behind Netlify: the proxy's header, its secret, a limit of 3."""
    env = dict(api_env, RATE_LIMIT=f"3/{DAY}", CLIENT_IP_HEADER=NETLIFY_IP, PROXY_SECRET=PROXY_SECRET,
               DYNAMODB_TABLE=dynamo_store.table, DYNAMODB_ENDPOINT_URL=local_dynamo.url, AWS_REGION="us-east-1")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return importlib.reload(importlib.import_module("functions.aws_lambda")).handler


def function_url_call(handler: Any, headers: dict[str, str], *, source_ip: str = "198.51.100.200",
                      body: dict[str, Any] | None = None) -> int:
    """A create-session request as a Lambda function URL delivers it, from `source_ip`."""
    event = json.loads((Path(__file__).parent / "platform_events" / "function_url.json").read_text())
    raw = json.dumps(body or {"priceId": "poster-lookup"})
    event["headers"].update({"content-type": "application/json", "content-length": str(len(raw)),
                             **{k.lower(): v for k, v in headers.items()}})
    event.update(rawPath=CREATE, rawQueryString="", body=raw, isBase64Encoded=False)
    event["requestContext"]["http"].update(method="POST", path=CREATE, sourceIp=source_ip)
    return int(handler(event, None)["statusCode"])


FORGED = {
    "no signature": {},
    "another key": {"x-nf-sign": netlify_signature("another-secret-that-is-long-enough-0123")},
    "expired": {"x-nf-sign": netlify_signature(expires_in=-3600)},
    "not Netlify's": {"x-nf-sign": netlify_signature(issuer="someone")},
    "alg none": {"x-nf-sign": netlify_signature(alg="none")},
    "signed for another alg": {"x-nf-sign": netlify_signature(alg="HS512")},
    "garbage": {"x-nf-sign": "a.b.c"},
    "wrong shared secret": {"x-static-checkout-proxy": "not-the-secret"},
}


@pytest.mark.parametrize("forged", FORGED.values(), ids=FORGED.keys())
def test_a_spoofed_client_ip_header_on_the_function_url_is_ignored(lambda_handler, forged):
    # A caller skipping Netlify sends a new "client address" each time: without the proxy's proof it is
    # counted by the connection's address, and limited.
    statuses = [function_url_call(lambda_handler, {NETLIFY_IP: f"203.0.113.{i}", **forged}) for i in range(6)]
    assert statuses == [200, 200, 200, 429, 429, 429]


def test_the_proxys_header_counts_each_buyer_apart_when_netlify_signed_the_request(lambda_handler):
    signed_by_netlify = {"x-nf-sign": netlify_signature()}
    buyer = [function_url_call(lambda_handler, {NETLIFY_IP: "192.0.2.10", **signed_by_netlify}) for _ in range(4)]
    assert buyer == [200, 200, 200, 429]
    # Every request came from the same Netlify address; another buyer behind it is not held up.
    assert function_url_call(lambda_handler, {NETLIFY_IP: "192.0.2.11", **signed_by_netlify}) == 200


def test_a_comma_list_counts_its_right_most_entry(lambda_handler):
    # For an append-style header the proxy's entry is the last; what the client sent stands before it.
    statuses = [function_url_call(lambda_handler, {NETLIFY_IP: f"10.9.8.{i}, 192.0.2.20",
                                                   "x-nf-sign": netlify_signature()}) for i in range(4)]
    assert statuses == [200, 200, 200, 429]


def test_a_proxy_that_sends_the_shared_secret_is_believed_too(lambda_handler):
    proxied = {"x-static-checkout-proxy": PROXY_SECRET}
    assert [function_url_call(lambda_handler, {NETLIFY_IP: f"192.0.2.{30 + i}", **proxied})
            for i in range(5)] == [200] * 5


def test_the_client_ip_header_is_refused_as_a_setting_without_a_proxy_secret():
    with pytest.raises(Misconfigured, match="PROXY_SECRET"):
        Settings.from_env({"CLIENT_IP_HEADER": NETLIFY_IP})
    with pytest.raises(Misconfigured, match="PROXY_SECRET is shorter"):
        Settings.from_env({"CLIENT_IP_HEADER": NETLIFY_IP, "PROXY_SECRET": "short"})
    assert "short" not in repr(Settings.from_env({"PROXY_SECRET": PROXY_SECRET}))


@pytest.mark.parametrize("address,expected", [
    ("203.0.113.9", "203.0.113.9"),
    ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
    ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),  # the same subscriber, another address
    ("::ffff:203.0.113.9", "203.0.113.9"),
    ("testclient", "testclient"),
])
def test_clients_are_counted_by_address_and_ipv6_by_its_64(address, expected):
    assert bucket(address) == expected


def test_vercels_edge_address_is_the_client_on_vercel(api_env, dynamo_store, local_dynamo, monkeypatch):
    # Vercel's edge sets x-real-ip (overwriting any a client sent); the function is reached only through it.
    import httpx

    for name, value in dict(api_env, RATE_LIMIT=f"2/{DAY}", DYNAMODB_TABLE=dynamo_store.table,
                            DYNAMODB_ENDPOINT_URL=local_dynamo.url, AWS_REGION="us-east-1").items():
        monkeypatch.setenv(name, value)
    app = importlib.reload(importlib.import_module("functions.vercel")).app

    async def calls() -> list[int]:
        transport = httpx.ASGITransport(app=app, client=("10.0.0.1", 1234))  # Vercel's proxy, for everyone
        async with httpx.AsyncClient(transport=transport, base_url=SITE) as client:
            return [(await client.post(CREATE, json={"priceId": "poster-lookup"}, headers={"x-real-ip": ip})
                     ).status_code for ip in ["192.0.2.40"] * 3 + ["192.0.2.41"]]

    assert asyncio.run(calls()) == [200, 200, 429, 200]


# --- 3. an Idempotency-Key names a session only for the client that made it ----------------------------------

def creates(standin: Any) -> list[Any]:
    return [r for r in standin.requests if r["method"] == "POST" and r["path"] == "/v1/checkout/sessions"]


def test_another_clients_idempotency_key_never_names_a_session(api_env, store, standin, catalog):
    env = dict(api_env, RATE_LIMIT="off")
    first_buyer = make_client(env, store, peer="203.0.113.60")
    someone_else = make_client(env, store, peer="198.51.100.61")
    body, key = {"priceId": catalog["tshirt"]["id"], "quantity": 1}, {"Idempotency-Key": "click-shared-1"}
    first = first_buyer.post(CREATE, json=body, headers=key).json()
    retried = first_buyer.post(CREATE, json=body, headers=key).json()  # the same click, retried
    standin.complete_session(first["id"], payment_status="paid", email="first-buyer@example.com")
    other = someone_else.post(CREATE, json=body, headers=key).json()
    assert first["id"] == retried["id"] != other["id"]
    shown = someone_else.get(SUMMARY, params={"session_id": other["id"]}).json()
    assert shown["status"] == "open" and shown["customer_email"] != "first-buyer@example.com"
    keys = [r["idempotency_key"] for r in creates(standin)[-3:]]
    assert keys[0] == keys[1] != keys[2] and not any("click-shared-1" in k for k in keys)


def test_the_stripe_idempotency_key_needs_the_servers_secret():
    from shared.checkout.sessions import idempotency_key
    from shared.settings import Secret

    one, two = ({"line_items": [{"price": "price_1", "quantity": n}]} for n in (1, 2))
    ours, theirs = Secret(SECRET_KEY), Secret("sk_test_51SomeoneElsesKey0000000000")
    key = idempotency_key("click-1", one, client="203.0.113.7", secret=ours)
    assert key == idempotency_key("click-1", one, client="203.0.113.7", secret=ours)
    assert key != idempotency_key("click-1", one, client="203.0.113.8", secret=ours)
    assert key != idempotency_key("click-1", one, client="203.0.113.7", secret=theirs)
    assert key != idempotency_key("click-1", two, client="203.0.113.7", secret=ours)
    assert SECRET_KEY not in key and "click-1" not in key


# --- 5. a price not on the allow-list never reaches Stripe -------------------------------------------------

def test_unlisted_price_ids_are_refused_before_any_stripe_request(api_env, store, standin, catalog):
    client = make_client(dict(api_env, RATE_LIMIT="off"), store)
    # The first refusal may resolve the listed lookup keys (the seller's own, cached); nothing after it asks.
    error(client.post(CREATE, json={"priceId": "price_unlisted0warmup"}), 400, "unknown_price")
    secret_price = standin.add_price(unit_amount=99900, product_name="Not on this site")
    before = len(standin.requests)
    for ref in [secret_price["id"], *(f"price_Invented{i:04d}" for i in range(50)), "unlisted-lookup-key"]:
        error(client.post(CREATE, json={"priceId": ref}), 400, "unknown_price")
    assert standin.requests[before:] == []


def test_a_cold_refusal_asks_stripe_only_about_the_listed_lookup_keys(api_env, store, standin):
    client = make_client(dict(api_env, RATE_LIMIT="off"), store)
    before = len(standin.requests)
    error(client.post(CREATE, json={"priceId": "price_ProbeCold0001"}), 400, "unknown_price")
    asked = standin.requests[before:]
    assert asked and all(r["path"] == "/v1/prices" for r in asked)
    assert "ProbeCold" not in json.dumps(asked)


def test_a_price_id_behind_a_listed_lookup_key_is_sold(api_env, store, catalog):
    client = make_client(dict(api_env, RATE_LIMIT="off"), store)
    assert client.post(CREATE, json={"priceId": catalog["poster"]["id"]}).status_code == 200


def test_no_such_price_and_not_for_sale_get_the_same_answer(api_env, store, standin):
    client = make_client(dict(api_env, RATE_LIMIT="off"), store)
    existing = standin.add_price(unit_amount=100, product_name="Exists, unlisted")["id"]
    answers = {ref: client.post(CREATE, json={"priceId": ref}).json()["error"]
               for ref in (existing, "price_NoSuchPrice0", "price_missing123")}  # the last is listed, but missing
    assert len({json.dumps(answer).replace(ref, "REF") for ref, answer in answers.items()}) == 1


def test_the_price_cache_and_its_locks_stay_bounded():
    from shared.checkout.prices import LOCKS, MAX_CACHED, PriceCatalog
    from shared.errors import Code, InvalidRequest, NotFound

    class NoPrices:
        asked = 0

        def retrieve_price(self, ref: str) -> dict[str, Any]:
            self.asked += 1
            raise NotFound("no such price", code=Code.PRICE_NOT_FOUND)

    gateway = NoPrices()
    catalog = PriceCatalog(("*",), gateway)  # type: ignore[arg-type]
    for i in range(3 * MAX_CACHED):
        with pytest.raises(InvalidRequest):
            catalog.resolve(f"price_Invented{i:06d}")
    assert gateway.asked == 3 * MAX_CACHED
    assert len(catalog._cache) == MAX_CACHED and len(catalog._locks) == LOCKS


# --- 6. Vary: Origin on every API answer; the portal's never cached ------------------------------------------

def api_requests(catalog: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        ("GET", paths.CONFIG, {}),
        ("POST", CREATE, {"json": {"priceId": catalog["tshirt"]["id"]}}),
        ("POST", CREATE, {"json": {"priceId": "price_NotListed"}}),
        ("POST", CREATE, {"content": b"x", "headers": {"Content-Type": "text/plain"}}),
        ("GET", SUMMARY, {"params": {"session_id": "nope"}}),
        ("GET", SUMMARY, {"params": {"session_id": invented_session_id()}}),
        ("POST", PORTAL, {"json": {"session_id": invented_session_id()}}),
        ("POST", paths.WEBHOOK, {"content": b"{}"}),
        ("GET", paths.HEALTH, {}),
        ("GET", paths.WEBHOOK, {}),
        ("GET", "/api/no-such-route", {}),
        *[("OPTIONS", route, {}) for route in (CREATE, SUMMARY, PORTAL)],
    ]


@pytest.mark.parametrize("origin", [SITE, "https://elsewhere.example", None])
def test_every_api_response_varies_by_origin(api_env, catalog, origin):
    client = make_client(dict(api_env, STRIPE_PUBLISHABLE_KEY="pk_test_51PublishableKeyForTests",
                              RATE_LIMIT="off"), MemoryStore())
    for method, path, options in api_requests(catalog):
        headers = {**options.pop("headers", {}), **({"Origin": origin} if origin else {})}
        response = client.request(method, path, headers=headers, **options)
        vary = [name.strip().lower() for name in response.headers.get("vary", "").split(",")]
        assert vary.count("origin") == 1, (method, path, response.status_code, response.headers.get("vary"))
        allowed = response.headers.get("access-control-allow-origin")
        assert allowed in (None, SITE) and (allowed is None or origin == SITE)


def test_the_portal_answer_is_never_cached(api_env, store, standin, catalog):
    client = make_client(dict(api_env, RATE_LIMIT="off"), store)
    session_id = client.post(CREATE, json={"priceId": catalog["membership"]["id"]}).json()["id"]
    standin.complete_session(session_id, payment_status="paid")
    as_json = client.post(PORTAL, json={"session_id": session_id})
    as_form = client.post(PORTAL, data={"session_id": session_id}, follow_redirects=False)
    assert (as_json.status_code, as_form.status_code) == (200, 303)
    assert as_json.headers["cache-control"] == as_form.headers["cache-control"] == "no-store"


# --- 8. no redirect built from the request's Host ------------------------------------------------------------

def raw_get(app: Any, path: str, host: bytes) -> tuple[int, dict[str, str]]:
    """A GET straight into the ASGI app, the path exactly as a client may send it."""
    sent: list[dict[str, Any]] = []
    incoming = [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive() -> dict[str, Any]:
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": path, "raw_path": path.encode(), "root_path": "", "query_string": b"",
             "headers": [(b"host", host)], "server": ("127.0.0.1", 8000), "client": ("203.0.113.7", 5000)}
    asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    return start["status"], {k.decode(): v.decode() for k, v in start["headers"]}


@pytest.mark.parametrize("path", ["/.", "/./.", "//attacker.example/.."])
def test_a_directory_redirect_never_names_the_request_host(api_env, path):
    # Starlette's own answer was `307 Location: http://attacker.example/./`, the host taken from the request.
    app = create_app(Services(Settings.from_env(api_env), store=MemoryStore()), static_dir=str(PUBLIC_DIR))
    status, headers = raw_get(app, path, b"attacker.example")
    assert (status, headers["location"]) == (307, "/")
    assert "attacker.example" not in json.dumps(headers)
