"""Logs and metrics in the shapes CloudWatch (and anyone who read Powertools' output) expects: JSON log
lines with Powertools Logger's keys, and embedded metric format records CloudWatch turns into datapoints."""

from __future__ import annotations

import json
import sys
import threading

import pytest

from shared import telemetry


@pytest.fixture
def fresh(monkeypatch):
    """A logger built afresh from the environment each test sets, and no counters left over."""
    monkeypatch.setattr(telemetry, "_logger", None)
    monkeypatch.setattr(telemetry, "_counts", {})
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    monkeypatch.delenv("POWERTOOLS_LOG_LEVEL", raising=False)
    monkeypatch.delenv("AWS_LAMBDA_LOG_LEVEL", raising=False)
    monkeypatch.delenv("_X_AMZN_TRACE_ID", raising=False)
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "shop-api")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "ShopTests")
    yield
    telemetry._counts.clear()


def lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_a_log_line_has_powertools_keys_in_order_and_the_call_s_ids(fresh, capsys, monkeypatch):
    monkeypatch.setenv("_X_AMZN_TRACE_ID", "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1")
    line_number = sys._getframe().f_lineno + 1
    telemetry.logger().info("webhook handled", extra={"correlation_id": "evt_1", "outcome": "applied"})
    captured = capsys.readouterr()
    assert captured.out == ""  # logs on stderr: stdout carries the metrics
    [line] = lines(captured.err)
    assert list(line) == ["level", "location", "message", "timestamp", "service", "correlation_id", "outcome",
                          "xray_trace_id"]
    assert line["level"] == "INFO" and line["message"] == "webhook handled" and line["service"] == "shop-api"
    assert line["location"] == f"test_a_log_line_has_powertools_keys_in_order_and_the_call_s_ids:{line_number}"
    assert line["correlation_id"] == "evt_1" and line["outcome"] == "applied"
    assert line["xray_trace_id"] == "1-5759e988-bd862e3fe1be46a994272793"
    date, clock = line["timestamp"].split(" ")
    assert len(date) == 10 and clock.endswith("+0000") and "," in clock


def test_an_exception_is_logged_with_its_trace(fresh, capsys):
    def fail() -> None:
        raise ValueError("no such thing")

    try:
        fail()
    except ValueError:
        telemetry.logger().exception("unhandled error", extra={"path": "/api/x"})
    [line] = lines(capsys.readouterr().err)
    assert line["level"] == "ERROR" and line["path"] == "/api/x"
    assert line["exception_name"] == "ValueError" and "Traceback" in line["exception"]
    assert line["stack_trace"]["type"] == "ValueError" and line["stack_trace"]["value"] == "no such thing"
    assert [frame["function"] for frame in line["stack_trace"]["frames"]][-1] == "fail"


def test_the_log_level_comes_from_the_environment(fresh, capsys, monkeypatch):
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "warning")
    telemetry.logger().info("not shown")
    telemetry.logger().warning("shown")
    assert [line["message"] for line in lines(capsys.readouterr().err)] == ["shown"]


def test_counters_flush_as_one_emf_record(fresh, capsys):
    telemetry.count("EventsReceived")
    telemetry.count("EventsReceived")
    telemetry.count("Fulfilments")
    assert capsys.readouterr().out == ""  # nothing before the flush
    telemetry.flush()
    telemetry.flush()  # nothing counted since: nothing written
    [record] = lines(capsys.readouterr().out)
    [directive] = record["_aws"]["CloudWatchMetrics"]
    assert directive == {"Namespace": "ShopTests", "Dimensions": [["service"]],
                         "Metrics": [{"Name": "EventsReceived", "Unit": "Count"},
                                     {"Name": "Fulfilments", "Unit": "Count"}]}
    assert isinstance(record["_aws"]["Timestamp"], int) and record["service"] == "shop-api"
    assert record["EventsReceived"] == [1.0, 1.0] and record["Fulfilments"] == [1.0]


def test_a_record_never_holds_more_than_cloudwatch_takes(fresh, capsys):
    for _ in range(250):
        telemetry.count("EventsApplied")
    telemetry.flush()
    records = lines(capsys.readouterr().out)
    assert [len(record["EventsApplied"]) for record in records] == [100, 100, 50]


def test_disabled_metrics_write_nothing(fresh, capsys, monkeypatch):
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    telemetry.count("EventsReceived")
    telemetry.flush()
    assert capsys.readouterr().out == ""


def test_counts_from_many_threads_are_all_written(fresh, capsys):
    def count() -> None:
        for _ in range(50):
            telemetry.count("EventsReceived")

    threads = [threading.Thread(target=count) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    telemetry.flush()
    assert sum(len(record["EventsReceived"]) for record in lines(capsys.readouterr().out)) == 400
