"""Each platform adapter, driven with the platform's own request shape, answers as the local server does;
and every route, handler, table and header the deploy configs name exists and matches the code."""

from __future__ import annotations

import asyncio
import base64
import copy
import importlib
import json
import re
import subprocess
import sys
import tomllib
import uuid
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
import yaml

from shared.cli.serve import PUBLIC_DIR
from shared.events.signature import sign
from shared.settings import _KNOWN, Settings
from shared.store.dynamo import DynamoStore
from shared.store.keys import TTL_ATTRIBUTE, table_definition
from shared.web.app import create_app
from shared.web.routes import API_ROUTES
from shared.web.services import Services
from tests.conftest import SECRET_KEY, WEBHOOK_SECRET
from tests.fakes import make_event, make_session

ROOT = Path(__file__).resolve().parent.parent
EVENTS = Path(__file__).resolve().parent / "platform_events"
SITE = "https://shop.example.com"
sys.path.insert(0, str(ROOT / "scripts"))

import netlify_redirects  # noqa: E402
import sizes  # noqa: E402
from lambda_bundle import archive, build, bytecode, contents, smoke  # noqa: E402

LAMBDA_SHAPES = ("function_url", "http_api_v2", "rest_api_v1")


# --- the running adapters --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def price(standin) -> str:
    return standin.add_price(unit_amount=1500, currency="usd", product_name="Café T-shirt ☕")["id"]


@pytest.fixture(scope="module")
def environment(local_dynamo, standin, price) -> dict[str, str]:
    table = f"platforms-{uuid.uuid4().hex[:8]}"
    DynamoStore(table, endpoint_url=local_dynamo.url, region="us-east-1").create_table()
    return {
        "STRIPE_SECRET_KEY": SECRET_KEY, "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET, "STRIPE_API_BASE": standin.url,
        "STRIPE_TIMEOUT": "2", "SITE_URL": SITE, "ALLOWED_PRICES": price, "DYNAMODB_TABLE": table,
        "DYNAMODB_ENDPOINT_URL": local_dynamo.url, "AWS_REGION": "us-east-1",
        "RATE_LIMIT": "off",  # every request here comes from one address; the limiter has tests of its own
    }


@pytest.fixture(scope="module")
def adapters(environment):
    """The deployed entry points, imported afresh with the platform's environment, as a cold start does."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in environment.items():
            patch.setenv(name, value)
        aws = importlib.reload(importlib.import_module("functions.aws_lambda"))
        vercel = importlib.reload(importlib.import_module("functions.vercel"))
        entry = importlib.reload(importlib.import_module("api.index"))
        yield {"lambda": aws.handler, "vercel": entry.app, "vercel_module": vercel}


@pytest.fixture(scope="module")
def local(environment):
    """The local server's app (`python -m shared serve`): the same environment and table."""
    settings = Settings.from_env(environment)
    return create_app(Services(settings, store=DynamoStore.from_settings(settings)), static_dir=str(PUBLIC_DIR))


class Reply:
    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body

    def json(self) -> Any:
        return json.loads(self.body)


def run_async(coroutine: Any) -> Any:
    # In a thread of its own, so the main thread's event loop stays as mangum left it.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


# The buyer's address in every recorded event (a function URL's `sourceIp`, Vercel's `x-real-ip`): the local
# server is reached from it too, so the same Idempotency-Key from the same client names the same session.
RECORDED_CLIENT = "54.187.174.169"


def asgi_call(app: Any, method: str, path: str, headers: dict[str, str], body: bytes, query: str = "",
              base_url: str = "https://shop.example.com") -> Reply:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, client=(RECORDED_CLIENT, 50000))
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
            url = path + (f"?{query}" if query else "")
            return await client.request(method, url, headers=headers, content=body)

    response = run_async(go())
    return Reply(response.status_code, {k.lower(): v for k, v in response.headers.items()}, response.content)


def lambda_event(shape: str, method: str, path: str, headers: dict[str, str], body: bytes, *, query: str = "",
                 encode: bool) -> dict[str, Any]:
    """The recorded event for `shape`, carrying this request as that AWS front end would deliver it."""
    event = copy.deepcopy(json.loads((EVENTS / f"{shape}.json").read_text()))
    text = base64.b64encode(body).decode() if encode else body.decode("utf-8")
    params = {k: v for k, v in parse_qs(query, keep_blank_values=True).items()}
    headers = {**headers, "Content-Length": str(len(body))}
    if shape == "rest_api_v1":  # REST APIs keep the client's header case
        for recorded in ("headers", "multiValueHeaders"):
            event[recorded] = {k: v for k, v in event[recorded].items() if k.lower() not in map(str.lower, headers)}
        event["headers"].update(headers)
        event["multiValueHeaders"].update({k: [v] for k, v in headers.items()})
        event.update(path=path, httpMethod=method, body=text or None, isBase64Encoded=encode,
                     queryStringParameters={k: v[-1] for k, v in params.items()} or None,
                     multiValueQueryStringParameters=params or None)
        event["requestContext"].update(httpMethod=method, path=f"/prod{path}")
    else:  # payload format 2.0: Function URLs and HTTP APIs lower-case header names
        event["headers"].update({k.lower(): v for k, v in headers.items()})
        event.update(rawPath=path, rawQueryString=query, body=text, isBase64Encoded=encode)
        if params:
            event["queryStringParameters"] = {k: ",".join(v) for k, v in params.items()}
        event["requestContext"]["http"].update(method=method, path=path)
    return event


