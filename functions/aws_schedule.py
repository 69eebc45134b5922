"""AWS Lambda, invoked every 15 minutes by an EventBridge schedule (see serverless.yml): `release-stale`,
which settles the reservations whose checkout ended without our hearing how (shared/checkout/stale.py)."""

from typing import Any

from shared import telemetry
from shared.checkout.stale import release_stale
from shared.web.services import Services

services = Services()  # built lazily on the first run, then kept while the container is warm


def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    try:
        report = release_stale(services.store, services.gateway)
        counts = report.counts()
        telemetry.logger().info("release-stale", extra=counts)
        return counts
    finally:
        telemetry.flush()
