from __future__ import annotations

import os
import uuid

import pytest

from shared.fulfilment import Fulfiller
from shared.store import DynamoStore
from tests.dynamo_server import LocalDynamo
from tests.fakes import MemoryStore, RecordingAction

# Tests never reach AWS: these only satisfy boto3, and the local servers accept anything.
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "StaticCheckoutTests")

WEBHOOK_SECRET = "whsec_test_0123456789abcdef"
SECRET_KEY = "sk_test_51TestSecretKeyNeverPrinted0123"


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