def lambda_call(handler: Any, shape: str, method: str, path: str, headers: dict[str, str], body: bytes = b"",
                query: str = "", encode: bool = False) -> Reply:
    response = handler(lambda_event(shape, method, path, headers, body, query=query, encode=encode), None)
    merged = {k.lower(): v for k, v in (response.get("headers") or {}).items()}
    merged.update({k.lower(): ", ".join(v) for k, v in (response.get("multiValueHeaders") or {}).items()})
    raw = response.get("body") or ""
    body_bytes = base64.b64decode(raw) if response.get("isBase64Encoded") else raw.encode()
    return Reply(response["statusCode"], merged, body_bytes)


def vercel_call(app: Any, method: str, path: str, headers: dict[str, str], body: bytes = b"",
                query: str = "") -> Reply:
    """As Vercel's Python runtime calls the app: the browser's path, plus the headers Vercel's proxy adds."""
    recorded = json.loads((EVENTS / "vercel_request.json").read_text())
    merged = {**recorded["headers"], **{k.lower(): v for k, v in headers.items()}}
    return asgi_call(app, method, path, merged, body, query,
                     base_url=f"https://{recorded['headers']['host']}")


KEY_HEADERS = ("content-type", "location", "cache-control", "access-control-allow-origin", "vary")


def assert_same(platform: Reply, local: Reply) -> None:
    assert platform.status == local.status, (platform.status, platform.body, local.body)
    if local.headers.get("content-type", "").startswith("application/json"):
        assert platform.json() == local.json()
    else:
        assert platform.body == local.body
    for name in KEY_HEADERS:
        if name in local.headers:
            assert platform.headers.get(name) == local.headers[name], name


def webhook_delivery(*, tamper: bool = False) -> tuple[bytes, dict[str, str]]:
    """A signed checkout.session.completed with non-ASCII text, as raw UTF-8 bytes, the way Stripe sends it."""
    session = make_session(customer_details={"email": "zoë@example.com", "name": "Zoë Ünïcode ✓"})
    body = json.dumps(make_event("checkout.session.completed", session), ensure_ascii=False).encode()
    headers = {"Stripe-Signature": sign(body, WEBHOOK_SECRET), "Content-Type": "application/json; charset=utf-8"}
    if tamper:
        body = body.replace(b'"amount_total": 3000', b'"amount_total": 1')
    return body, headers


def call_both(adapter: str, adapters: dict, local: Any, shape: str | None, method: str, path: str,
              headers: dict[str, str], body: bytes = b"", query: str = "", encode: bool = False) -> tuple[Reply, Reply]:
    if adapter == "lambda":
        platform = lambda_call(adapters["lambda"], shape or "", method, path, headers, body, query, encode)
    else:
        platform = vercel_call(adapters["vercel"], method, path, headers, body, query)
    return platform, asgi_call(local, method, path, headers, body, query)


ADAPTERS: list[tuple[str, str | None, bool]] = [("lambda", shape, encode) for shape in LAMBDA_SHAPES
                                                for encode in (False, True)]
ADAPTERS += [("vercel", None, False)]
IDS = [f"{a}-{s}-{'base64' if e else 'text'}" if s else a for a, s, e in ADAPTERS]


@pytest.mark.parametrize(("adapter", "shape", "encode"), ADAPTERS, ids=IDS)
def test_signed_webhook_is_accepted_byte_for_byte(adapters, local, adapter, shape, encode):
    body, headers = webhook_delivery()
    platform = lambda_call(adapters["lambda"], shape, "POST", "/api/webhook", headers, body, encode=encode) \
        if adapter == "lambda" else vercel_call(adapters["vercel"], "POST", "/api/webhook", headers, body)
    body, headers = webhook_delivery()  # a new event for the local server, so neither is a duplicate
    reference = asgi_call(local, "POST", "/api/webhook", headers, body)
    assert platform.status == 200 and platform.json() == {"received": True, "outcome": "applied"}
    assert_same(platform, reference)


@pytest.mark.parametrize(("adapter", "shape", "encode"), ADAPTERS, ids=IDS)
def test_tampered_webhook_is_400(adapters, local, adapter, shape, encode):
    body, headers = webhook_delivery(tamper=True)
    platform, reference = call_both(adapter, adapters, local, shape, "POST", "/api/webhook", headers, body,
                                    encode=encode)
    assert platform.status == 400 and platform.json()["error"]["code"] == "invalid_signature"
    assert_same(platform, reference)


