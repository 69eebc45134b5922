"""What makes a cold start cheaper must not change what it does: botocore's data read by our loader is
botocore's data, and the garbage collector paused for a cold start is running again afterwards."""

from __future__ import annotations

import gc

import pytest
from botocore.exceptions import UnknownServiceError
from botocore.loaders import Loader

from functions.coldstart import first_call_without_gc, without_gc
from shared import aws


def test_the_loader_reads_the_same_models_and_endpoints_as_botocore_s():
    ours, theirs = aws._loader_class()(extra_search_paths=[]), Loader()
    ours.services.add("dynamodb")
    for type_name in ("service-2", "endpoint-rule-set-1", "waiters-2"):
        assert ours.load_service_model("dynamodb", type_name) == theirs.load_service_model("dynamodb", type_name)
    for name in ("endpoints", "partitions", "_retry", "sdk-default-configuration"):
        assert ours.load_data(name) == theirs.load_data(name)
    assert ours.list_available_services("service-2") == ["dynamodb"]


def test_a_service_no_client_was_asked_for_is_unknown_as_botocore_says():
    loader = aws._loader_class()(extra_search_paths=[])
    loader.services.add("no-such-service")
    assert loader.list_available_services("service-2") == []
    with pytest.raises(UnknownServiceError):
        loader.load_service_model("sqs", "service-2")


def test_clients_come_from_the_one_session_and_its_loader(monkeypatch):
    monkeypatch.setattr(aws, "_session", None)
    dynamodb = aws.client("dynamodb", endpoint_url="http://127.0.0.1:9")
    ses = aws.client("ses", region="eu-west-1")
    assert dynamodb.meta.service_model.service_name == "dynamodb" and ses.meta.region_name == "eu-west-1"
    assert aws._botocore_session().get_component("data_loader").services == {"dynamodb", "ses"}


def test_the_collector_is_paused_while_building_and_resumes_after():
    assert gc.isenabled()
    seen = without_gc(lambda: gc.isenabled())
    assert seen is False and gc.isenabled()


def test_only_the_first_call_runs_without_the_collector_even_when_it_fails():
    states: list[bool] = []

    @first_call_without_gc
    def handler(event, context):
        states.append(gc.isenabled())
        if event == "fail":
            raise RuntimeError("first call failed")
        return event

    with pytest.raises(RuntimeError):
        handler("fail", None)
    assert gc.isenabled()
    assert handler("ok", None) == "ok"
    assert states == [False, True] and gc.isenabled()
