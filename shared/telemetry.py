"""Logging and metrics through Powertools, built on first use.

Log lines carry ids and outcomes only: never a payload, a header, an email body or a secret.
Metrics are CloudWatch EMF counters, flushed once per handled request.
"""

from __future__ import annotations

import os
import sys
from typing import IO, Any, cast

NAMESPACE = "StaticCheckout"
_logger: Any | None = None
_metrics: Any | None = None


def service_name() -> str:
    return os.environ.get("POWERTOOLS_SERVICE_NAME", "static-checkout")


def logger() -> Any:
    global _logger
    if _logger is None:
        from aws_lambda_powertools import Logger

        _logger = Logger(service=service_name(), stream=cast(IO[str], _Stderr()))
    return _logger


def metrics() -> Any:
    global _metrics
    if _metrics is None:
        from aws_lambda_powertools.metrics import Metrics

        _metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", NAMESPACE),
                           service=service_name())
    return _metrics


def count(name: str, value: int = 1) -> None:
    # Powertools still buffers (and every 100 values prints) metrics it was told are disabled.
    if os.environ.get("POWERTOOLS_METRICS_DISABLED", "").lower() in ("true", "1"):
        return
    from aws_lambda_powertools.metrics import MetricUnit

    metrics().add_metric(name=name, unit=MetricUnit.Count, value=value)


def flush() -> None:
    if _metrics is not None and _metrics.metric_set:
        _metrics.flush_metrics(raise_on_empty_metrics=False)


class _Stderr:
    """Standard error as it is when written to: logs stay apart from a command's output, and
    follow whatever the process (or a test) has made of `sys.stderr` since the logger was built."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()