@pytest.mark.parametrize(("adapter", "shape", "encode"), ADAPTERS, ids=IDS)
def test_create_session_json_answers_as_locally(adapters, local, price, adapter, shape, encode):
    # One idempotency key for both calls from the same client: Stripe (the stand-in) gives both the same session.
    headers = {"Content-Type": "application/json", "Idempotency-Key": uuid.uuid4().hex, "Origin": SITE}
    body = json.dumps({"priceId": price, "quantity": 2}).encode()
    platform, reference = call_both(adapter, adapters, local, shape, "POST", "/api/create-checkout-session",
                                    headers, body, encode=encode)
    assert platform.status == 200 and platform.json()["url"]
    assert_same(platform, reference)


@pytest.mark.parametrize(("adapter", "shape", "encode"), ADAPTERS, ids=IDS)
def test_form_post_redirects_303_as_locally(adapters, local, price, adapter, shape, encode):
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Idempotency-Key": uuid.uuid4().hex}
    body = f"priceId={price}&quantity=3".encode()
    platform, reference = call_both(adapter, adapters, local, shape, "POST", "/api/create-checkout-session",
                                    headers, body, encode=encode)
    assert platform.status == 303 and platform.headers["location"] == reference.headers["location"]
    assert_same(platform, reference)


@pytest.mark.parametrize(("adapter", "shape", "encode"), ADAPTERS[:-1:2] + ADAPTERS[-1:],
                         ids=IDS[:-1:2] + IDS[-1:])
def test_query_string_and_health_reach_the_app(adapters, local, price, adapter, shape, encode):
    created = asgi_call(local, "POST", "/api/create-checkout-session", {"Content-Type": "application/json"},
                        json.dumps({"priceId": price}).encode()).json()
    query = f"session_id={created['id']}"
    platform, reference = call_both(adapter, adapters, local, shape, "GET", "/api/checkout-session", {}, query=query)
    assert platform.status == 200
    assert_same(platform, reference)
    platform, reference = call_both(adapter, adapters, local, shape, "GET", "/api/health", {})
    assert platform.status == 200 and platform.json()["status"] == "ok"
    assert_same(platform, reference)


