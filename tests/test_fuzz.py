"""Property-based fuzzing of every route through the real app (Stripe: the stand-in; store: MemoryStore).

Whatever arrives — any JSON, raw bytes, any content type, oversized or streamed bodies, any header
bytes, any query string, any method — the answer is never a 5xx and never a traceback, every error is
`{"error": {"code", "message"}}` with a code `public/openapi.json` lists for that status, and a request
the spec calls valid succeeds while one it calls invalid does not. Webhook deliveries that are not
signed with the endpoint's secret (random, or a real signature with one thing changed) never verify
and never store anything.

Reproducible: `derandomize=True`, no example database. `FUZZ_SCALE=10` tries ten times as many inputs.
The number of inputs tried per route is printed at the end of the run ("inputs tried").
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import time
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import anyio.from_thread
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from starlette.datastructures import Headers, QueryParams
from starlette.testclient import TestClient

from shared.checkout.sessions import idempotency_key
from shared.cli.serve import PUBLIC_DIR
from shared.events.decide import HANDLED_TYPES
from shared.events.signature import sign
from shared.orders.fulfilment import Fulfiller
from shared.settings import Secret, Settings
from shared.store.dynamo import DynamoStore
from shared.web.app import create_app
from shared.web.client import client_address
from shared.web.services import Services
from tests.conftest import BARE_OPTIONS, PROXY_SECRET, SECRET_KEY, WEBHOOK_SECRET
from tests.fakes import MemoryStore, make_event, make_sale_session, make_session
from tests.test_openapi import SPEC, assert_documented, request_schema_errors

CREATE, SUMMARY = "/api/create-checkout-session", "/api/checkout-session"
PORTAL, WEBHOOK = "/api/create-portal-session", "/api/webhook"
ROUTES = tuple(SPEC["paths"])  # every documented route; test_openapi.py checks they are the app's
JSON, FORM = "application/json", "application/x-www-form-urlencoded"
CHECKOUT_LIMIT, WEBHOOK_LIMIT = 16 * 1024, 512 * 1024
SESSION_ID = re.compile(r"cs_(test|live)_[A-Za-z0-9]{10,240}")  # the README's "cs_…", exactly
IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,200}")
SCALE = max(1, int(os.environ.get("FUZZ_SCALE", "1")))


def fuzz_settings(examples: int) -> settings:
    return settings(max_examples=examples * SCALE, deadline=None, derandomize=True, database=None, print_blob=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much, HealthCheck.large_base_example])


# --- inputs tried, printed at the end of the run ---------------------------------------------------

TRIED: Counter[tuple[str, str]] = Counter()


class _InputsTriedReport:
    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not TRIED:
            return
        terminalreporter.write_sep("-", f"fuzzing: {sum(TRIED.values())} inputs tried")
        per_route = Counter[str]()
        for (route, _), n in TRIED.items():
            per_route[route] += n
        for route, n in sorted(per_route.items()):
            kinds = ", ".join(f"{kind} {m}" for (r, kind), m in sorted(TRIED.items()) if r == route)
            terminalreporter.write_line(f"{route}: {n} inputs tried ({kinds})")


@pytest.fixture(scope="module", autouse=True)
def _inputs_tried_report(request):
    if not request.config.pluginmanager.has_plugin("fuzz-inputs-tried"):
        request.config.pluginmanager.register(_InputsTriedReport(), "fuzz-inputs-tried")
    yield


# --- the app under fuzzing --------------------------------------------------------------------------

@dataclass
class Reply:
    """A response from the raw ASGI driver, shaped like httpx's for `assert_documented`."""

    status_code: int
    headers: Headers
    content: bytes

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.content)


class Fuzz:
    """The app under fuzzing, its store, and how to reach it (a plain class: Hypothesis prints it as `fuzz`)."""

    def __init__(self, client: TestClient, app: Any, store: MemoryStore, portal: Any, sellable: dict[str, str],
                 stripe_url: str) -> None:
        self.client, self.app, self.store, self.portal = client, app, store, portal
        self.sellable, self.stripe_url = sellable, stripe_url  # sellable: each reference, and its price's ID

    def __repr__(self) -> str:
        return "fuzz"

    def send(self, kind: str, method: str, path: str, **kwargs: Any) -> Any:
        """A request through the TestClient, counted and checked."""
        TRIED[(path if path in ROUTES else "other paths", kind)] += 1
        response = self.client.request(method, path, follow_redirects=False, **kwargs)
        return self.check(response, method, path)

    def raw(self, kind: str, method: str, path: str, *, query: bytes = b"", headers: Iterable[tuple[bytes, bytes]] = (),
            chunks: Iterable[bytes] = (b"",)) -> Any:
        """A request straight into the ASGI app: header bytes exactly as given (as uvicorn passes them)."""
        TRIED[(path if path in ROUTES else "other paths", kind)] += 1
        reply = self.portal.call(_asgi, self.app, method, path, query, list(headers), list(chunks))
        return self.check(reply, method, path)

    def check(self, response: Any, method: str, path: str) -> Any:
        stored = sorted(self.store.items)
        self.store.items.clear()  # one failure must not fail every later request too
        assert response.status_code < 500, f"{method} {path} -> {response.status_code}: {response.text[:300]}"
        assert_documented(response, path, method)
        if path.startswith("/api/"):  # issue 12: every API answer varies by Origin, whatever it carries
            assert "origin" in [v.strip().lower() for v in response.headers.get("vary", "").split(",")], (
                method, path, response.status_code)
        assert not stored, f"{method} {path} stored {stored}"
        return response


async def _asgi(app: Any, method: str, path: str, query: bytes, headers: list[tuple[bytes, bytes]],
                chunks: list[bytes]) -> Reply:
    incoming = [{"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1}
                for i, chunk in enumerate(chunks)]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
             "path": path, "raw_path": path.encode(), "root_path": "", "query_string": query,
             "headers": headers, "server": ("testserver", 80), "client": ("203.0.113.7", 50000)}
    try:
        await app(scope, receive, send)
    except Exception:
        pass  # Starlette re-raises after answering 500; the 500 is what the check reports
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return Reply(start["status"], Headers(raw=start.get("headers", [])), body)


