"""Structured logs and CloudWatch metrics, written by hand in the shapes Powertools writes.

Log lines are JSON on standard error, one per line, with Powertools Logger's keys: `level`,
`location`, `message`, `timestamp`, `service`, then the call's `extra` fields (`correlation_id`, …),
`exception`/`exception_name`/`stack_trace` for an error, and `xray_trace_id` on Lambda. Metrics are
CloudWatch embedded metric format (EMF) records on standard output: CloudWatch Logs turns each
`{"_aws": …}` line into datapoints, in namespace `StaticCheckout` with dimension `service`, as the
alarms and dashboard in serverless.yml expect. Counters are flushed once per handled request.
Powertools' environment variables keep their meaning: POWERTOOLS_SERVICE_NAME, POWERTOOLS_LOG_LEVEL,
POWERTOOLS_METRICS_NAMESPACE, POWERTOOLS_METRICS_DISABLED.

Why not Powertools itself: importing any of its modules runs its package `__init__`, which imports
its Logger, Metrics, Tracer and JMESPath utilities (35–50 ms of a cold webhook, most of it for
features we do not use), and we used two small things from it: a JSON log formatter and an EMF
record. Both formats are documented and plain; the standard `logging` module (already imported by
asyncio) does the rest.

Log lines carry ids and outcomes only: never a payload, a header, an email body or a secret.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import time
import traceback
from typing import Any

NAMESPACE = "StaticCheckout"
# CloudWatch takes at most 100 metrics per EMF record and 100 values per metric.
_EMF_LIMIT = 100
_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# What every LogRecord has: anything else on a record came from the call's `extra` and is logged as a key.
_RECORD_FIELDS = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}

_lock = threading.Lock()
_logger: logging.Logger | None = None
_counts: dict[str, list[float]] = {}


def service_name() -> str:
    return os.environ.get("POWERTOOLS_SERVICE_NAME", "static-checkout")


def logger() -> logging.Logger:
    global _logger
    with _lock:  # built once: two first requests at a time on a server would add two handlers
        if _logger is None:
            # Not registered with `logging`: one line per record, never again through whatever handlers the
            # root logger has (a local server's, a test runner's), and nothing global to configure twice.
            built = logging.Logger(service_name(), _level())
            handler = logging.StreamHandler(_Stderr())
            handler.setFormatter(_JsonFormatter(service_name()))
            built.addHandler(handler)
            _logger = built
        return _logger


def count(name: str, value: int = 1) -> None:
    if os.environ.get("POWERTOOLS_METRICS_DISABLED", "").lower() in ("true", "1"):
        return
    with _lock:
        _counts.setdefault(name, []).append(float(value))
        full = len(_counts) >= _EMF_LIMIT or len(_counts[name]) >= _EMF_LIMIT
    if full:
        flush()


def flush() -> None:
    """Write the counters gathered since the last flush as one EMF record, if there are any."""
    global _counts
    with _lock:
        counts, _counts = _counts, {}
    if not counts:
        return
    service = service_name()
    record: dict[str, Any] = {
        "_aws": {
            "Timestamp": int(time.time() * 1000),
            "CloudWatchMetrics": [{
                "Namespace": os.environ.get("POWERTOOLS_METRICS_NAMESPACE", NAMESPACE),
                "Dimensions": [["service"]],
                "Metrics": [{"Name": name, "Unit": "Count"} for name in counts],
            }],
        },
        "service": service,
        **counts,
    }
    sys.stdout.write(json.dumps(record, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def _level() -> str:
    for variable in ("POWERTOOLS_LOG_LEVEL", "AWS_LAMBDA_LOG_LEVEL"):  # the second: Lambda's own log level setting
        value = os.environ.get(variable, "").upper()
        if value in _LEVELS:
            return value
    return "INFO"


class _JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "level": record.levelname,
            "location": f"{record.funcName}:{record.lineno}",
            "message": record.getMessage(),
            "timestamp": _timestamp(record.created),
            "service": self.service,
        }
        entry.update((key, value) for key, value in record.__dict__.items() if key not in _RECORD_FIELDS)
        if record.exc_info and record.exc_info[0] is not None:
            kind, error, trace = record.exc_info
            entry["exception"] = self.formatException(record.exc_info)
            entry["exception_name"] = kind.__name__
            entry["stack_trace"] = {
                "type": kind.__name__, "value": str(error), "module": kind.__module__,
                "frames": [{"file": frame.filename, "line": frame.lineno, "function": frame.name,
                            "statement": frame.line} for frame in traceback.extract_tb(trace)],
            }
        trace_header = os.environ.get("_X_AMZN_TRACE_ID")  # set by Lambda for each invocation
        if trace_header:
            entry["xray_trace_id"] = trace_header.split(";")[0].replace("Root=", "")
        return json.dumps(entry, default=str, separators=(",", ":"))


def _timestamp(created: float) -> str:
    """`2025-01-31 12:00:00,123+0000`: Powertools' format, in UTC wherever the process runs."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(created)) + f",{int(created % 1 * 1000):03d}+0000"


class _Stderr:
    """Standard error as it is when written to: logs stay apart from a command's output, and
    follow whatever the process (or a test) has made of `sys.stderr` since the logger was built."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()