def test_lambda_writes_this_invocations_metrics_to_the_log(adapters, capsys):
    body, headers = webhook_delivery(tamper=True)
    lambda_call(adapters["lambda"], "function_url", "POST", "/api/webhook", headers, body)
    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{"_aws"')]
    assert any(record.get("InvalidSignatures") for record in emf)


def test_vercel_entry_reexports_the_adapter_app(adapters):
    from starlette.applications import Starlette

    assert adapters["vercel"] is adapters["vercel_module"].app and isinstance(adapters["vercel"], Starlette)


# --- vercel.json ---------------------------------------------------------------------------------------------


def vercel_config() -> dict:
    return json.loads((ROOT / "vercel.json").read_text())


def test_vercel_rewrites_every_api_route_to_an_existing_function():
    config = vercel_config()
    assert sorted(r["source"] for r in config["rewrites"]) == sorted(API_ROUTES)
    for rewrite in config["rewrites"]:
        assert (ROOT / (rewrite["destination"].lstrip("/") + ".py")).is_file()
    for function in config["functions"]:
        assert (ROOT / function).is_file()
    entry = (ROOT / "api" / "index.py").read_text()
    assert re.search(r"^from functions\.vercel import app\b", entry, re.M)
    assert [p.name for p in (ROOT / "api").glob("*.py")] == ["index.py"]  # every .py under api/ becomes a function


def test_vercel_cron_calls_the_release_stale_route_on_a_schedule_every_plan_allows():
    from shared.web.routes import RELEASE_STALE

    [cron] = vercel_config()["crons"]
    assert cron["path"] == RELEASE_STALE and RELEASE_STALE in API_ROUTES
    minute, hour, *rest = cron["schedule"].split()
    assert minute.isdigit() and hour.isdigit() and rest == ["*", "*", "*"]  # once a day: Hobby plans allow no more


def test_serverless_runs_release_stale_every_15_minutes():
    function = serverless()["functions"]["stock"]
    assert function["handler"] == "functions/aws_schedule.handler"
    assert function["events"] == [{"schedule": "rate(15 minutes)"}]
    module = importlib.import_module("functions.aws_schedule")
    assert callable(module.handler)


def brace_expand(pattern: str) -> list[str]:
    """A glob's `{a,b}` alternatives, innermost first, as minimatch expands them."""
    match = re.search(r"\{([^{}]*)\}", pattern)
    if match is None:
        return [pattern]
    return [expanded for part in match.group(1).split(",")
            for expanded in brace_expand(pattern[:match.start()] + part + pattern[match.end():])]


def vercel_leaves_out(path: str) -> bool:
    """Whether the function's excludeFiles glob (Vercel's Python builder ignores what it matches) matches `path`."""
    pattern = vercel_config()["functions"]["api/index.py"]["excludeFiles"]
    for alternative in brace_expand(pattern):
        parts = re.split(r"(\*\*|\*)", alternative)
        regex = "".join(".*" if p == "**" else "[^/]*" if p == "*" else re.escape(p) for p in parts)
        if re.fullmatch(regex, path):
            return True
    return False


def test_vercel_function_ships_the_same_shared_files_as_the_lambda_zip(tmp_path):
    """Both functions leave out the seller's tools by folder: what vercel.json's excludeFiles leaves out of
    shared/ and functions/ is what the Lambda zip leaves out (scripts/check_vercel.py checks a real build)."""
    sources = [p.relative_to(ROOT).as_posix() for package in ("shared", "functions")
               for p in (ROOT / package).rglob("*.py") if "__pycache__" not in p.parts]
    (tmp_path / "site").mkdir()
    zipped = {name for name in contents.bundle_files(tmp_path / "site") if contents.ours(name)}
    assert {name for name in sources if not vercel_leaves_out(name)} == zipped
    for left_out in ("shared/cli/main.py", "shared/cli/doctor.py", "shared/__main__.py", "shared/demo/server.py",
                     "shared/demo/stand_in/prices.py"):
        assert vercel_leaves_out(left_out) and contents.left_out(left_out), left_out
    for shipped in ("shared/web/app.py", "shared/settings.py", "shared/democracy.py", "functions/vercel.py",
                    "api/index.py"):
        assert not vercel_leaves_out(shipped) and not contents.left_out(shipped), shipped
    assert all(vercel_leaves_out(name) for name in ("tests/test_api.py", "scripts/sizes.py", "bench/warm.py",
                                                    "docs/deploy.md", "dist/lambda.zip"))


def vercel_includes(path: str) -> bool:
    """Whether the function's includeFiles glob names `path` (a plain file name, or `{a,b}` of them)."""
    pattern = vercel_config()["functions"]["api/index.py"].get("includeFiles", "")
    return path in brace_expand(pattern)


def test_checkout_toml_ships_with_each_function_where_the_code_looks_for_it(tmp_path):
    from shared.checkout.options import CONFIG_FILE, DEFAULT_PATH

    assert contents.ROOT_FILES == (CONFIG_FILE,) and (ROOT / CONFIG_FILE).is_file()
    # The code looks beside shared/: the zip's root, /var/task on Lambda, as the project root locally and on Vercel.
    assert DEFAULT_PATH == ROOT / CONFIG_FILE
    (tmp_path / "site").mkdir()
    assert contents.bundle_files(tmp_path / "site")[CONFIG_FILE] == ROOT / CONFIG_FILE
    assert vercel_includes(CONFIG_FILE) and not vercel_leaves_out(CONFIG_FILE)
    assert all(vercel_includes(name) for name in contents.ROOT_FILES)


def test_the_demo_and_its_stripe_stand_in_ship_in_neither_function(tmp_path):
    demo = [p.relative_to(ROOT).as_posix() for p in (ROOT / "shared" / "demo").rglob("*")
            if p.is_file() and "__pycache__" not in p.parts]
    assert {"shared/demo/serve.py", "shared/demo/standin/server.py", "shared/demo/standin/fixtures3.json"} <= set(demo)
    (tmp_path / "site").mkdir()
    assert not [name for name in contents.bundle_files(tmp_path / "site") if name.startswith("shared/demo/")]
    assert all(vercel_leaves_out(name) for name in demo)


def test_vercel_serves_public_with_the_page_headers():
    from shared.web.headers import PAGE_HEADERS

    config = vercel_config()
    assert (ROOT / config["outputDirectory"] / "index.html").is_file()
    [rule] = config["headers"]
    assert {h["key"]: h["value"] for h in rule["headers"]} == PAGE_HEADERS
    pattern = re.compile("^" + rule["source"] + "$")
    assert pattern.match("/") and pattern.match("/success.html") and pattern.match("/js/stripe-checkout.js")
    assert not any(pattern.match(route) for route in API_ROUTES)  # API answers carry the app's own headers


def test_vercel_function_installs_the_runtime_requirements():
    """Vercel's builder takes pyproject.toml's dependencies over requirements.txt: they must agree."""
    import tomllib

    listed = {line.split("#")[0].strip() for line in (ROOT / "requirements.txt").read_text().splitlines()
              if contents.requirement_name(line)}
    declared = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"])
    assert declared == listed


# --- netlify.toml and its build step ---------------------------------------------------------------------


def test_netlify_publishes_public_with_the_page_headers_and_builds_the_proxy_rules():
    from shared.web.headers import PAGE_HEADERS

    config = tomllib.loads((ROOT / "netlify.toml").read_text())
    assert (ROOT / config["build"]["publish"] / "index.html").is_file()
    command = config["build"]["command"].split()
    assert command[:2] == ["python3", "scripts/netlify_redirects.py"] and (ROOT / command[1]).is_file()
    assert command[2] == config["build"]["publish"]
    [rule] = config["headers"]
    assert rule["for"] == "/*" and rule["values"] == PAGE_HEADERS
    assert netlify_redirects.API_ROUTES == API_ROUTES


NETLIFY_ENV = {"STATIC_CHECKOUT_API_URL": "https://abc123.lambda-url.us-east-1.on.aws/",
               "STATIC_CHECKOUT_PROXY_SECRET": "a-signing-secret-for-the-netlify-build-0123"}


def test_netlify_redirects_proxy_each_api_route_with_status_200_signed(tmp_path):
    (tmp_path / "_redirects").write_text("/old  /new  301\n")
    assert netlify_redirects.main([str(tmp_path)], NETLIFY_ENV) == 0
    assert netlify_redirects.main([str(tmp_path)], NETLIFY_ENV) == 0  # a rebuild replaces our block, once
    text = (tmp_path / "_redirects").read_text()
    lines = [line.split() for line in text.splitlines() if not line.startswith("#")]
    # Each proxied request carries Netlify's X-Nf-Sign, keyed with the variable's value; the file names only it.
    assert lines == [[route, f"https://abc123.lambda-url.us-east-1.on.aws{route}", "200",
                      "Sign=STATIC_CHECKOUT_PROXY_SECRET"] for route in API_ROUTES] + [["/old", "/new", "301"]]
    assert NETLIFY_ENV["STATIC_CHECKOUT_PROXY_SECRET"] not in text


@pytest.mark.parametrize("value", ["", "abc.example.com", "https://x.example.com?a=1", "http://api.example.com",
                                   "https://x.example.com/api"])
def test_netlify_build_fails_naming_the_variable(tmp_path, value):
    result = subprocess.run([sys.executable, "-I", str(ROOT / "scripts" / "netlify_redirects.py"), str(tmp_path)],
                            env={**NETLIFY_ENV, "STATIC_CHECKOUT_API_URL": value}, capture_output=True, text=True)
    assert result.returncode == 1 and "STATIC_CHECKOUT_API_URL" in result.stderr
    assert not (tmp_path / "_redirects").exists()


@pytest.mark.parametrize("secret", [None, "", "too-short"])
def test_netlify_build_fails_without_the_proxy_signing_secret(tmp_path, secret):
    env = {k: v for k, v in NETLIFY_ENV.items() if k != "STATIC_CHECKOUT_PROXY_SECRET" or secret is not None}
    if secret is not None:
        env["STATIC_CHECKOUT_PROXY_SECRET"] = secret
    result = subprocess.run([sys.executable, "-I", str(ROOT / "scripts" / "netlify_redirects.py"), str(tmp_path)],
                            env=env, capture_output=True, text=True)
    # It names the variable, and where the same value goes on the function's side.
    assert result.returncode == 1
    assert "STATIC_CHECKOUT_PROXY_SECRET" in result.stderr and " PROXY_SECRET" in result.stderr
    assert not secret or secret not in result.stderr  # the value is never printed
    assert not (tmp_path / "_redirects").exists()


# --- serverless.yml ------------------------------------------------------------------------------------------


def serverless() -> dict:
    return yaml.safe_load((ROOT / "serverless.yml").read_text())  # long-form intrinsics only: no `!Ref` tags


def test_serverless_function_runs_the_lambda_handler_on_arm64():
    config = serverless()
    provider, function = config["provider"], config["functions"]["api"]
    assert re.fullmatch(r"python3\.(1[2-9])", provider["runtime"]) and provider["architecture"] == "arm64"
    assert provider["runtime"] == f"python{contents.PYTHON_VERSION}" and "aarch64" in contents.PLATFORM
    module, _, attribute = function["handler"].rpartition(".")
    assert callable(getattr(importlib.import_module(module.replace("/", ".")), attribute))
    assert function["url"] is True
    assert ROOT / config["package"]["artifact"] == build.OUTPUT


def test_serverless_table_equals_what_create_table_makes():
    resources = serverless()["resources"]["Resources"]
    table = resources["OrdersTable"]["Properties"]
    expected = table_definition("ignored")
    for key in ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes", "BillingMode"):
        assert table[key] == expected[key], key
    assert table["TimeToLiveSpecification"] == {"AttributeName": TTL_ATTRIBUTE, "Enabled": True}
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert resources["OrdersTable"]["DeletionPolicy"] == "Retain"


OPERATOR_ONLY = {"create_table", "describe_time_to_live", "update_time_to_live"}
# IAM has no action of its own for a transaction: each of its writes needs the action it performs. Ours
# are Updates (`DynamoStore._update_of`) and Puts (`DynamoStore._put_of`).
TRANSACTION_ACTIONS = {"transact_write_items": {"dynamodb:UpdateItem", "dynamodb:PutItem"}}


def test_serverless_grants_exactly_the_dynamodb_calls_the_code_makes():
    source = (ROOT / "shared" / "store" / "dynamo.py").read_text()
    calls = set(re.findall(r'_(?:call|conditional)\(\s*"([a-z_]+)"', source))
    calls |= set(re.findall(r'_read\(\s*"[A-Za-z]+",\s*"([a-z_]+)"', source))  # reads decoded by our own codec
    calls -= OPERATOR_ONLY
    needed: set[str] = set()
    for call in calls:
        needed |= TRANSACTION_ACTIONS.get(call, {"dynamodb:" + "".join(part.title() for part in call.split("_"))})
    assert '"Update": self._update_of(write)' in source and '"Put": {**self._put_of(write)' in source
    assert '"ConditionCheck"' not in source and '"Delete"' not in source
    [statement] = serverless()["provider"]["iam"]["role"]["statements"]
    assert statement["Effect"] == "Allow" and set(statement["Action"]) == needed
    assert needed == {"dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:PutItem", "dynamodb:UpdateItem",
                      "dynamodb:Query"}
    assert statement["Resource"] == [{"Fn::GetAtt": ["OrdersTable", "Arn"]},
                                     {"Fn::Join": ["/", [{"Fn::GetAtt": ["OrdersTable", "Arn"]}, "index/*"]]}]


def test_serverless_sends_email_only_when_configured():
    resources = serverless()["resources"]
    policy = resources["Resources"]["SendOrderEmailPolicy"]
    assert policy["Condition"] == "SendsEmail"
    [statement] = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Action"] == "ses:SendEmail"
    assert statement["Condition"] == {"StringEquals": {"ses:FromAddress": {"Ref": "EmailFrom"}}}
    assert resources["Parameters"]["EmailFrom"]["Default"] == "${param:emailFrom}"
    assert resources["Conditions"]["SendsEmail"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "EmailFrom"}, ""]}]}
    assert serverless()["provider"]["environment"]["EMAIL_FROM"] == "${param:emailFrom}"


