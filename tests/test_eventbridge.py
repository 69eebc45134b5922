"""Stripe events through Amazon EventBridge: the recorded envelope, and the serverless.yml wiring."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest
import yaml

import functions.aws_eventbridge as adapter
from shared.errors import InvalidRequest
from shared.orders.fulfilment import Fulfiller
from shared.settings import Settings
from shared.web.services import Services
from tests.fakes import MemoryStore

ROOT = Path(__file__).resolve().parents[1]
ENVELOPE = json.loads((ROOT / "tests" / "platform_events" / "eventbridge_stripe.json").read_text())


@pytest.fixture
def wired(monkeypatch, hook):
    store = MemoryStore()
    monkeypatch.setattr(adapter, "services", Services(Settings(), store=store, fulfiller=Fulfiller([hook])))
    return store


def test_recorded_envelope_records_and_fulfils_the_order_once(wired, hook):
    session_id = ENVELOPE["detail"]["data"]["object"]["id"]
    assert adapter.handler(copy.deepcopy(ENVELOPE), None) == {"event_id": ENVELOPE["detail"]["id"],
                                                              "outcome": "applied"}
    assert adapter.handler(copy.deepcopy(ENVELOPE), None)["outcome"] == "duplicate"
    order = wired.get(f"ORDER#{session_id}")
    assert order["status"] == "paid" and order["customer_email"] == "eb-buyer@example.com"
    assert order["line_items"][0]["description"] == "Poster"
    assert hook.calls == [session_id]


def test_events_from_another_source_are_refused(wired):
    envelope = dict(copy.deepcopy(ENVELOPE), source="aws.partner/someone-else.com/x")
    with pytest.raises(InvalidRequest):
        adapter.handler(envelope, None)
    assert wired.items == {}


def test_a_detail_that_is_not_a_stripe_event_is_refused(wired):
    with pytest.raises(InvalidRequest):
        adapter.handler(dict(copy.deepcopy(ENVELOPE), detail={"id": 1}), None)


def test_a_store_failure_raises_so_eventbridge_retries(wired):
    wired.fail = True
    from shared.errors import StoreUnavailable

    with pytest.raises(StoreUnavailable):
        adapter.handler(copy.deepcopy(ENVELOPE), None)


def serverless() -> dict:
    return yaml.safe_load((ROOT / "serverless.yml").read_text())


def emitted_metrics() -> set[str]:
    calls = [call for path in (ROOT / "shared").rglob("*.py")
             for call in re.findall(r"telemetry\.count\(([^)]*)\)", path.read_text())]
    return {name for call in calls for name in re.findall(r'"([A-Z]\w+)"', call)}


def test_the_rule_sends_stripe_events_to_the_events_function():
    config = serverless()
    assert config["functions"]["events"]["handler"] == "functions/aws_eventbridge.handler"
    rule = config["resources"]["Resources"]["StripeEventsRule"]
    assert rule["Condition"] == "UsesEventBridge"
    assert rule["Properties"]["EventPattern"]["source"] == [{"prefix": "aws.partner/stripe.com"}]
    assert rule["Properties"]["Targets"][0]["Arn"] == {"Fn::GetAtt": ["EventsLambdaFunction", "Arn"]}
    permission = config["resources"]["Resources"]["StripeEventsInvokePermission"]["Properties"]
    assert permission["Principal"] == "events.amazonaws.com"


def test_alarms_and_dashboard_watch_metrics_the_code_emits():
    resources = serverless()["resources"]["Resources"]
    alarms = {r["Properties"]["MetricName"] for r in resources.values() if r["Type"] == "AWS::CloudWatch::Alarm"}
    assert alarms == {"InvalidSignatures", "EventsFailed", "FulfilmentFailures"}
    assert alarms <= emitted_metrics()
    body = re.sub(r"\$\{[^}]+\}", "x", resources["Dashboard"]["Properties"]["DashboardBody"])
    charted = {m[1] for widget in json.loads(body)["widgets"] for m in widget["properties"]["metrics"]}
    assert charted <= emitted_metrics() and alarms <= charted
