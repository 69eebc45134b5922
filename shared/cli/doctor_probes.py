"""`doctor`'s questions to the world: Stripe, DynamoDB and the site. Each answer, or why there is none,
goes to the pure checks in `doctor`. A probe never raises: one broken part must not hide the others.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..errors import DomainError, Misconfigured, NotFound
from ..web.routes import HEALTH, WEBHOOK
from .doctor import (
    Check,
    Failed,
    HttpAnswer,
    check_checkout_options,
    check_hook,
    check_key,
    check_prices,
    check_site,
    check_table,
    check_webhook_endpoint,
    check_webhook_secrets,
)

if TYPE_CHECKING:
    from ..checkout.options import CheckoutOptions
    from ..checkout.stripe_api import StripeGateway
    from ..store.dynamo import DynamoStore
    from ..web.services import Services

Fetch = Callable[[str], HttpAnswer | Failed]


def run(services: Services, *, endpoint_url: str | None = None, fetch: Fetch | None = None) -> list[Check]:
    from ..store.dynamo import DynamoStore

    settings = services.settings
    fetch = fetch or http_get
    gateway = services.gateway
    ping = _stripe_ping(gateway) if settings.stripe_secret_key is not None else Failed("no key")
    works = ping is None
    site = settings.site_url
    table, ttl = describe_table(DynamoStore.from_settings(settings))
    allowed = settings.allowed_prices
    hook = [check_hook(hook_problem(settings.fulfillment_hook))] if settings.fulfillment_hook else []
    prices = find_prices(gateway, allowed) if works and allowed not in (None, ("*",)) else None
    return [
        check_key(settings.stripe_secret_key, ping),
        check_webhook_secrets(settings.webhook_secrets),
        check_table(settings.dynamodb_table, table, ttl),
        check_site(site, fetch(site) if site else None, fetch(site + HEALTH) if site else None,
                   settings.stripe_mode),
        check_prices(allowed, prices),
        check_checkout_options(checkout_options(settings.checkout_config), prices),
        check_webhook_endpoint(endpoint_url or (site + WEBHOOK if site else None),
                               _stripe(gateway.list_webhook_endpoints) if works else None),
        *hook,
    ]


def checkout_options(setting: str | None) -> CheckoutOptions | Failed:
    """The checkout options file as the API reads it, or why it does not read."""
    from ..checkout.options import load

    try:
        return load(setting)
    except Misconfigured as exc:
        return Failed(exc.message)


def hook_problem(spec: str) -> str | None:
    """Why the hook does not load in this shell, or None. It imports the seller's module, as the webhook would."""
    from ..orders.fulfilment import load_hook

    try:
        load_hook(spec)
    except Misconfigured as exc:
        return exc.message
    return None


def http_get(url: str, *, timeout: float = 5.0) -> HttpAnswer | Failed:
    request = urllib.request.Request(url, headers={"User-Agent": "static-checkout-doctor"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310 (SITE_URL is http(s))
            return HttpAnswer(answer.status, answer.read(64 * 1024))
    except urllib.error.HTTPError as exc:
        return HttpAnswer(exc.code, exc.read(64 * 1024))
    except urllib.error.URLError as exc:
        return Failed(str(exc.reason))
    except (TimeoutError, OSError) as exc:
        return Failed(f"no answer in {timeout:g} s" if isinstance(exc, TimeoutError) else type(exc).__name__)


def describe_table(store: DynamoStore) -> tuple[dict[str, Any] | None | Failed, dict[str, Any] | Failed | None]:
    """DescribeTable's `Table` (None when there is no such table) and the TTL description."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        table = store.client.describe_table(TableName=store.table)["Table"]
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "error")
        return (None if code == "ResourceNotFoundException" else Failed(f"DynamoDB says {code}")), None
    except BotoCoreError as exc:
        return Failed(f"{type(exc).__name__} (AWS credentials, AWS_REGION, DYNAMODB_ENDPOINT_URL?)"), None
    try:
        ttl = store.client.describe_time_to_live(TableName=store.table)["TimeToLiveDescription"]
    except (ClientError, BotoCoreError) as exc:
        return table, Failed(type(exc).__name__)
    return table, ttl


def find_prices(gateway: StripeGateway, allowed: tuple[str, ...]) -> dict[str, dict[str, Any] | None] | Failed:
    """Each allowed reference and the price it names, archived ones included."""
    found: dict[str, dict[str, Any] | None] = {}
    try:
        keys = [ref for ref in allowed if not ref.startswith("price_")]
        by_key = {p["lookup_key"]: p for p in gateway.prices_by_lookup_key(keys)} if keys else {}
        for ref in allowed:
            if ref.startswith("price_"):
                try:
                    found[ref] = gateway.retrieve_price(ref)
                except NotFound:
                    found[ref] = None
            else:
                found[ref] = by_key.get(ref)
    except DomainError as exc:
        return Failed(exc.message)
    return found


def _stripe_ping(gateway: StripeGateway) -> Failed | None:
    result = _stripe(gateway.ping)
    return result if isinstance(result, Failed) else None


def _stripe(call: Callable[[], Any]) -> Any:
    try:
        return call()
    except DomainError as exc:  # our translation of Stripe's errors; its messages carry no key
        return Failed(exc.message)