def test_serverless_secrets_come_from_ssm_and_settings_are_known():
    text = (ROOT / "serverless.yml").read_text()
    environment = serverless()["provider"]["environment"]
    for secret in ("STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"):
        assert re.fullmatch(r"\$\{ssm:/static-checkout/\$\{sls:stage\}/" + secret + r"\}", environment[secret])
    # Needed only behind a proxy (Netlify): empty when the parameter was never stored.
    assert environment["PROXY_SECRET"] == "${ssm:/static-checkout/${sls:stage}/PROXY_SECRET, ''}"
    assert not re.search(r"\b(sk|rk)_(test|live)_|whsec_", text)
    assert set(environment) - set(_KNOWN) == {"POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE",
                                              "POWERTOOLS_LOG_LEVEL"}
    assert environment["DYNAMODB_TABLE"] == {"Ref": "OrdersTable"}


# --- the Lambda bundle ---------------------------------------------------------------------------------------


def test_runtime_requirements_hold_no_test_or_local_server_packages():
    names = {contents.requirement_name(line) for line in contents.runtime_requirements()}
    assert {"stripe", "starlette", "mangum"} <= names
    # Logs and metrics are written by shared/telemetry.py: Powertools' package __init__ cost a cold start 35–50 ms.
    assert not names & {"boto3", "botocore", "moto", "pytest", "uvicorn", "httpx", "playwright", "hypothesis",
                        "aws-lambda-powertools"}


