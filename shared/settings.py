"""Settings, read once from the environment into one object.

A malformed value is reported by the name of its setting with a hint to fix it; a secret's value is
never part of a message or a repr. A *missing* required value is not an error until something needs
it, so the webhook keeps working when only the checkout settings are wrong, and the other way round.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import Misconfigured
from .stripe_ids import PRICE_REF, PUBLISHABLE_KEY, SECRET_KEY, WEBHOOK_SECRET, Mode, key_mode

_HINTS = {
    "STRIPE_SECRET_KEY": "set it to your secret key (sk_test_… or sk_live_…) from the Stripe Dashboard, "
                         "Developers → API keys",
    "STRIPE_WEBHOOK_SECRET": "set it to the endpoint's signing secret (whsec_…); while rotating, list both, "
                             "comma-separated",
    "ALLOWED_PRICES": "list the price IDs or lookup keys buttons may buy, comma-separated, or write * to allow "
                      "any active price",
    "SITE_URL": "set it to your site's public address, e.g. https://shop.example.com",
    "STRIPE_PUBLISHABLE_KEY": "set it to your publishable key (pk_test_… or pk_live_…) to use embedded Checkout",
    "PROXY_SECRET": "set it to the secret your proxy proves itself with (Netlify: the value of "
                    "STATIC_CHECKOUT_PROXY_SECRET; 32 or more characters), or unset CLIENT_IP_HEADER",
}

# How many times RATE_LIMIT the success page's look-ups may make: a visit makes up to six (public/js/success.js
# polls while a payment is confirmed) and a buyer may reload it, but each look-up still costs a Stripe request.
SUMMARY_RATE_FACTOR = 2
MIN_PROXY_SECRET = 32


@dataclass(frozen=True)
class RateLimit:
    requests: int
    seconds: int

    @classmethod
    def parse(cls, text: str) -> RateLimit | None:
        """`20/60` is 20 requests per 60 s; `off` is none. Raises ValueError otherwise."""
        if text.strip().lower() in ("off", "0", "none"):
            return None
        match = re.fullmatch(r"\s*(\d{1,6})\s*/\s*(\d{1,6})\s*", text)
        if not match or int(match.group(1)) < 1 or int(match.group(2)) < 1:
            raise ValueError(text)
        return cls(int(match.group(1)), int(match.group(2)))

    def times(self, factor: int) -> RateLimit:
        return RateLimit(self.requests * factor, self.seconds)


class Secret:
    """A secret value that does not show itself when printed, logged or formatted."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def _split(raw: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in raw.split(",") if part.strip())


