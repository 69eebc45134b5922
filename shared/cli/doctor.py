"""`doctor`: is this deployment set up right, and if not, what to fix. The checks are pure.

Each check takes the answers its probe got (`doctor_probes` does the asking) and says ok, warn or
fail with the fix in one line. No message shows a secret: the key appears as its mode and last four
characters at most, webhook secrets only as a count.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from ..checkout.options import CheckoutOptions
from ..errors import Misconfigured
from ..events.decide import HANDLED_TYPES
from ..settings import Secret
from ..store.keys import TTL_ATTRIBUTE, table_definition
from ..stripe_ids import is_placeholder, key_mode
from ..web.routes import HEALTH

Status = Literal["ok", "warn", "fail"]
NOT_CHECKED = "not checked: the Stripe key does not work"


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    message: str


@dataclass(frozen=True)
class Failed:
    """A probe that got no answer, and why."""

    reason: str


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    body: bytes = b""


def key_label(key: Secret) -> str:
    value = key.reveal()
    prefix = value[:8] if key_mode(value) else value[:3]
    return f"{prefix}…{value[-4:]}"


def check_key(key: Secret | None, ping: Failed | None) -> Check:
    name = "Stripe key"
    if key is None:
        return Check(name, "fail", "STRIPE_SECRET_KEY is not set: use your secret key (Dashboard → Developers → "
                                   "API keys)")
    if is_placeholder(key.reveal()):
        return Check(name, "fail", "STRIPE_SECRET_KEY is still a placeholder, as in .env.example: put your "
                                   "sk_test_… key there")
    kind = "restricted key" if key.reveal().startswith("rk_") else "key"
    mode = key_mode(key.reveal())
    if ping is not None:
        return Check(name, "fail", f"{mode} mode {kind} {key_label(key)} does not work: {ping.reason}")
    return Check(name, "ok", f"{mode} mode {kind} {key_label(key)} works")


def check_webhook_secrets(secrets: tuple[Secret, ...]) -> Check:
    name = "webhook secret"
    if not secrets:
        return Check(name, "fail", "STRIPE_WEBHOOK_SECRET is not set: /api/webhook refuses every event until it is; "
                                   "it is the endpoint's signing secret (whsec_…)")
    if any(is_placeholder(s.reveal()) for s in secrets):
        return Check(name, "fail", "STRIPE_WEBHOOK_SECRET is still a placeholder, as in .env.example")
    if len(secrets) == 1:
        return Check(name, "ok", "one signing secret (whsec_…)")
    if len(secrets) == 2:
        return Check(name, "ok", "two signing secrets (rotating): drop the old one once Stripe signs with the new")
    return Check(name, "warn", f"{len(secrets)} signing secrets: keep only the endpoint's current one (two while "
                               "rotating)")


def check_table(name: str, table: dict[str, Any] | None | Failed, ttl: dict[str, Any] | Failed | None) -> Check:
    """`table` is DescribeTable's `Table` (None: no such table); `ttl` DescribeTimeToLive's description."""
    label = "DynamoDB table"
    if isinstance(table, Failed):
        return Check(label, "fail", f"cannot read table {name}: {table.reason}")
    if table is None:
        return Check(label, "fail", f"table {name} does not exist: run `python -m shared create-table` "
                                    "(or deploy serverless.yml)")
    expected = table_definition(name)
    problems = []
    if _keys(table.get("KeySchema")) != _keys(expected["KeySchema"]):
        problems.append("its key is not pk (string, HASH)")
    indexes = {i.get("IndexName"): _keys(i.get("KeySchema")) for i in table.get("GlobalSecondaryIndexes") or []}
    for index in expected["GlobalSecondaryIndexes"]:
        if indexes.get(index["IndexName"]) != _keys(index["KeySchema"]):
            problems.append(f"index {index['IndexName']} is missing or different")
    if problems:
        return Check(label, "fail", f"{name}: {'; '.join(problems)}: it was not made by create-table; make a new "
                                    "table with `python -m shared create-table` and set DYNAMODB_TABLE")
    if isinstance(ttl, Failed) or ttl is None:
        return Check(label, "warn", f"{name} is as expected, but its TTL could not be read"
                                    f"{': ' + ttl.reason if ttl else ''}")
    if ttl.get("AttributeName") != TTL_ATTRIBUTE or ttl.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
        return Check(label, "fail", f"{name} has no TTL on {TTL_ATTRIBUTE}, so old webhook records never expire: "
                                    "run `python -m shared create-table` (it turns TTL on)")
    if table.get("TableStatus") not in (None, "ACTIVE"):
        return Check(label, "warn", f"{name} is {table['TableStatus']}; try again in a minute")
    return Check(label, "ok", f"{name}: key, indexes and TTL on {TTL_ATTRIBUTE} as expected")


def check_site(site: str | None, page: HttpAnswer | Failed | None, health: HttpAnswer | Failed | None,
               mode: str | None) -> Check:
    label = "site"
    if site is None:
        return Check(label, "fail", "SITE_URL is not set: the success and cancel pages are built from it; set it to "
                                    "your site's public address")
    if page is None or isinstance(page, Failed):
        return Check(label, "fail", f"{site} does not answer{': ' + page.reason if page else ''}: check SITE_URL "
                                    "and that the site is deployed")
    if page.status >= 400:
        return Check(label, "fail", f"{site} answers {page.status}: check SITE_URL and that the site is deployed")
    report = _json(health.body) if isinstance(health, HttpAnswer) and health.status == 200 else None
    if report is None:
        why = health.reason if isinstance(health, Failed) else f"HTTP {health.status}" if health else "no answer"
        return Check(label, "warn", f"{site} answers, but {site}{HEALTH} does not ({why}): is the API deployed "
                                    "with the site (or proxied to it)?")
    if report.get("status") != "ok":
        problems = "; ".join(str(p) for p in report.get("problems") or []) or f"see {HEALTH}"
        return Check(label, "fail", f"{site} answers, but its API is misconfigured: {problems}")
    deployed = report.get("stripe_mode")
    if mode and deployed and deployed != mode:
        return Check(label, "warn", f"{site} runs with a {deployed} mode key, this shell with a {mode} mode key: "
                                    "the Stripe checks here looked at the wrong mode")
    return Check(label, "ok", f"{site} answers, and its API is ok{f' ({deployed} mode)' if deployed else ''}")


def check_prices(allowed: tuple[str, ...] | None, found: dict[str, dict[str, Any] | None] | Failed | None) -> Check:
    """`found`: each allowed price ID or lookup key, and the price it names (None: no such price)."""
    label = "prices"
    if allowed is None:
        return Check(label, "fail", "ALLOWED_PRICES is not set: list the price IDs or lookup keys your buttons use "
                                    "(`catalog sync` prints the line)")
    if allowed == ("*",):
        return Check(label, "warn", "ALLOWED_PRICES is *: any active price in the account can be bought; list "
                                    "yours instead")
    if found is None:
        return Check(label, "warn", NOT_CHECKED)
    if isinstance(found, Failed):
        return Check(label, "fail", f"could not look them up: {found.reason}")
    missing = [ref for ref in allowed if found.get(ref) is None]
    archived = [ref for ref in allowed if (found.get(ref) or {}).get("active") is False]
    problems = ([f"no such price in this account: {', '.join(missing)}"] if missing else []) + \
        ([f"archived: {', '.join(archived)}"] if archived else [])
    if problems:
        return Check(label, "fail", f"{'; '.join(problems)}: fix ALLOWED_PRICES, or create them with "
                                    "`python -m shared catalog sync`")
    return Check(label, "ok", f"{len(allowed)} allowed, each exists and is active")


def check_webhook_endpoint(url: str | None, endpoints: list[dict[str, Any]] | Failed | None) -> Check:
    label = "webhook endpoint"
    if url is None:
        return Check(label, "fail", "cannot tell which endpoint is this deployment's: set SITE_URL or pass "
                                    "--endpoint-url")
    if endpoints is None:
        return Check(label, "warn", NOT_CHECKED)
    if isinstance(endpoints, Failed):
        return Check(label, "warn", f"could not list webhook endpoints: {endpoints.reason} (a restricted key needs "
                                    "read access to Webhook Endpoints)")
    ours = [e for e in endpoints if str(e.get("url", "")).rstrip("/") == url.rstrip("/")]
    if not ours:
        elsewhere = f"others go to {', '.join(str(e.get('url')) for e in endpoints[:2])}" if endpoints else "none yet"
        return Check(label, "fail", f"none sends to {url} ({elsewhere}): add one with the "
                                    f"{len(HANDLED_TYPES)} events of docs/deploy.md (Dashboard → Developers → "
                                    "Webhooks)")
    best = min(ours, key=lambda e: (e.get("status") != "enabled", len(missing_events(e))))
    if best.get("status") != "enabled":
        return Check(label, "fail", f"{best['id']} sends to {url} but is {best.get('status')}: enable it in the "
                                    "Dashboard")
    missing = missing_events(best)
    if missing:
        return Check(label, "fail", f"{best['id']} lacks {len(missing)} event types: {', '.join(missing)}; add "
                                    "them (Dashboard → Webhooks → the endpoint → Update details)")
    enabled = sum(1 for e in ours if e.get("status") == "enabled")
    if enabled > 1:
        return Check(label, "warn", f"{enabled} enabled endpoints send to {url}: each event arrives {enabled} "
                                    "times with different secrets; delete the extras")
    every = "every event type (*)" if "*" in best.get("enabled_events", []) else "all events we handle"
    return Check(label, "ok", f"{best['id']} sends {every} to {url}")


def check_checkout_options(options: CheckoutOptions | Failed,
                           found: dict[str, dict[str, Any] | None] | Failed | None) -> Check:
    """checkout.toml (or CHECKOUT_CONFIG's file) as the API reads it; with the allowed prices (`found`), that its
    inline shipping rates have an amount in each one-time price's currency."""
    label = "checkout options"
    if isinstance(options, Failed):
        return Check(label, "fail", f"{options.reason}; every checkout answers 500 until it is fixed")
    ours = {"expires_after_minutes": options.expires_after_minutes,
            "adjustable_quantity": options.adjustable_every or options.adjustable_by_key}
    named = sorted(options.params) + [name for name, value in ours.items() if value]
    if not named:
        return Check(label, "ok", "none: sessions get Checkout's defaults (add checkout.toml for more)")
    if isinstance(found, dict):
        currencies = sorted({str(p.get("currency")) for p in found.values()
                             if p and p.get("type") != "recurring" and p.get("currency")})
        for currency in currencies:
            try:
                options.session_params("payment", currency, 0)
            except Misconfigured as exc:
                return Check(label, "fail", f"{exc.message}; an allowed price is in {currency.upper()}")
    return Check(label, "ok", f"{options.source}: {', '.join(named)}")


def check_hook(problem: str | None) -> Check:
    """`problem`: why FULFILLMENT_HOOK does not load here (None: it loads)."""
    if problem is not None:
        return Check("fulfilment hook", "fail", f"{problem}; paid orders wait for it (the webhook answers 500)")
    return Check("fulfilment hook", "ok", "FULFILLMENT_HOOK imports and names a function")


def missing_events(endpoint: dict[str, Any]) -> list[str]:
    enabled = set(endpoint.get("enabled_events") or [])
    return [] if "*" in enabled else [t for t in HANDLED_TYPES if t not in enabled]


def report(checks: Iterable[Check]) -> tuple[str, int]:
    """One screen: a line per check, then a summary. Exit code 1 when something must be fixed."""
    checks = list(checks)
    lines = [f"{c.status:5} {c.name:17} {c.message}" for c in checks]
    fails, warns = (sum(1 for c in checks if c.status == s) for s in ("fail", "warn"))
    if fails or warns:
        lines.append(f"\n{fails} to fix, {warns} to look at.")
    else:
        lines.append("\nAll good.")
    return "\n".join(lines), 1 if fails else 0


def _keys(schema: Any) -> list[tuple[str, str]]:
    return sorted((k.get("AttributeName", ""), k.get("KeyType", "")) for k in schema or [])


def _json(body: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(body)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