def test_bundle_holds_our_packages_and_prunes_the_rest(tmp_path):
    site = tmp_path / "site"
    for name in ("stripe/__init__.py", "stripe/__pycache__/x.pyc", "bin/normalizer", "starlette/routing.py"):
        (site / name).parent.mkdir(parents=True, exist_ok=True)
        (site / name).write_text("")
    files = contents.bundle_files(site)
    assert "stripe/__init__.py" in files and "starlette/routing.py" in files
    assert not [n for n in files if "__pycache__" in n or n.startswith("bin/")]
    assert {"functions/aws_lambda.py", "shared/web/app.py", "shared/store/dynamo.py", "shared/money.py"} <= set(files)
    assert not [n for n in files if n.startswith(("tests/", "scripts/", "public/", "api/"))]
    assert (ROOT / "shared" / "cli" / "main.py").is_file() and (ROOT / "shared" / "__main__.py").is_file()
    assert not [n for n in files if n.startswith("shared/cli/") or n == "shared/__main__.py"]  # the seller's tools
    one, two = tmp_path / "one.zip", tmp_path / "two.zip"
    archive.write_zip(files, one)
    archive.write_zip(files, two)
    assert one.read_bytes() == two.read_bytes()  # same sources, same zip: no redeploy of unchanged code
    assert zipfile.ZipFile(one).testzip() is None


def test_bundle_leaves_out_the_cli_and_the_demo_folders_whatever_they_hold(tmp_path):
    for name in ("shared/__init__.py", "shared/__main__.py", "shared/web/app.py", "shared/cli/main.py",
                 "shared/cli/new_command.py", "shared/demo/__init__.py", "shared/demo/stripe.py",
                 "shared/democracy.py", "functions/aws_lambda.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    (tmp_path / "site").mkdir()
    files = contents.bundle_files(tmp_path / "site", root=tmp_path)
    assert set(files) == {"shared/__init__.py", "shared/web/app.py", "shared/democracy.py", "functions/aws_lambda.py"}


THIS_PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"
TAG = sys.implementation.cache_tag  # cpython-311 here


def run_package(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "scripts" / "package_lambda.py"), *args],
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def runtime_build(tmp_path_factory):
    """The real build for serverless.yml's runtime (arm64 wheels from PyPI), smoke-tested. Here, with another
    Python than the runtime's, it can ship no bytecode."""
    output = tmp_path_factory.mktemp("runtime") / "lambda.zip"
    version = contents.PYTHON_VERSION if THIS_PYTHON != contents.PYTHON_VERSION else "3.12"
    result = run_package("--smoke", "--output", str(output), "--python-version", version)
    assert result.returncode == 0, result.stdout + result.stderr
    return result, output, version