@pytest.fixture(scope="module")
def fuzz(standin, catalog):
    env = {
        "STRIPE_SECRET_KEY": SECRET_KEY,
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "STRIPE_API_BASE": standin.url,
        "STRIPE_TIMEOUT": "2",
        "SITE_URL": "https://shop.example.com",
        "STRIPE_PUBLISHABLE_KEY": "pk_test_51PublishableKeyForTests",
        "RATE_LIMIT": "off",  # thousands of requests from one address: the limiter is test_openapi's business
        "CHECKOUT_CONFIG": BARE_OPTIONS,
        "ALLOWED_PRICES": ",".join([catalog["tshirt"]["id"], catalog["membership"]["id"], "poster-lookup",
                                    catalog["retired"]["id"], "price_missing123"]),
    }
    store = MemoryStore()
    app = create_app(Services(Settings.from_env(env), store=store, fulfiller=Fulfiller([])))
    # A price ID is sellable through its listed lookup key: the two name one price, and merge in a cart.
    sellable = {ref: price["id"] for ref, price in [(catalog["tshirt"]["id"], catalog["tshirt"]),
                                                    (catalog["membership"]["id"], catalog["membership"]),
                                                    ("poster-lookup", catalog["poster"]),
                                                    (catalog["poster"]["id"], catalog["poster"])]}
    with anyio.from_thread.start_blocking_portal() as portal, \
            TestClient(app, raise_server_exceptions=False) as client:
        yield Fuzz(client, app, store, portal, sellable, standin.url)


# --- strategies -------------------------------------------------------------------------------------

json_leaves = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(min_value=-(10**300), max_value=10**300),
    st.floats(), st.text(max_size=20),
)
json_values = st.recursive(json_leaves, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=10), inner, max_size=4), max_leaves=12)

price_words = st.sampled_from(["", " ", "price_missing123", "price_not_allowed", "poster-lookup ", "POSTER-LOOKUP",
                               "price_", "price_../../v1/customers", "price_1\n", "*", "tshirt", "x" * 201])
price_strings = st.one_of(price_words, st.text(max_size=30), st.from_regex(r"price_[A-Za-z0-9]{1,24}", fullmatch=True))
quantity_strings = st.one_of(
    st.sampled_from(["", " ", "1", "99", "100", "0", "00", "000", "001", "099", "0099", " 5 ", "\t7\n", "1e1", "1.0",
                     "+1", "-1", "0x1", "1_0", "²", "³", "¹", "٣", "१२", "١٠", "\u3000 5", "9" * 5000]),
    st.text(alphabet="0123456789 ", max_size=5),
    st.text(st.characters(categories=["Nd", "No", "Nl", "Zs"]), min_size=1, max_size=3),
)
ui_modes = st.one_of(st.sampled_from(["hosted", "embedded", "Embedded", "embedded_page", "popup", "", None]),
                     json_values)
quantities = st.one_of(st.integers(min_value=-3, max_value=110), st.integers(), st.floats(), st.booleans(),
                       st.none(), quantity_strings, json_values)


def price_refs(fuzz: Fuzz) -> st.SearchStrategy[Any]:
    return st.one_of(st.sampled_from(sorted(fuzz.sellable)), price_strings, json_values)


def purchases(fuzz: Fuzz) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({}, optional={"priceId": price_refs(fuzz), "quantity": quantities,
                                               "uiMode": ui_modes, "price_id": price_refs(fuzz), "extra": json_values})


def cart_lines(fuzz: Fuzz) -> st.SearchStrategy[Any]:
    line = st.one_of(
        st.fixed_dictionaries({}, optional={"priceId": price_refs(fuzz), "quantity": quantities, "extra": json_values}),
        st.fixed_dictionaries({"priceId": st.sampled_from(sorted(fuzz.sellable)),
                               "quantity": st.integers(min_value=1, max_value=60)}),
        json_values)
    return st.one_of(st.lists(line, max_size=22), json_values)


def carts(fuzz: Fuzz) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({"items": cart_lines(fuzz)}, optional={
        "uiMode": ui_modes, "priceId": price_refs(fuzz), "quantity": quantities, "extra": json_values})


idempotency_keys = st.one_of(
    st.none(),
    st.sampled_from(["", " ", "click-1", "k" * 200, "k" * 201, "a b", "\t", "\x7f", "key\x00"]),
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7e), max_size=210),
    st.text(st.characters(codec="ascii", exclude_characters="\r\n"), max_size=20),
)
json_types = st.sampled_from([JSON, "application/json; charset=utf-8", "Application/JSON", " application/json ;x=1"])
form_types = st.sampled_from([FORM, f"{FORM}; charset=utf-8", FORM.upper()])
other_types = st.one_of(
    st.sampled_from(["", "text/plain", "text/html", "multipart/form-data; boundary=x", "application/xml", "json",
                     "application/json-patch+json", "application/jsonx", "application/x-www-form-urlencodedx",
                     "*/*", "application", ";application/json", "application/json,text/plain"]),
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7e), max_size=40),
)
INJECTIONS = ["' OR '1'='1", "cs_test_1234567890' OR '1'='1", "<script>alert(1)</script>", "../../v1/customers",
              "cs_test_abcdefghij/../../v1/charges", "cs_test_abcdefghij?expand[]=customer", "${jndi:ldap://x}",
              "%00", "cs_test_abcdefghij%00", "{{7*7}}", "cs_test_abcdefghij#x", "cs_live_" + "A" * 240,
              "cs_test_" + "a" * 241, "\u202ecs_test_abcdefghij", "cs_test_ａｂｃｄｅｆｇｈｉｊ"]


def valid_session_ids() -> st.SearchStrategy[str]:
    return st.from_regex(SESSION_ID, fullmatch=True)


session_ids = st.one_of(
    st.text(), st.text(min_size=241, max_size=600), valid_session_ids(), st.sampled_from(INJECTIONS),
    st.builds(lambda prefix, rest: prefix + rest,
              st.sampled_from(["cs_test_", "cs_live_", "cs_", "CS_TEST_", "cs_test", "pi_", "cs_other_"]),
              st.text(max_size=250)),
    # a valid id with something after it
    st.builds(lambda good, tail: good + tail, valid_session_ids(),
              st.sampled_from(["\n", "\r\n", " ", "\t", "/", "%0A", "\x00", "?x=1", "é", "\u2028"])
              | st.text(max_size=3)),
)


