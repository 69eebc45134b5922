from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from shared.orders.fulfilment import Fulfiller
from shared.store.dynamo import DynamoStore
from tests.dynamo_server import LocalDynamo
from tests.fakes import MemoryStore, RecordingAction

# Tests never reach AWS: these only satisfy boto3, and the local servers accept anything.
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "StaticCheckoutTests")

WEBHOOK_SECRET = "whsec_test_0123456789abcdef"
# No checkout options (CHECKOUT_CONFIG): tests of options name their own file.
BARE_OPTIONS = str(Path(__file__).with_name("checkout_bare.toml"))
SECRET_KEY = "sk_test_51TestSecretKeyNeverPrinted0123"
PROXY_SECRET = "proxy-secret-for-tests-never-printed-0123456789"


@pytest.fixture(scope="session")
def local_dynamo():
    server = LocalDynamo().start()
    yield server
    server.stop()


@pytest.fixture
def dynamo_store(local_dynamo) -> DynamoStore:
    store = DynamoStore(f"test-{uuid.uuid4().hex[:10]}", endpoint_url=local_dynamo.url, region="us-east-1")
    store.create_table()
    return store


@pytest.fixture(params=["memory", "dynamodb"])
def store(request):
    """Each store test runs on the in-memory fake and on DynamoDB over HTTP."""
    if request.param == "memory":
        return MemoryStore()
    return request.getfixturevalue("dynamo_store")


@pytest.fixture
def hook() -> RecordingAction:
    return RecordingAction()


@pytest.fixture
def fulfiller(hook) -> Fulfiller:
    return Fulfiller([hook], lease_seconds=60)

# Values that must never reach a log line or a response. Every test's captured stdout, stderr and
# log records are scanned for them after it runs; a test whose output holds one fails.
SECRET_VALUES = (SECRET_KEY, WEBHOOK_SECRET, "sk_test_has spaces and secret", WEBHOOK_SECRET.removeprefix("whsec_"),
                 PROXY_SECRET)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    leaked = [name for name, text in report.sections if name.endswith(report.when)
              for secret in SECRET_VALUES if secret in text]
    if leaked and report.outcome != "failed":
        report.outcome = "failed"
        report.longrepr = f"a secret value appeared in captured output: {sorted(set(leaked))}"


@pytest.fixture(scope="session")
def standin():
    from shared.demo.standin import StripeStandIn

    server = StripeStandIn()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def catalog(standin) -> dict:
    return {
        "tshirt": standin.add_price(unit_amount=1500, product_name="T-shirt"),
        "poster": standin.add_price(unit_amount=2500, product_name="Poster", lookup_key="poster-lookup"),
        "membership": standin.add_price(unit_amount=500, product_name="Membership", recurring={"interval": "month"}),
        "retired": standin.add_price(unit_amount=900, product_name="Old mug", active=False),
        "euro": standin.add_price(unit_amount=1200, currency="eur", product_name="Mug (EUR)"),
        "yearly": standin.add_price(unit_amount=5000, product_name="Yearly membership", recurring={"interval": "year"}),
    }


@pytest.fixture
def api_env(standin, catalog) -> dict:
    """Settings for the app under test: Stripe is the stand-in, the site is tests.apiclient.SITE."""
    from tests.apiclient import SITE

    return {
        "STRIPE_SECRET_KEY": SECRET_KEY,
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "STRIPE_API_BASE": standin.url,
        "STRIPE_TIMEOUT": "2",
        "SITE_URL": SITE,
        "ALLOWED_PRICES": ",".join([catalog["tshirt"]["id"], catalog["membership"]["id"], "poster-lookup",
                                    catalog["retired"]["id"], "price_missing123", catalog["euro"]["id"],
                                    catalog["yearly"]["id"]]),
        "CHECKOUT_CONFIG": BARE_OPTIONS,
    }


@pytest.fixture
def api_client(api_env, dynamo_store, hook):
    """The app under test with api_env's settings, DynamoDB over HTTP and a recording hook."""
    from tests.apiclient import make_client

    return make_client(api_env, dynamo_store, hook)


@pytest.fixture
def cli_table(monkeypatch, local_dynamo, tmp_path) -> DynamoStore:
    """A table of the test's own on DynamoDB over HTTP, named in the environment as a seller's command reads it,
    run from an empty folder (no stray .env)."""
    name = f"cli-{uuid.uuid4().hex[:8]}"
    for key, value in {"DYNAMODB_ENDPOINT_URL": local_dynamo.url, "DYNAMODB_TABLE": name,
                       "AWS_REGION": "us-east-1"}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(tmp_path)
    store = DynamoStore(name, endpoint_url=local_dynamo.url, region="us-east-1")
    store.create_table()
    return store