@dataclass(frozen=True)
class Settings:
    stripe_secret_key: Secret | None = None
    stripe_publishable_key: str | None = None
    webhook_secrets: tuple[Secret, ...] = ()
    stripe_api_base: str | None = None
    stripe_timeout: float = 10.0
    site_url: str | None = None
    allowed_prices: tuple[str, ...] | None = None  # None: unset; ("*",): any active price
    dynamodb_table: str = "static-checkout"
    dynamodb_endpoint_url: str | None = None
    aws_region: str | None = None
    email_from: str | None = None
    fulfillment_hook: str | None = None
    cors_origins: tuple[str, ...] = ()
    event_lease_seconds: int = 60
    rate_limit: RateLimit | None = None
    client_ip_header: str | None = None
    proxy_secret: Secret | None = None
    checkout_config: str | None = None  # the checkout options file; None: checkout.toml beside shared/
    cron_secret: Secret | None = None  # Vercel Cron's bearer token for the scheduled route
    present: tuple[str, ...] = field(default=(), compare=False)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = dict(os.environ if environ is None else environ)
        get = lambda name: (env.get(name) or "").strip() or None  # noqa: E731
        problems: list[str] = []

        key = get("STRIPE_SECRET_KEY")
        if key is not None and not SECRET_KEY.fullmatch(key):
            problems.append(f"STRIPE_SECRET_KEY is not a Stripe secret key: {_HINTS['STRIPE_SECRET_KEY']}")
        if key is not None and key.startswith("pk_"):
            problems.append("STRIPE_SECRET_KEY holds a publishable key (pk_…): use the secret key (sk_…)")

        publishable = get("STRIPE_PUBLISHABLE_KEY")
        if publishable is not None and not PUBLISHABLE_KEY.fullmatch(publishable):
            problems.append("STRIPE_PUBLISHABLE_KEY must be a publishable key (pk_test_… or pk_live_…), "
                            "needed only for embedded Checkout")
        publishable_mode, secret_mode = key_mode(publishable or ""), key_mode(key or "")
        if publishable_mode and secret_mode and publishable_mode != secret_mode:
            problems.append("STRIPE_PUBLISHABLE_KEY and STRIPE_SECRET_KEY are from different modes (test and live)")

        hooks = _split(get("STRIPE_WEBHOOK_SECRET") or "")
        if any(not WEBHOOK_SECRET.fullmatch(s) for s in hooks):
            problems.append("STRIPE_WEBHOOK_SECRET has a value that is not a signing secret: "
                            + _HINTS["STRIPE_WEBHOOK_SECRET"])

        site = get("SITE_URL")
        if site is not None:
            site = site.rstrip("/")
            if not re.match(r"^https?://[^/\s?#]+(/[^\s?#]*)?$", site):
                problems.append(f"SITE_URL is not an http(s) address: {_HINTS['SITE_URL']}")

        prices: tuple[str, ...] | None = None
        raw_prices = get("ALLOWED_PRICES")
        if raw_prices is not None:
            prices = _split(raw_prices)
            if "*" in prices and len(prices) > 1:
                problems.append("ALLOWED_PRICES mixes * with a list: write either * alone or the list of prices")
            elif not prices or any(p != "*" and not PRICE_REF.fullmatch(p) for p in prices):
                problems.append("ALLOWED_PRICES has an entry that is not a price ID or lookup key: "
                                + _HINTS["ALLOWED_PRICES"])

        api_base = get("STRIPE_API_BASE")
        if api_base is not None and not re.match(r"^https?://", api_base):
            problems.append("STRIPE_API_BASE must be an http(s) address, e.g. http://127.0.0.1:12111")

        origins = tuple(o.rstrip("/") for o in _split(get("CORS_ORIGINS") or ""))
        timeout = _number(get("STRIPE_TIMEOUT"), "STRIPE_TIMEOUT", 10.0, problems)
        lease = int(_number(get("EVENT_LEASE_SECONDS"), "EVENT_LEASE_SECONDS", 60, problems))

        rate_limit: RateLimit | None = RateLimit(20, 60)
        try:
            rate_limit = RateLimit.parse(get("RATE_LIMIT") or "20/60")
        except ValueError:
            problems.append("RATE_LIMIT must look like 20/60 (requests per seconds), or off")

        ip_header, proxy_secret = get("CLIENT_IP_HEADER"), get("PROXY_SECRET")
        if ip_header is not None and not re.fullmatch(r"[A-Za-z0-9-]{1,64}", ip_header):
            problems.append("CLIENT_IP_HEADER must be a header name, e.g. x-nf-client-connection-ip")
        # A header any caller can send is trusted only on requests our proxy proves it sent (see README → Security).
        if ip_header is not None and proxy_secret is None:
            problems.append(f"CLIENT_IP_HEADER is set but PROXY_SECRET is not: {_HINTS['PROXY_SECRET']}")
        if proxy_secret is not None and len(proxy_secret) < MIN_PROXY_SECRET:
            problems.append(f"PROXY_SECRET is shorter than {MIN_PROXY_SECRET} characters: make a long random one, "
                            "e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`")

        cron = get("CRON_SECRET")
        if cron is not None and len(cron) < 16:
            problems.append("CRON_SECRET must be at least 16 characters (Vercel recommends a random string)")

        hook = get("FULFILLMENT_HOOK")
        if hook is not None and not re.match(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$", hook):
            problems.append("FULFILLMENT_HOOK must look like package.module:function")

        if problems:
            raise Misconfigured("; ".join(problems))
        return cls(
            stripe_secret_key=Secret(key) if key else None,
            stripe_publishable_key=publishable,
            webhook_secrets=tuple(Secret(s) for s in hooks),
            stripe_api_base=api_base.rstrip("/") if api_base else None,
            stripe_timeout=timeout,
            site_url=site,
            allowed_prices=prices,
            dynamodb_table=get("DYNAMODB_TABLE") or "static-checkout",
            dynamodb_endpoint_url=get("DYNAMODB_ENDPOINT_URL"),
            aws_region=get("AWS_REGION") or get("AWS_DEFAULT_REGION"),
            email_from=get("EMAIL_FROM"),
            fulfillment_hook=hook,
            cors_origins=origins,
            event_lease_seconds=lease,
            rate_limit=rate_limit,
            client_ip_header=ip_header.lower() if ip_header else None,
            proxy_secret=Secret(proxy_secret) if proxy_secret else None,
            checkout_config=get("CHECKOUT_CONFIG"),
            cron_secret=Secret(cron) if cron else None,
            present=tuple(sorted(name for name in _KNOWN if get(name) is not None)),
        )

    def require(self, attribute: str) -> Any:
        """The value of a required setting, or `Misconfigured` naming it and how to fix it."""
        value = getattr(self, attribute)
        if value in (None, ()):
            name = _ENV_NAME[attribute]
            raise Misconfigured(f"{name} is not set: {_HINTS[name]}")
        return value

    @property
    def summary_rate_limit(self) -> RateLimit | None:
        """The success page's limit: a multiple of RATE_LIMIT, counted apart from it."""
        return self.rate_limit.times(SUMMARY_RATE_FACTOR) if self.rate_limit is not None else None

    @property
    def stripe_mode(self) -> Mode | None:
        """`test` or `live`, as the secret key says; None without one."""
        return key_mode(self.stripe_secret_key.reveal()) if self.stripe_secret_key is not None else None


def _number(raw: str | None, name: str, default: float, problems: list[str]) -> float:
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1
    if value <= 0:
        problems.append(f"{name} must be a positive number")
        return default
    return value


_ENV_NAME = {
    "stripe_secret_key": "STRIPE_SECRET_KEY",
    "webhook_secrets": "STRIPE_WEBHOOK_SECRET",
    "allowed_prices": "ALLOWED_PRICES",
    "site_url": "SITE_URL",
    "stripe_publishable_key": "STRIPE_PUBLISHABLE_KEY",
}

_KNOWN = (
    "STRIPE_SECRET_KEY", "STRIPE_PUBLISHABLE_KEY", "STRIPE_WEBHOOK_SECRET", "STRIPE_API_BASE", "STRIPE_TIMEOUT",
    "SITE_URL",
    "ALLOWED_PRICES", "DYNAMODB_TABLE", "DYNAMODB_ENDPOINT_URL", "AWS_REGION", "EMAIL_FROM",
    "FULFILLMENT_HOOK", "CORS_ORIGINS", "EVENT_LEASE_SECONDS", "RATE_LIMIT", "CLIENT_IP_HEADER", "PROXY_SECRET",
    "CHECKOUT_CONFIG", "CRON_SECRET",
)


def read_dotenv(path: str | os.PathLike[str] = ".env", environ: dict[str, str] | None = None) -> list[str]:
    """Load `KEY=value` lines from a .env file into the environment, for local runs only.

    Values already in the environment win, as with every .env loader people know. Returns the names set.
    """
    target = os.environ if environ is None else environ
    file = Path(path)
    if not file.is_file():
        return []
    loaded = []
    for line in file.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        name, _, value = line.removeprefix("export ").partition("=")
        name, value = name.strip(), value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        if name and name not in target:
            target[name] = value
            loaded.append(name)
    return loaded