def expected_to_buy(fuzz: Fuzz, media_type: str, data: Any, key: str | None) -> bool:
    """What the spec says: a valid body for prices this site sells, and no bad Idempotency-Key. A cart's
    lines of one price merge, and must stay within 99 together (which a schema cannot say)."""
    if not isinstance(data, dict) or request_schema_errors(CREATE, "post", media_type, data):
        return False
    if key is not None and not IDEMPOTENCY_KEY.fullmatch(key):
        return False
    lines = data["items"] if "items" in data else [data]
    merged: Counter[str] = Counter()
    for line in lines:
        quantity = line.get("quantity")
        # JSON Schema's "integer" includes 1.0; the app wants 1, as JSON.stringify writes it.
        if isinstance(quantity, float) or line.get("priceId") not in fuzz.sellable:
            return False
        merged[fuzz.sellable[line["priceId"]]] += int(str(quantity).strip()) if quantity not in (None, "") else 1
    return max(merged.values()) <= 99


def assert_purchase_outcome(fuzz: Fuzz, response: Any, media_type: str, data: Any, key: str | None) -> None:
    should_buy = expected_to_buy(fuzz, media_type, data, key)
    ok = 303 if media_type == FORM else 200
    assert (response.status_code == ok) == should_buy, (
        f"{data!r} with Idempotency-Key {key!r} -> {response.status_code} {response.text[:200]}; "
        f"the spec says it is {'valid' if should_buy else 'invalid'}")
    if response.status_code == 303:
        assert response.headers["location"].startswith(f"{fuzz.stripe_url}/c/pay/cs_test_")
    if response.status_code == 200:
        embedded = data.get("uiMode") == "embedded"
        assert set(response.json()) == ({"id", "clientSecret"} if embedded else {"id", "url"}), response.json()


# --- POST /api/create-checkout-session ----------------------------------------------------------------

@fuzz_settings(300)
@given(data=st.data(), key=idempotency_keys, content_type=json_types)
def test_create_with_any_json_body(fuzz, data, key, content_type):
    body = data.draw(st.one_of(purchases(fuzz), carts(fuzz), json_values), label="body")
    headers = {"Content-Type": content_type, **({"Idempotency-Key": key} if key is not None else {})}
    response = fuzz.send("json", "POST", CREATE, content=json.dumps(body).encode(), headers=headers)
    assert_purchase_outcome(fuzz, response, JSON, body, key)


@fuzz_settings(200)
@given(data=st.data(), content_type=form_types, key=st.none() | st.sampled_from(["click-1", "k" * 201]))
def test_create_with_any_form(fuzz, data, content_type, key):
    field_names = st.sampled_from(["priceId", "quantity", "", "priceid", "priceId[]"]) | st.text(max_size=8)
    values = st.one_of(price_refs(fuzz).filter(lambda v: isinstance(v, str)), quantity_strings, st.text(max_size=30))
    pairs = data.draw(st.lists(st.tuples(field_names, values), max_size=24), label="fields")
    headers = {"Content-Type": content_type, **({"Idempotency-Key": key} if key is not None else {})}
    response = fuzz.send("form", "POST", CREATE, content=urlencode(pairs).encode(), headers=headers)
    if len(pairs) > 20:
        assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_form"
    else:
        assert_purchase_outcome(fuzz, response, FORM, dict(pairs), key)


def _nested(depth: int) -> bytes:
    return b'{"priceId": "price_missing123", "quantity": ' + b"[" * depth + b"]" * depth + b"}"


raw_bodies = st.one_of(
    st.binary(max_size=2048),
    st.text(max_size=300).map(lambda s: s.encode("utf-8")),
    st.sampled_from([b"", b"null", b"[]", b"\"priceId\"", b"{", b"{}}", b"\xef\xbb\xbf{}", b"\xff\xfe{\x00}\x00",
                     b'{"priceId": NaN}', b'{"quantity": Infinity}', b'{"quantity": ' + b"9" * 5000 + b"}",
                     b"priceId=%ff%fe", b"priceId=%", b"&" * 25, b"priceId=a;quantity=2", b"a=1&" * 30]),
    st.integers(min_value=1, max_value=6000).map(_nested),
)


@fuzz_settings(300)
@given(content_type=st.none() | json_types | form_types | other_types, body=raw_bodies)
def test_create_with_raw_bytes_of_any_content_type(fuzz, content_type, body):
    headers = {} if content_type is None else {"Content-Type": content_type}
    response = fuzz.send("raw body", "POST", CREATE, content=body, headers=headers)
    kind = (content_type or "").split(";", 1)[0].strip().lower()
    if kind not in (JSON, FORM):
        assert response.status_code == 415, response.text


@fuzz_settings(40)
@given(size=st.integers(min_value=CHECKOUT_LIMIT - 64, max_value=4 * CHECKOUT_LIMIT),
       content_type=json_types | form_types, chunk=st.none() | st.integers(min_value=512, max_value=CHECKOUT_LIMIT))
def test_create_with_oversized_bodies(fuzz, size, content_type, chunk):
    body = b'{"priceId": "' + b"p" * size + b'"}' if JSON in content_type.lower() else b"priceId=" + b"p" * size
    # Streamed in chunks, there is no Content-Length: the limit must hold while reading.
    content: Any = body if chunk is None else (body[i:i + chunk] for i in range(0, len(body), chunk))
    response = fuzz.send("oversized", "POST", CREATE, content=content, headers={"Content-Type": content_type})
    if len(body) > CHECKOUT_LIMIT:
        assert response.status_code == 413, response.text
    else:
        assert response.status_code == 400 and response.json()["error"]["code"] == "unknown_price"


# --- GET /api/checkout-session -----------------------------------------------------------------------

@fuzz_settings(250)
@given(value=st.none() | session_ids)
def test_summary_with_any_session_id(fuzz, value):
    params = {} if value is None else {"session_id": value}
    response = fuzz.send("session_id", "GET", SUMMARY, params=params)
    well_formed = value is not None and SESSION_ID.fullmatch(value) is not None
    # Malformed ids are refused without asking Stripe; well-formed unknown ones are Stripe's 404.
    assert response.status_code == (404 if well_formed else 400), (value, response.text)