@pytest.fixture(scope="module")
def bytecode_build(tmp_path_factory):
    """The real build for *this* Python, which can compile the bytecode it ships, smoke-tested."""
    output = tmp_path_factory.mktemp("bytecode") / "lambda.zip"
    result = run_package("--smoke", "--output", str(output), "--python-version", THIS_PYTHON)
    assert result.returncode == 0, result.stdout + result.stderr
    return result, output


def test_lambda_bundle_serves_from_a_bare_interpreter(runtime_build):
    """Health, create-session (Stripe stand-in) and webhooks from the unzipped bundle with no site-packages at
    all: nothing a request needs is missing, and no test-only package is inside."""
    result, output, _ = runtime_build
    assert "GET /api/health (health) -> 200" in result.stdout
    assert "POST /api/create-checkout-session (create) -> 200" in result.stdout
    assert "POST /api/webhook (webhook) -> 503" in result.stdout  # through botocore to a DynamoDB without the table
    assert "POST /api/webhook (bad_signature) -> 400" in result.stdout
    names = zipfile.ZipFile(output).namelist()
    assert "functions/aws_lambda.py" in names and "shared/web/app.py" in names and "mangum/__init__.py" in names
    assert not [n for n in names if n.startswith(("shared/cli/", "shared/demo/")) or n == "shared/__main__.py"]
    assert not {n.split("/")[0] for n in names} & {"boto3", "botocore", "moto", "pytest", "uvicorn", "httpx"}
    assert names == sorted(names)
    assert {info.date_time for info in zipfile.ZipFile(output).infolist()} == {archive.FIXED_TIME}


def test_build_for_another_python_has_no_bytecode_and_says_what_that_costs(runtime_build):
    result, output, version = runtime_build
    assert not [n for n in zipfile.ZipFile(output).namelist() if n.endswith(".pyc")]
    warning = " ".join(result.stderr.split())
    assert "WARNING: no bytecode in this zip" in warning and f"this is Python {THIS_PYTHON}" in warning
    assert "+258 ms" in warning and f"uv run --python {version} python scripts/package_lambda.py" in warning
    assert json.loads(result.stdout.strip().splitlines()[-1])["pyc_files"] == 0


def test_bytecode_replaces_the_sources_of_what_the_request_paths_import(bytecode_build):
    result, output = bytecode_build
    names = set(zipfile.ZipFile(output).namelist())
    # third-party modules both paths import: sourceless, as module.pyc where module.py was
    for module in ("starlette/applications", "starlette/routing", "mangum/adapter", "anyio/to_thread",
                   "urllib3/connectionpool"):
        assert f"{module}.pyc" in names and f"{module}.py" not in names, module
    # requests ships (stripe requires it) but no request path imports it (checkout/stripe_http.py): its source
    assert "requests/sessions.py" in names and "requests/sessions.pyc" not in names
    for module in ("stripe/__init__", "stripe/_stripe_client", "stripe/checkout/_session"):  # create-session's
        assert f"{module}.pyc" in names and f"{module}.py" not in names, module
    # imported but failing (no pyOpenSSL): compiled on every cold start all the same; it is botocore's attempt
    # (boto3 runs after the bundle, as on Lambda). urllib3's SOCKS module was requests' attempt: gone with it.
    assert "urllib3/contrib/pyopenssl.pyc" in names
    assert "urllib3/contrib/socks.py" in names and "urllib3/contrib/socks.pyc" not in names
    # ours keep their sources, each with __pycache__ bytecode: the zip holds only what the functions can import
    ours = [n for n in names if n.startswith(("shared/", "functions/")) and n.endswith(".py")]
    assert {"shared/web/app.py", "shared/events/intake.py", "shared/store/dynamo.py", "shared/events/eventbridge.py",
            "functions/aws_lambda.py", "functions/aws_eventbridge.py"} <= set(ours)
    for name in ours:
        folder, _, stem = name.rpartition("/")
        assert f"{folder}/__pycache__/{stem[:-3]}.{TAG}.pyc" in names, name
    assert not [n for n in names if n.startswith(("shared/cli/", "shared/demo/", "shared/__pycache__/__main__"))]
    # anyio reads its own source to import lazily: kept, with __pycache__ bytecode
    assert {"anyio/__init__.py", f"anyio/__pycache__/__init__.{TAG}.pyc"} <= names
    # what no request imports stays as it was
    assert "stripe/_invoice.py" in names and "stripe/_invoice.pyc" not in names
    assert not [n for n in names if n.endswith(".pyc") and "__pycache__" in n and TAG not in n]
    assert output.stat().st_size <= build.SIZE_BUDGET
    assert "0 compiled from source" in result.stdout


