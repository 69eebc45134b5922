"""The seller's catalog file: what is for sale, validated, in Stripe's units. Pure.

`read` loads the YAML file (PyYAML is a command-line dependency only; nothing the deployed function
imports needs it) and `parse` validates the plain data. Every problem is reported at once, each naming the
item (by lookup key, or position when it has none) and the field, so one edit fixes the file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from ..money import THREE_DECIMAL, exponent
from ..stripe_ids import PRICE_REF

INTERVALS = ("day", "week", "month", "year")
# Stripe counts these in thousandths, and their amounts must end in 0.
# Two decimals in the API for backwards compatibility, but the decimals must be 00.
WHOLE_TWO_DECIMAL = frozenset({"isk"})
MAX_TRIAL_DAYS = 730  # Stripe's limit on subscription_data.trial_period_days
MAX_IMAGES = 8  # Stripe's limit on a product's images
MAX_INTERVAL_COUNT = {"day": 1095, "week": 156, "month": 36, "year": 3}  # Stripe's three-year cap
MAX_STOCK = 10_000_000

# The product and price a catalog item owns carry its key here, so a later sync finds them.
KEY_METADATA = "static_checkout_key"
# Trials belong to the Checkout Session (subscription_data.trial_period_days), not the price:
# the catalog records the days on the price for checkout to read.
TRIAL_METADATA = "trial_period_days"

_CURRENCY = re.compile(r"^[a-z]{3}$")
_ART = re.compile(r"^[a-z0-9][a-z0-9-]{0,40}$")
_FIELDS = {"lookup_key", "name", "description", "images", "amount", "currency", "interval", "interval_count",
           "trial_days", "art", "checkout", "stock"}


class CatalogError(ValueError):
    """Everything wrong with a catalog, one problem a line."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Item:
    lookup_key: str
    name: str
    unit_amount: int  # in the currency's minor unit, as Stripe counts it
    currency: str
    description: str | None = None
    images: tuple[str, ...] = ()
    interval: str | None = None  # None: a one-time price
    interval_count: int = 1
    trial_days: int | None = None
    art: str | None = None  # the page's card picture: a `card-art--…` class in public/css/site.css
    embedded: bool = False  # Checkout inside the page rather than on Stripe's
    stock: int | None = None  # units in all (on sale, in checkouts and sold); None: unlimited, or set by hand

    @property
    def recurring(self) -> dict[str, Any] | None:
        return None if self.interval is None else {"interval": self.interval, "interval_count": self.interval_count}


@dataclass(frozen=True)
class Catalog:
    items: tuple[Item, ...]
    title: str = "Our store"
    lead: str | None = None


def read(path: Path) -> Catalog:
    """The catalog in a YAML file, or CatalogError."""
    # PyYAML is a command-line dependency, imported by the catalog command alone: nothing the
    # deployed function imports may need it.
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CatalogError([f"cannot read it: {exc.strerror}"]) from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise CatalogError([f"not valid YAML{where}: {getattr(exc, 'problem', None) or exc}"]) from exc
    return parse(data)


def minor_units(amount: Any, currency: str) -> int:
    """`amount` in major units (15, 15.5, "15.50") as Stripe's integer, or ValueError saying why not."""
    if isinstance(amount, bool) or not isinstance(amount, (int, float, str)):
        raise ValueError("must be a number, e.g. 15.00")
    try:
        # str() first: YAML's 19.99 is a float, and Decimal(19.99) would carry its binary error.
        value = Decimal(str(amount).strip())
    except InvalidOperation:
        raise ValueError(f"{amount} is not a number, e.g. 15.00") from None
    if not value.is_finite() or value < 0:
        raise ValueError(f"{amount} must be zero or more")
    places = exponent(currency)
    scaled = value.scaleb(places)
    if scaled != scaled.to_integral_value():
        unit = "whole amounts" if places == 0 else f"at most {places} decimals"
        raise ValueError(f"{amount}: {currency.upper()} takes {unit}")
    units = int(scaled)
    if currency in THREE_DECIMAL and units % 10:
        raise ValueError(f"{amount}: Stripe needs {currency.upper()} amounts to end in 0 (e.g. 1.230)")
    if currency in WHOLE_TWO_DECIMAL and units % 100:
        raise ValueError(f"{amount}: {currency.upper()} takes whole amounts")
    return units