query_bytes = st.one_of(
    st.binary(max_size=300),
    st.lists(st.tuples(st.sampled_from([b"session_id", b"session_id[]", b"Session_Id", b"session_id%00", b""]),
                       st.one_of(st.binary(max_size=60).map(lambda b: quote(b, safe="").encode()),
                                 st.binary(max_size=60), valid_session_ids().map(str.encode))),
             max_size=4).map(lambda kv: b"&".join(k + b"=" + v for k, v in kv)),
)


@fuzz_settings(150)
@given(query=query_bytes)
def test_summary_with_any_raw_query_string(fuzz, query):
    reply = fuzz.raw("raw query", "GET", SUMMARY, query=query)
    value = QueryParams(query.decode("latin-1")).get("session_id")
    well_formed = value is not None and SESSION_ID.fullmatch(value) is not None
    assert reply.status_code == (404 if well_formed else 400), (query, reply.text)


# --- POST /api/create-portal-session ------------------------------------------------------------------

@fuzz_settings(150)
@given(data=st.data(), as_form=st.booleans())
def test_portal_with_any_body(fuzz, data, as_form):
    if as_form:
        pairs = data.draw(st.lists(st.tuples(st.sampled_from(["session_id", "priceId"]) | st.text(max_size=6),
                                             session_ids), max_size=4), label="fields")
        response = fuzz.send("form", "POST", PORTAL, content=urlencode(pairs).encode(),
                             headers={"Content-Type": FORM})
        value: Any = dict(pairs).get("session_id")
    else:
        body = data.draw(st.one_of(st.fixed_dictionaries({}, optional={"session_id": session_ids | json_values,
                                                                       "extra": json_values}), json_values),
                         label="body")
        response = fuzz.send("json", "POST", PORTAL, content=json.dumps(body).encode(), headers={"Content-Type": JSON})
        if not isinstance(body, dict):
            assert response.json()["error"]["code"] == "invalid_json"
            return
        value = body.get("session_id")
    well_formed = isinstance(value, str) and SESSION_ID.fullmatch(value) is not None
    assert response.status_code == (404 if well_formed else 400), (value, response.text)


# --- GET /api/health --------------------------------------------------------------------------------

@fuzz_settings(60)
@given(query=st.binary(max_size=100), extra=st.lists(st.tuples(st.sampled_from([b"accept", b"origin", b"cookie"]),
                                                               st.binary(max_size=50)), max_size=3))
def test_health_answers_200_whatever_the_query_and_headers(fuzz, query, extra):
    assert fuzz.raw("query/headers", "GET", "/api/health", query=query, headers=extra).status_code == 200


# --- every route: methods and header bytes ------------------------------------------------------------------