def test_bytecode_bundle_serves_from_its_pyc_in_a_read_only_folder(bytecode_build):
    """Lambda's /var/task: read-only, no bytecode written. Every module the requests import comes from the
    shipped .pyc — sourceless for third-party modules, __pycache__ for ours — and none is compiled."""
    _, output = bytecode_build
    report = smoke.smoke(output, bytecode=True)
    modules = report["modules"]
    assert report["with_boto3"] and report["statuses"] == smoke.EXPECTED_STATUSES
    assert report["compiled_from_source"] == []
    for name in ("starlette.applications", "mangum.adapter", "stripe._stripe_client", "anyio.to_thread"):
        assert modules[name]["loader"] == "SourcelessFileLoader" and modules[name]["file"].endswith(".pyc"), name
    for name in ("shared.web.app", "shared.events.intake", "functions.aws_lambda", "functions.aws_eventbridge",
                 "anyio"):
        assert modules[name]["loader"] == "SourceFileLoader" and modules[name]["file"].endswith(".py"), name
        assert modules[name]["cached"].endswith(f".{TAG}.pyc"), name
    # the bytecode shipped covers every module the request paths loaded from the bundle
    shipped = set(zipfile.ZipFile(output).namelist())
    for name, entry in report["bundle_modules"].items():
        if name.endswith(".py"):
            folder, _, stem = name.rpartition("/")
            assert f"{folder}/__pycache__/{stem[:-3]}.{TAG}.pyc" in shipped, name
        else:
            assert name.endswith(".pyc") and entry["loader"] == "SourcelessFileLoader", name
    assert not {"moto", "pytest", "uvicorn", "httpx"} & {name.split(".")[0] for name in modules}
    assert not [name for name in modules if name.startswith("shared.cli")]


def test_shipped_pyc_is_unchecked_hash_for_this_python_and_reproducible(bytecode_build, tmp_path):
    import importlib.util

    _, output = bytecode_build
    zipped = zipfile.ZipFile(output)
    for name in ("starlette/applications.pyc", f"shared/web/__pycache__/app.{TAG}.pyc"):
        data = zipped.read(name)
        assert data[:4] == importlib.util.MAGIC_NUMBER, name
        assert int.from_bytes(data[4:8], "little") == 0b01, name  # hash-based, not checked against the source
    cached = zipped.read(f"shared/web/__pycache__/app.{TAG}.pyc")
    assert cached[8:16] == importlib.util.source_hash(zipped.read("shared/web/app.py"))
    # the same source compiles to the same bytes in another process: the same sources make the same zip
    (tmp_path / "app.py").write_bytes(zipped.read("shared/web/app.py"))
    again = bytecode.compile_bytecode({"app.pyc": ("shared/web/app.py", tmp_path / "app.py")}, tmp_path / "out")
    assert again["app.pyc"].read_bytes() == cached


def test_a_zip_for_another_runtime_than_serverless_yml_is_refused_or_flagged(tmp_path):
    other = "3.12" if contents.PYTHON_VERSION != "3.12" else "3.11"
    before = build.OUTPUT.stat().st_mtime_ns if build.OUTPUT.exists() else None
    refused = run_package("--python-version", other)  # dist/lambda.zip is what serverless.yml deploys
    assert refused.returncode != 0 and f"deploys python{contents.PYTHON_VERSION}" in refused.stderr
    assert (build.OUTPUT.stat().st_mtime_ns if build.OUTPUT.exists() else None) == before
    checked = run_package("--python-version", other, "--runtime-check", "--output", str(tmp_path / "x.zip"))
    assert checked.returncode != 0 and "refused (--runtime-check)" in checked.stderr
    assert not (tmp_path / "x.zip").exists()


def test_serverless_handlers_are_the_bundles_entry_points():
    assert contents.serverless_runtime() == contents.PYTHON_VERSION
    handlers = {f["handler"].rpartition(".")[0].replace("/", ".") for f in serverless()["functions"].values()}
    assert handlers == set(contents.ENTRY_POINTS)


def test_sizes_prints_the_lambda_zip_and_the_vercel_dependencies(tmp_path, monkeypatch, capsys):
    """scripts/sizes.py, with the build and pip replaced by fakes that write known sizes."""
    mib = 1024 * 1024

    def fake_build(output: Path) -> build.Build:
        output.write_bytes(b"z" * (mib // 2))
        return build.Build({"shared/web/app.py": 2 * mib, "stripe/_x.pyc": mib}, contents.PYTHON_VERSION, None)

    def fake_install(target: Path, requirements: list[str], **options: Any) -> None:
        assert options["platform"] == sizes.VERCEL_PLATFORM and "boto3" in options["allow"]
        assert {contents.requirement_name(line) for line in requirements} >= {"stripe", "boto3"}
        for name, size in (("botocore/data.json", 3 * mib), ("stripe/_x.py", 2 * mib), ("six.py", mib // 10)):
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            (target / name).write_bytes(b"x" * size)

    monkeypatch.setattr(sizes, "build", fake_build)
    monkeypatch.setattr(sizes, "install_dependencies", fake_install)
    assert sizes.main(tmp_path / "lambda.zip") == 0
    out = capsys.readouterr().out
    assert "dist/lambda.zip: 0.5 MB zipped, 3.0 MB unzipped" in out
    assert "5.1 MB installed" in out and "largest: botocore 3.0 MB, stripe 2.0 MB, six.py 0.1 MB" in out