def parse(data: Any) -> Catalog:
    """The catalog in `data` (a loaded YAML document), or CatalogError listing every problem."""
    if isinstance(data, list):
        data = {"items": data}
    if not isinstance(data, dict) or not isinstance(data.get("items"), list) or not data["items"]:
        raise CatalogError(["the catalog needs a list of items under `items:`"])
    problems: list[str] = []
    default_currency = data.get("currency", "usd")
    if not isinstance(default_currency, str) or not _CURRENCY.match(default_currency.lower()):
        problems.append("currency: must be a three-letter currency code, e.g. usd")
        default_currency = "usd"
    items: list[Item] = []
    seen: set[str] = set()
    for position, raw in enumerate(data["items"], start=1):
        item = _item(raw, position, default_currency.lower(), problems)
        if item is None:
            continue
        if item.lookup_key in seen:
            problems.append(f"item {item.lookup_key}: lookup_key is used by another item; each needs its own")
        seen.add(item.lookup_key)
        items.append(item)
    title, lead = data.get("title", "Our store"), data.get("lead")
    if not isinstance(title, str) or not title.strip():
        problems.append("title: must be text")
    if lead is not None and not isinstance(lead, str):
        problems.append("lead: must be text")
    if problems:
        raise CatalogError(problems)
    return Catalog(tuple(items), title=title.strip(), lead=lead)


def _item(raw: Any, position: int, default_currency: str, problems: list[str]) -> Item | None:
    if not isinstance(raw, dict):
        problems.append(f"item {position}: must be a mapping of fields (lookup_key, name, amount, …)")
        return None
    key = raw.get("lookup_key")
    label = f"item {key}" if isinstance(key, str) and key else f"item {position}"
    before = len(problems)

    def problem(field: str, message: str) -> None:
        problems.append(f"{label}: {field}: {message}")

    for unknown in sorted(set(raw) - _FIELDS, key=str):
        problem(str(unknown), f"unknown field; expected one of {', '.join(sorted(_FIELDS))}")
    # A lookup key is what ALLOWED_PRICES and the buy endpoint accept as a price reference.
    if not isinstance(key, str) or not PRICE_REF.fullmatch(key):
        problem("lookup_key", "required: letters, digits and _ . : - (at most 200), e.g. tshirt-2026")
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        problem("name", "required text")
    description = raw.get("description")
    if description is not None and (not isinstance(description, str) or not description.strip()):
        problem("description", "must be text (leave it out for none)")
    currency = raw.get("currency", default_currency)
    if not isinstance(currency, str) or not _CURRENCY.match(currency.lower()):
        problem("currency", "must be a three-letter currency code, e.g. usd")
        currency = "usd"
    currency = currency.lower()
    unit_amount = 0
    if "amount" not in raw:
        problem("amount", "required: the price in major units, e.g. 15.00")
    else:
        try:
            unit_amount = minor_units(raw["amount"], currency)
        except ValueError as exc:
            problem("amount", str(exc))
    images = raw.get("images", [])
    if not isinstance(images, list) or not all(isinstance(i, str) and re.match(r"^https?://\S+$", i) for i in images):
        problem("images", "must be a list of http(s) image addresses")
        images = []
    elif len(images) > MAX_IMAGES:
        problem("images", f"Stripe takes at most {MAX_IMAGES}")
    interval = raw.get("interval")
    if interval is not None and interval not in INTERVALS:
        problem("interval", f"{interval!r} is not one of {', '.join(INTERVALS)} (leave it out for a one-time price)")
        interval = None
    count = _whole(raw.get("interval_count", 1), "interval_count", problem)
    if "interval_count" in raw and raw.get("interval") is None:
        problem("interval_count", "needs an interval")
    elif interval is not None and count is not None and not 1 <= count <= MAX_INTERVAL_COUNT[interval]:
        problem("interval_count", f"must be 1 to {MAX_INTERVAL_COUNT[interval]} for {interval} (three years at most)")
    trial = _whole(raw.get("trial_days"), "trial_days", problem)
    if trial is not None and raw.get("interval") is None:
        problem("trial_days", "only a recurring item (with an interval) can have a trial")
    elif trial is not None and not 1 <= trial <= MAX_TRIAL_DAYS:
        problem("trial_days", f"must be 1 to {MAX_TRIAL_DAYS}")
    art = raw.get("art")
    if art is not None and (not isinstance(art, str) or not _ART.match(art)):
        problem("art", "must be a short class name: lowercase letters, digits and -")
    stock = _whole(raw.get("stock"), "stock", problem)
    if stock is not None and not 0 <= stock <= MAX_STOCK:
        problem("stock", f"must be 0 to {MAX_STOCK:,} units (leave it out for no limit)")
    checkout = raw.get("checkout", "hosted")
    if checkout not in ("hosted", "embedded"):
        problem("checkout", "must be hosted (Stripe's page, the default) or embedded (inside your page)")
    if len(problems) > before:
        return None
    return Item(lookup_key=str(key), name=str(name).strip(), unit_amount=unit_amount, currency=currency,
                description=description.strip() if description else None, images=tuple(images),
                interval=interval, interval_count=count or 1, trial_days=trial, art=art,
                embedded=checkout == "embedded", stock=stock)


def _whole(value: Any, field: str, problem: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        problem(field, f"{value!r} must be a whole number")
        return None
    return value