methods = st.one_of(st.sampled_from(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"]),
                    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ-", min_size=1, max_size=12))


@fuzz_settings(150)
@given(method=methods, path=st.sampled_from(ROUTES))
def test_any_method_on_any_route(fuzz, method, path):
    reply = fuzz.raw("methods", method, path)
    documented = method.lower() in SPEC["paths"][path] or (method == "HEAD" and "get" in SPEC["paths"][path])
    if not documented:
        assert reply.status_code == 405, (method, path, reply.status_code)


digitish = st.sampled_from([b"0", b"1", b"9", b"\xb2", b"\xb3", b"\xb9", b"\xbc", b"-", b" ", b"+"])
hex64 = st.binary(min_size=32, max_size=32).map(lambda b: b.hex().encode())
signature_headers = st.one_of(
    st.binary(max_size=200),
    st.lists(st.tuples(st.sampled_from([b"t", b"v1", b"v0", b"V1", b"T", b"", b" t", b"v1 "]) | st.binary(max_size=3),
                       st.one_of(st.lists(digitish, min_size=1, max_size=13).map(b"".join), hex64,
                                 st.binary(max_size=70))),
             max_size=5).map(lambda parts: b",".join(k + b"=" + v for k, v in parts)),
)
header_values = {
    b"content-type": st.one_of(st.binary(max_size=60), st.sampled_from([JSON.encode(), FORM.encode()]).flatmap(
        lambda t: st.binary(max_size=10).map(lambda tail: t + tail))),
    b"content-length": st.one_of(st.lists(digitish, min_size=1, max_size=4).map(b"".join), st.binary(max_size=10),
                                 st.integers(min_value=0, max_value=10**30).map(lambda n: str(n).encode())),
    b"idempotency-key": st.binary(max_size=210),
    b"stripe-signature": signature_headers,
    b"origin": st.one_of(st.binary(max_size=40), st.just(b"https://shop.example.com")),
    b"x-forwarded-for": st.binary(max_size=40),
    b"transfer-encoding": st.sampled_from([b"chunked", b"gzip", b"\xff"]),
}
header_lists = st.lists(st.sampled_from(sorted(header_values)).flatmap(
    lambda name: header_values[name].map(lambda value: (name, value))), max_size=5)


OPERATIONS = sorted((method.upper(), path) for path, item in SPEC["paths"].items() for method in item)


@fuzz_settings(500)
@given(operation=st.sampled_from(OPERATIONS), headers=header_lists,
       body=st.one_of(st.just(b""), st.binary(max_size=300), st.sampled_from([b'{"priceId": "poster-lookup"}',
                                                                                b"priceId=poster-lookup"])))
def test_any_header_bytes_on_any_route(fuzz, operation, headers, body):
    # Header values reach the app as bytes (Starlette reads them as latin-1), including non-ASCII ones.
    method, path = operation
    reply = fuzz.raw("header bytes", method, path, headers=headers, chunks=[body])
    if path == WEBHOOK and method == "POST" and reply.status_code == 400:
        assert reply.json()["error"]["code"] == "invalid_signature"


# --- POST /api/webhook: nothing unsigned verifies, nothing is stored -------------------------------------------

HEX = "0123456789abcdef"


def _delivery(now: int) -> tuple[bytes, int, str]:
    session = make_session("cs_test_" + "f" * 24)  # fixed ids: the body's length, which draws use, never varies
    body = json.dumps(make_event("checkout.session.completed", session, created=now, event_id="evt_fuzz")).encode()
    return body, now, hmac_hex(body, WEBHOOK_SECRET, now)


def hmac_hex(body: bytes, secret: str, timestamp: int) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def assert_refused(reply: Any) -> None:
    assert reply.status_code == 400 and reply.json()["error"]["code"] == "invalid_signature", reply.text


@fuzz_settings(200)
@given(body=st.one_of(st.binary(max_size=1000), json_values.map(lambda v: json.dumps(v).encode()),
                      st.builds(lambda t: json.dumps(make_event(t, make_session())).encode(),
                                st.sampled_from(HANDLED_TYPES))),
       header=st.none() | st.text(max_size=120) | signature_headers.map(lambda b: b.decode("latin-1")),
       content_type=st.none() | st.just(JSON) | other_types)
def test_webhook_random_bodies_and_signatures_never_verify(fuzz, body, header, content_type):
    headers = [(b"content-type", content_type.encode())] if content_type is not None else []
    if header is not None:
        headers.append((b"stripe-signature", header.encode("latin-1", "replace")))
    assert_refused(fuzz.raw("random signature", "POST", WEBHOOK, headers=headers, chunks=[body]))


@st.composite
def mutated_deliveries(draw: Any) -> tuple[bytes, str, str]:
    """A real delivery with at least one thing broken, among harmless decorations."""
    now = int(time.time())
    body, stamp, good = _delivery(now)
    v1 = good
    breaks = draw(st.lists(st.sampled_from(["flip", "shift", "stale", "drop t", "drop v1", "v0", "other secret",
                                            "body", "short", "long", "upper", "t not a number"]),
                           min_size=1, max_size=3, unique=True), label="breaks")
    t_part: str | None = f"t={stamp}"
    for how in breaks:
        if how == "flip" and v1:
            i = draw(st.integers(0, len(v1) - 1))
            # The signature changes with the clock: draw an offset, not a character, so the draws replay.
            v1 = v1[:i] + HEX[(HEX.index(v1[i].lower()) + draw(st.integers(1, 15))) % 16] + v1[i + 1:]
        elif how == "shift":  # another time, the old signature
            t_part = f"t={stamp + draw(st.integers(-10**6, 10**6).filter(bool))}"
        elif how == "stale":  # signed properly, but outside the 300 s tolerance
            # A future stamp gets nearer while the test runs: keep a minute clear of the window's edge.
            then = stamp + draw(st.one_of(st.integers(360, 10**7), st.integers(-10**7, -301)))
            t_part, v1 = f"t={then}", hmac_hex(body, WEBHOOK_SECRET, then)
        elif how == "drop t":
            t_part = None
        elif how == "drop v1":
            v1 = ""
        elif how == "v0":
            pass  # handled below: the good signature sent under another scheme
        elif how == "other secret":
            secret = draw(st.text(min_size=1, max_size=40).filter(lambda s: s != WEBHOOK_SECRET))
            v1 = hmac_hex(body, secret, stamp)
        elif how == "body":
            mutation = draw(st.sampled_from(["bit", "append", "truncate", "space"]))
            if mutation == "bit":
                i, bit = draw(st.integers(0, len(body) - 1)), draw(st.integers(0, 7))
                body = body[:i] + bytes([body[i] ^ (1 << bit)]) + body[i + 1:]
            elif mutation == "append":
                body += draw(st.binary(min_size=1, max_size=20))
            elif mutation == "truncate":
                body = body[:draw(st.integers(0, len(body) - 1))]
            else:
                body = body.replace(b", ", b",  ", 1)  # the same JSON, other bytes
        elif how == "short":
            v1 = v1[1:]
        elif how == "long":
            v1 += "0"
        elif how == "upper":
            v1 = v1.upper() if v1.upper() != v1 else v1 + "A"
        elif how == "t not a number":
            t_part = f"t={stamp}.0"
    scheme = "v0" if "v0" in breaks else "v1"
    parts = ([t_part] if t_part else []) + ([f"{scheme}={v1}"] if v1 else [])
    decorations = draw(st.lists(st.one_of(
        st.builds(lambda h: f"v0={h}", st.binary(min_size=32, max_size=32).map(bytes.hex)),
        st.builds(lambda h: f"v1={h}", st.binary(min_size=32, max_size=32).map(bytes.hex)),
        st.from_regex(r"[a-su-z][a-z0-9]{0,3}=[!-+\--~]{0,20}", fullmatch=True),
    ), max_size=3), label="decorations")
    header = ",".join(draw(st.permutations(parts + decorations)))
    assume(not stripe_would_accept(body, header, now))  # two breaks may cancel out (a shift and a stale)
    return body, header, "+".join(breaks)


def stripe_would_accept(body: bytes, header: str, now: int) -> bool:
    """Stripe's scheme, written out independently of shared/signature.py: the reference for the generator."""
    pairs = [part.split("=", 1) for part in header.split(",") if "=" in part]
    stamps = [value for key, value in pairs if key == "t"]
    if not stamps or not re.fullmatch(r"[0-9]+", stamps[-1]) or abs(now - int(stamps[-1])) > 300:
        return False
    return hmac_hex(body, WEBHOOK_SECRET, int(stamps[-1])) in [value for key, value in pairs if key == "v1"]


@fuzz_settings(300)
@given(delivery=mutated_deliveries())
def test_webhook_mutated_signatures_never_verify(fuzz, delivery):
    body, header, _ = delivery
    assert_refused(fuzz.raw("mutated signature", "POST", WEBHOOK, chunks=[body],
                            headers=[(b"stripe-signature", header.encode()), (b"content-type", JSON.encode())]))


@fuzz_settings(25)
@given(decorations=st.lists(st.sampled_from(["v0=" + "0" * 64, "v1=" + "f" * 64, "v2=x", "foo=bar", " "]), max_size=3),
       where=st.integers(0, 3))
def test_the_unmutated_delivery_verifies(decorations, where):
    """The control for the two tests above: only their mutations make the deliveries fail."""
    store = MemoryStore()
    client = TestClient(create_app(Services(Settings.from_env({"STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET}),
                                            store=store, fulfiller=Fulfiller([]))), raise_server_exceptions=False)
    body, stamp, good = _delivery(int(time.time()))
    parts = [f"t={stamp}", f"v1={good}"]
    parts[min(where, len(parts)):min(where, len(parts))] = decorations
    TRIED[(WEBHOOK, "control")] += 1
    response = client.post(WEBHOOK, content=body, headers={"Stripe-Signature": ",".join(parts)})
    assert response.status_code == 200 and response.json()["outcome"] == "applied", response.text
    assert any(key.startswith("EVENT#") for key in store.items)


@fuzz_settings(20)
@given(size=st.integers(min_value=WEBHOOK_LIMIT + 1, max_value=WEBHOOK_LIMIT + 64 * 1024),
       chunk=st.none() | st.integers(min_value=8 * 1024, max_value=WEBHOOK_LIMIT), signed_for_real=st.booleans())
def test_webhook_oversized_bodies_are_413(fuzz, size, chunk, signed_for_real):
    body = b"x" * size
    header = sign(body, WEBHOOK_SECRET) if signed_for_real else "t=1,v1=" + "0" * 64
    content: Any = body if chunk is None else (body[i:i + chunk] for i in range(0, size, chunk))
    response = fuzz.send("oversized", "POST", WEBHOOK, content=content, headers={"Stripe-Signature": header})
    assert response.status_code == 413


# --- POST /api/webhook: signed, but any shape ----------------------------------------------------------------

object_fields = ["id", "object", "payment_status", "status", "mode", "payment_intent", "customer", "customer_details",
                 "customer_email", "metadata", "line_items", "amount_total", "currency", "created", "amount",
                 "amount_refunded", "items", "lines", "parent", "subscription", "current_period_end", "reason",
                 "invoice", "payment", "payments", "refunds", "charge", "billing_reason", "presentment_details",
                 "currency_conversion", "hosted_invoice_url", "fraud_type", "actionable", "trial_end",
                 # the sale's breakdown, in each API shape
                 "amount_subtotal", "total_details", "shipping_cost", "shipping_rate", "shipping_details", "shipping",
                 "collected_information", "discounts", "custom_fields", "consent"]


@st.composite
def signed_events(draw: Any) -> dict[str, Any] | Any:
    if draw(st.booleans()):
        return draw(json_values)
    obj = draw(st.fixed_dictionaries({}, optional={f: json_values for f in object_fields}))
    return draw(st.fixed_dictionaries(
        {"id": st.text(max_size=20) | json_values, "type": st.sampled_from(HANDLED_TYPES) | st.text(max_size=30),
         "created": st.integers(min_value=0, max_value=2**40) | json_values,
         "data": st.just({"object": obj}) | json_values},
        optional={"object": st.just("event"), "livemode": st.booleans()}))


def deliver_signed(store: Any, event: Any, kind: str) -> Any:
    app = create_app(Services(Settings.from_env({"STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET}), store=store,
                              fulfiller=Fulfiller([])))
    body = json.dumps(event).encode()
    TRIED[(WEBHOOK, kind)] += 1
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.post(WEBHOOK, content=body, headers={"Stripe-Signature": sign(body, WEBHOOK_SECRET)})
    assert response.status_code in (200, 400), f"{body[:300]!r} -> {response.status_code} {response.text[:200]}"
    assert_documented(response, WEBHOOK, "POST")
    if response.status_code == 400:
        assert response.json()["error"]["code"] == "invalid_payload"
    return response


@fuzz_settings(300)
@given(event=signed_events())
def test_signed_events_of_any_shape_are_200_or_400(event):
    """Only Stripe can sign; still, what it signs is untrusted input and must not crash a delivery."""
    deliver_signed(MemoryStore(), event, "signed, any shape")


# Where a sale's breakdown lives in each API shape (orders/sale.py reads every one of them).
SALE_PATHS: list[tuple[Any, ...]] = [
    ("amount_subtotal",), ("total_details",), ("total_details", "amount_tax"), ("total_details", "amount_shipping"),
    ("total_details", "breakdown"), ("shipping_cost",), ("shipping_cost", "shipping_rate"),
    ("shipping_cost", "amount_total"), ("collected_information",), ("collected_information", "shipping_details"),
    ("collected_information", "shipping_details", "address"), ("shipping_details",), ("shipping",), ("shipping_rate",),
    ("discounts",), ("discounts", 0), ("discounts", 0, "promotion_code"), ("custom_fields",), ("custom_fields", 0),
    ("custom_fields", 0, "type"), ("custom_fields", 0, "text"), ("custom_fields", 0, "label"),
    ("customer_details", "tax_ids"), ("customer_details", "address"), ("customer_details", "name"), ("consent",),
    ("line_items",), ("line_items", "data", 0), ("line_items", "data", 0, "price"),
    ("line_items", "data", 0, "amount_tax"), ("metadata", "static_checkout_items"),
]


@st.composite
def sale_events(draw: Any) -> dict[str, Any]:
    """A completed sale (discount, shipping, tax, custom fields) in any API shape, one to three of whose
    breakdown's fields hold anything at all."""
    session = make_sale_session(shape=draw(st.sampled_from(["basil", "acacia", "legacy"])),
                                expanded=draw(st.booleans()), tax_included=draw(st.booleans()))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        *parents, last = draw(st.sampled_from(SALE_PATHS))
        target: Any = session
        for step in parents:
            target = target[step] if isinstance(target, (dict, list)) and _has(target, step) else None
        if isinstance(target, (dict, list)) and (isinstance(target, dict) or _has(target, last)):
            target[last] = draw(json_values)
    return make_event("checkout.session.completed", session)


def _has(container: Any, step: Any) -> bool:
    return step in container if isinstance(container, dict) else isinstance(step, int) and step < len(container)


@fuzz_settings(200)
@given(event=sale_events())
def test_signed_sales_with_any_breakdown_field_are_200_or_400(event):
    """The breakdown is read from many optional fields in three shapes: none of them, whatever it holds,
    crashes a delivery."""
    deliver_signed(MemoryStore(), event, "signed sale, any breakdown field")


@pytest.fixture(scope="module")
def fuzz_table(local_dynamo):
    store = DynamoStore(f"fuzz-{uuid.uuid4().hex[:10]}", endpoint_url=local_dynamo.url, region="us-east-1")
    store.create_table()
    return store


@fuzz_settings(40)
@given(event=signed_events())
def test_signed_events_of_any_shape_on_dynamodb_are_200_or_400(fuzz_table, event):
    """The same, stored in DynamoDB over HTTP: what the memory store accepts, DynamoDB's types may not."""
    deliver_signed(fuzz_table, event, "signed, any shape, DynamoDB")


# --- inputs that broke the app, each pinned by its smallest form ---------------------------------------------

def test_superscript_digit_in_signature_timestamp_is_400_not_500(fuzz):
    # "²".isdigit() is True, int("²") raises ValueError: shared/signature.py:_parse (fixed).
    reply = fuzz.raw("regression", "POST", WEBHOOK, chunks=[b"{}"],
                     headers=[(b"stripe-signature", b"t=\xb2,v1=" + b"0" * 64)])
    assert_refused(reply)


def test_superscript_digit_quantity_is_400_not_500(fuzz, catalog):
    # shared/checkout.py:parse_purchase: `raw.strip().isdigit()` then `int(raw.strip())` (fixed).
    response = fuzz.client.post(CREATE, data={"priceId": catalog["tshirt"]["id"], "quantity": "²"},
                                follow_redirects=False)
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_quantity", response.text


def test_non_ascii_digit_quantity_is_refused(fuzz, catalog):
    # The spec (and an <input type=number>) say ASCII digits; "٣" was bought as 3 (fixed).
    response = fuzz.client.post(CREATE, json={"priceId": catalog["tshirt"]["id"], "quantity": "٣"})
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_quantity", response.text


def test_deeply_nested_json_is_400_not_500(fuzz):
    # json.loads raises RecursionError (not a ValueError) past ~1000 levels: shared/_http.py:read_purchase (fixed).
    response = fuzz.client.post(CREATE, content=_nested(5000), headers={"Content-Type": JSON})
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_json", response.text


def test_session_id_with_a_trailing_newline_is_400(fuzz):
    # SESSION_ID ends in `$`, which also matches before a final "\n": shared/checkout.py:check_session_id (fixed).
    response = fuzz.client.get(SUMMARY, params={"session_id": "cs_test_abcdefghij\n"})
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_session_id", response.text


def test_signed_event_whose_data_is_not_an_object_is_400():
    # `(event.get("data") or {}).get("object")` on `"data": true`: shared/webhook.py:parse_event (fixed).
    deliver_signed(MemoryStore(), {"id": "evt_1", "type": "checkout.session.completed", "created": 0, "data": True},
                   "regression")


def test_signed_event_with_a_malformed_nested_object_is_400():
    # `details.get("email")` on a list: AttributeError out of shared/events.py:decide (fixed).
    deliver_signed(MemoryStore(), {"id": "evt_1", "type": "checkout.session.completed", "created": 0,
                                   "data": {"object": {"id": "cs_1", "customer_details": [None]}}}, "regression")


def test_non_ascii_digit_content_length_is_not_500(fuzz):
    # shared/_http.py:read_body: `declared.isdigit()` is True for "²", then int("²") raised ValueError (fixed).
    reply = fuzz.raw("regression", "POST", WEBHOOK, chunks=[b"{}"], headers=[(b"content-length", b"\xb2")])
    assert_refused(reply)


def test_signed_refund_of_an_infinite_amount_is_400_not_500():
    # json.loads read `Infinity`; int(inf) raised OverflowError out of shared/events.py:decide (fixed).
    deliver_signed(MemoryStore(), {"id": "evt_1", "type": "charge.refunded", "created": 0,
                                   "data": {"object": {"payment_intent": "pi_1", "amount_refunded": float("inf")}}},
                   "regression")


def test_signed_session_with_a_fractional_amount_is_not_500_on_dynamodb(fuzz_table):
    # boto3's TypeSerializer refused floats (TypeError, not a StoreUnavailable): now shared/store/attributes.py (fixed).
    deliver_signed(fuzz_table, {"id": f"evt_{uuid.uuid4().hex}", "type": "checkout.session.completed", "created": 0,
                                "data": {"object": {"id": "cs_test_fraction", "amount_total": 12.5}}}, "regression")


# --- issue 12: what an attacker could reach, one property per item ---------------------------------------------

def _counts(standin: Any, since: int, prefix: str) -> int:
    return sum(1 for r in standin.requests[since:] if r["path"].startswith(prefix))


@fuzz_settings(25)
@given(ids=st.lists(st.one_of(valid_session_ids(), st.sampled_from(INJECTIONS), st.text(max_size=12)),
                    min_size=1, max_size=30))
def test_1_success_page_lookups_never_outrun_the_limit(standin, catalog, ids):
    """However the look-ups mix, Stripe is asked at most the success page's limit (2 x RATE_LIMIT = 4 a day)."""
    env = {"STRIPE_SECRET_KEY": SECRET_KEY, "STRIPE_API_BASE": standin.url, "STRIPE_TIMEOUT": "2",
           "SITE_URL": "https://shop.example.com", "ALLOWED_PRICES": catalog["tshirt"]["id"], "RATE_LIMIT": "2/86400"}
    client = TestClient(create_app(Services(Settings.from_env(env), store=MemoryStore(), fulfiller=Fulfiller([]))),
                        raise_server_exceptions=False)
    before, well_formed = len(standin.requests), 0
    for value in ids:
        TRIED[(SUMMARY, "rate limited")] += 1
        status = client.get(SUMMARY, params={"session_id": value}).status_code
        if SESSION_ID.fullmatch(value):
            well_formed += 1
            assert status == (404 if well_formed <= 4 else 429), (value, status)
        else:
            assert status == 400  # refused before it is counted, or Stripe asked
    assert _counts(standin, before, "/v1/checkout/sessions/") == min(well_formed, 4)


address_claims = st.one_of(st.text(max_size=60), st.sampled_from(["203.0.113.9", "10.0.0.1, 192.0.2.1", "::1", "",
                                                                    " , ", "1.1.1.1,", "unknown", "2001:db8::1"]))
proxy_proofs = st.one_of(
    st.text(max_size=80),
    st.from_regex(r"[A-Za-z0-9_-]{2,40}\.[A-Za-z0-9_-]{2,80}\.[A-Za-z0-9_-]{0,50}", fullmatch=True),
    st.builds(lambda key: _forged_jws(key), st.text(min_size=1, max_size=40).filter(lambda k: k != PROXY_SECRET)),
)


def _forged_jws(key: str) -> str:
    import base64

    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    signing_input = part({"alg": "HS256"}) + "." + part({"iss": "netlify", "exp": int(time.time()) + 300})
    mac = hmac.new(key.encode(), signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


@fuzz_settings(500)
@given(headers=st.dictionaries(st.sampled_from(["x-nf-client-connection-ip", "x-forwarded-for", "x-real-ip",
                                                "x-nf-sign", "x-static-checkout-proxy"]),
                               st.one_of(address_claims, proxy_proofs), max_size=5))
def test_2_no_header_moves_a_client_without_the_proxys_proof(headers):
    TRIED[("client address", "headers")] += 1
    assert client_address(headers, "198.51.100.7", ip_header="x-nf-client-connection-ip",
                          proxy_secret=Secret(PROXY_SECRET)) == "198.51.100.7"


@fuzz_settings(300)
@given(key=st.from_regex(IDEMPOTENCY_KEY, fullmatch=True), quantity=st.integers(1, 99),
       clients=st.lists(st.ip_addresses().map(str), min_size=2, max_size=2, unique=True))
def test_3_one_key_from_two_clients_names_two_sessions(key, quantity, clients):
    TRIED[("idempotency key", "two clients")] += 1
    params, secret = {"line_items": [{"price": "price_1", "quantity": quantity}]}, Secret(SECRET_KEY)
    first, second = (idempotency_key(key, params, client=c, secret=secret) for c in clients)
    assert first != second and first == idempotency_key(key, params, client=clients[0], secret=secret)
    assert key not in first or len(key) < 4  # the client's key never reaches Stripe as such


# The three shapes the buy script makes a key in: crypto.randomUUID(), 16 random bytes as hex, and the
# last resort (Date.now() and Math.random() in base 36).
script_keys = st.one_of(st.uuids().map(str), st.binary(min_size=16, max_size=16).map(bytes.hex),
                        st.from_regex(r"[0-9a-z]{8,9}[0-9a-z]{6,12}", fullmatch=True))


@fuzz_settings(40)
@given(key=script_keys)
def test_4_every_key_the_buy_script_makes_is_accepted(fuzz, key):
    response = fuzz.send("script key", "POST", CREATE, json={"priceId": "poster-lookup"},
                         headers={"Idempotency-Key": key})
    assert response.status_code == 200, response.text


@fuzz_settings(200)
@given(data=st.data())
def test_5_no_unlisted_price_reaches_stripe(fuzz, standin, catalog, data):
    listed = {catalog["tshirt"]["id"], catalog["membership"]["id"], "poster-lookup", catalog["retired"]["id"],
              "price_missing123", catalog["poster"]["id"]}
    ref = data.draw(st.one_of(price_strings, st.from_regex(r"[A-Za-z0-9_-]{1,40}", fullmatch=True))
                    .filter(lambda r: r not in listed), label="ref")
    before = len(standin.requests)
    response = fuzz.send("unlisted price", "POST", CREATE, json={"priceId": ref})
    assert response.status_code == 400 and response.json()["error"]["code"] in ("unknown_price", "missing_price")
    for asked in standin.requests[before:]:  # at most a refresh of the listed lookup keys, never the reference
        assert asked["path"] == "/v1/prices" and ref not in json.dumps(asked), asked


@fuzz_settings(150)
@given(operation=st.sampled_from(OPERATIONS), origin=st.binary(max_size=60) | st.sampled_from(
    [b"https://shop.example.com", b"https://shop.example.com/", b"https://SHOP.example.com", b"null", b""]))
def test_6_every_answer_varies_by_origin_and_allows_only_the_site(fuzz, operation, origin):
    method, path = operation
    reply = fuzz.raw("origin", method, path, headers=[(b"origin", origin)])  # `check` asserts the Vary
    allowed = reply.headers.get("access-control-allow-origin")
    assert allowed is None or (allowed == "https://shop.example.com" and origin == allowed.encode())


number_literals = st.one_of(
    st.integers(min_value=-(10**60), max_value=10**60).map(str),
    st.builds(lambda digits, exponent: f"{digits}e{exponent}", st.integers(-(10**20), 10**20),
              st.integers(-500, 500)),
    st.builds(lambda whole, frac, exponent: f"{whole}.{frac}E{exponent:+d}", st.integers(0, 999),
              st.integers(0, 10**40), st.integers(-500, 500)),
)


@fuzz_settings(40)
@given(number=number_literals)
def test_7_signed_events_with_numbers_of_any_size_are_stored_or_refused(fuzz_table, number):
    """What the strict reader lets in, DynamoDB holds: a number is a 200 or a 400, never a 500 on every retry."""
    session = make_session(f"cs_test_{uuid.uuid4().hex}")
    event = make_event("checkout.session.completed", session, event_id=f"evt_{uuid.uuid4().hex}")
    body = json.dumps(event).replace('"amount_total": 3000', f'"amount_total": {number}').encode()
    assert number.encode() in body
    app = create_app(Services(Settings.from_env({"STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET}), store=fuzz_table,
                              fulfiller=Fulfiller([])))
    TRIED[(WEBHOOK, "numbers of any size")] += 1
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.post(WEBHOOK, content=body, headers={"Stripe-Signature": sign(body, WEBHOOK_SECRET)})
    assert response.status_code in (200, 400), (number, response.status_code, response.text[:200])
    if response.status_code == 400:
        assert response.json()["error"]["code"] == "invalid_payload"
        assert fuzz_table.get(f"ORDER#{session['id']}") is None


@pytest.fixture(scope="module")
def pages(standin):
    env = {"STRIPE_SECRET_KEY": SECRET_KEY, "STRIPE_API_BASE": standin.url, "ALLOWED_PRICES": "*"}
    return create_app(Services(Settings.from_env(env), store=MemoryStore()), static_dir=str(PUBLIC_DIR))


@fuzz_settings(200)
@given(segments=st.lists(st.sampled_from(["", ".", "..", "%2e", "css", "js", "attacker.example", "index.html",
                                          "\\", "@attacker.example"]), max_size=5),
       lead=st.sampled_from(["/", "//", "///", "/\\"]), host=st.binary(max_size=40))
def test_8_no_page_redirect_leaves_the_site(fuzz, pages, segments, lead, host):
    path = lead + "/".join(segments)
    TRIED[("pages", "redirects")] += 1
    reply = fuzz.portal.call(_asgi, pages, "GET", path, b"", [(b"host", host)], [b""])
    assert reply.status_code < 500
    if 300 <= reply.status_code < 400:
        location = reply.headers["location"]
        assert location.startswith("/") and not location.startswith(("//", "/\\")), (path, location)
