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


def alarmed_metrics(alarm: dict) -> set[str]:
    """The metrics an alarm reads: its one metric, or those its metric math combines."""
    props = alarm["Properties"]
    names = {props["MetricName"]} if "MetricName" in props else set()
    return names | {m["MetricStat"]["Metric"]["MetricName"] for m in props.get("Metrics", []) if "MetricStat" in m}


def test_alarms_and_dashboard_watch_metrics_the_code_emits():
    resources = serverless()["resources"]["Resources"]
    alarms = set().union(*(alarmed_metrics(r) for r in resources.values() if r["Type"] == "AWS::CloudWatch::Alarm"))
    assert alarms == {"InvalidSignatures", "EventsReceived", "EventsFailed", "FulfilmentFailures"}
    assert alarms <= emitted_metrics()
    body = re.sub(r"\$\{[^}]+\}", "x", resources["Dashboard"]["Properties"]["DashboardBody"])
    charted = {m[1] for widget in json.loads(body)["widgets"] for m in widget["properties"]["metrics"]}
    assert charted <= emitted_metrics() and alarms <= charted


def test_the_invalid_signature_alarm_weighs_failures_against_verified_deliveries():
    """A wrong secret fails all of Stripe's deliveries; probing beside healthy deliveries fails a few of many."""
    props = serverless()["resources"]["Resources"]["InvalidSignaturesAlarm"]["Properties"]
    metrics = {m["Id"]: m for m in props["Metrics"]}
    assert metrics["invalid"]["MetricStat"]["Metric"]["MetricName"] == "InvalidSignatures"
    assert metrics["verified"]["MetricStat"]["Metric"]["MetricName"] == "EventsReceived"
    [returned] = [m for m in props["Metrics"] if m.get("ReturnData", True)]

    def share(invalid: float, verified: float) -> float:  # the expression, read as CloudWatch reads it
        expression = returned["Expression"].replace("FILL(invalid, 0)", str(invalid)).replace(
            "FILL(verified, 0)", str(verified))
        match = re.fullmatch(r"IF\((.+) >= 5, (.+), 0\)", expression)
        assert match, expression
        return eval(match.group(2)) if eval(match.group(1)) >= 5 else 0  # noqa: S307 - our own arithmetic

    assert props["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    breaches = lambda invalid, verified: share(invalid, verified) >= props["Threshold"]  # noqa: E731
    assert breaches(5, 0) and breaches(40, 3)  # every delivery failing: the secret is wrong
    assert not breaches(4, 0)  # a stray request or two
    assert not breaches(30, 200)  # probing while Stripe's deliveries verify
