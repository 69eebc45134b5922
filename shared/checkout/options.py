"""The seller's Checkout options, declared once in `checkout.toml` and added to every Checkout Session.

The file's keys are Stripe's own Checkout Session parameter names (`allow_promotion_codes`,
`shipping_address_collection.allowed_countries`, `shipping_options`, `automatic_tax.enabled`, …), so
Stripe's documentation of each applies unchanged. Three keys are ours:

- `expires_after_minutes` (30 to 1440): the session's lifetime, sent as `expires_at`, and how long a
  checkout holds limited stock (30 when not set: then Stripe's default lifetime is cut to the hold's);
- `restock_on_refund` (default false): whether a refund puts the units back on sale;
- `adjustable_quantity`: `line_items[].adjustable_quantity` for every line, and under a lookup key
  (`[adjustable_quantity.tshirt]`) for that price's line.

Read strictly: an unknown key, a value of the wrong type, or one Stripe would refuse is `Misconfigured`,
naming the key, and nothing is sent. An option Stripe takes in one mode only is left out of the other
mode's sessions. Parsing and applying are pure; `load` reads the file (with the standard library's tomllib).
"""

from __future__ import annotations

import copy
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import Code, InvalidRequest, Misconfigured
from ..stripe_ids import PRICE_REF
from ._stripe_values import COUNTRIES, LOCALES
from ._validate import Check, Invalid, array, flag, key, one_of, table, text, whole

CONFIG_FILE = "checkout.toml"
SETTING = "CHECKOUT_CONFIG"
DEFAULT_PATH = Path(__file__).resolve().parents[2] / CONFIG_FILE  # beside shared/, in every bundle
# Options Stripe takes in payment mode only: a subscription's session leaves them out. `submit_type` is
# sent where its value applies: `subscribe` to subscriptions, the others to payments.
PAYMENT_ONLY = ("customer_creation", "invoice_creation", "shipping_options")
MIN_LIFETIME, MAX_LIFETIME = 30, 1440  # minutes: Stripe's bounds on a session's expires_at
DEFAULT_HOLD_MINUTES = MIN_LIFETIME  # a limited checkout holds its units no longer than Stripe must keep it open
DEFAULT_MAXIMUM = 99  # Stripe's, for an adjustable quantity

_CURRENCY = text(3, r"[a-z]{3}", "a three-letter currency code in lowercase, e.g. usd")
_AMOUNT = whole(0, 99_999_999)
_TAX_BEHAVIOR = one_of(("exclusive", "inclusive", "unspecified"))
_MESSAGE = table({"message": text(1200)}, required=["message"])
_ESTIMATE = table({"unit": one_of(("business_day", "day", "hour", "month", "week")), "value": whole(1, 10_000)},
                  required=["unit", "value"])
_RATE_DATA = table({
    "display_name": text(100),
    "type": one_of(("fixed_amount",)),
    "fixed_amount": table({
        "amount": _AMOUNT, "currency": _CURRENCY,
        "currency_options": table({}, each=table({"amount": _AMOUNT, "tax_behavior": _TAX_BEHAVIOR},
                                                 required=["amount"]), keys=_CURRENCY),
    }, required=["amount", "currency"]),
    "delivery_estimate": table({"minimum": _ESTIMATE, "maximum": _ESTIMATE}),
    "tax_behavior": _TAX_BEHAVIOR,
    "tax_code": text(20, r"txcd_[0-9]{8}", "a tax code ID, e.g. txcd_92010001"),
    "metadata": table({}, each=text(500)),
}, required=["display_name", "fixed_amount"])
_LENGTHS = {"minimum_length": whole(0, 255), "maximum_length": whole(1, 255), "default_value": text(255)}
_CUSTOM_FIELD = table({
    "key": text(200, r"[A-Za-z0-9]+", "letters and digits only"),
    "label": table({"type": one_of(("custom",)), "custom": text(50)}, required=["type", "custom"]),
    "type": one_of(("dropdown", "numeric", "text")),
    "optional": flag,
    "dropdown": table({
        "options": array(table({"label": text(100), "value": text(100, r"[A-Za-z0-9]+", "letters and digits only")},
                               required=["label", "value"]), most=200),
        "default_value": text(100),
    }, required=["options"]),
    "numeric": table(_LENGTHS),
    "text": table(_LENGTHS),
}, required=["key", "label", "type"])
_ENABLED = table({"enabled": flag}, required=["enabled"])
_COUNTRIES = array(one_of(COUNTRIES, hint="a country code Stripe ships to, e.g. US"), most=250)
_ADJUSTABLE = {"enabled": flag, "minimum": whole(0, 999_999), "maximum": whole(1, 999_999)}

# Every Stripe parameter the file may set, and what Stripe accepts for it.
STRIPE_OPTIONS: dict[str, Check] = {
    "allow_promotion_codes": flag,
    "billing_address_collection": one_of(("auto", "required")),
    "shipping_address_collection": table({"allowed_countries": _COUNTRIES}, required=["allowed_countries"]),
    "shipping_options": array(table({"shipping_rate": text(255, r"shr_[A-Za-z0-9_]+", "a shipping rate ID (shr_…)"),
                                     "shipping_rate_data": _RATE_DATA}), most=5),
    "automatic_tax": _ENABLED,
    "tax_id_collection": table({"enabled": flag, "required": one_of(("if_supported", "never"))}, required=["enabled"]),
    "phone_number_collection": _ENABLED,
    "consent_collection": table({"terms_of_service": one_of(("none", "required")),
                                 "promotions": one_of(("auto", "none"))}),
    "custom_fields": array(_CUSTOM_FIELD, most=3),
    "custom_text": table({name: _MESSAGE for name in
                          ("after_submit", "shipping_address", "submit", "terms_of_service_acceptance")}),
    "submit_type": one_of(("auto", "book", "donate", "pay", "subscribe")),
    "locale": one_of(LOCALES),
    "customer_creation": one_of(("always", "if_required")),
    "invoice_creation": _ENABLED,
    "payment_method_configuration": text(255, r"pmc_[A-Za-z0-9_]+", "a payment method configuration ID (pmc_…)"),
    "after_expiration": table({"recovery": table({"enabled": flag, "allow_promotion_codes": flag},
                                                 required=["enabled"])}, required=["recovery"]),
}
OUR_OPTIONS = ("expires_after_minutes", "adjustable_quantity", "restock_on_refund")


@dataclass(frozen=True)
class CheckoutOptions:
    """What `checkout.toml` declares; the default (no file) adds nothing to a session."""

    params: dict[str, Any] = field(default_factory=dict)  # Stripe's parameters, as the file sets them
    expires_after_minutes: int | None = None
    adjustable_every: dict[str, Any] | None = None  # adjustable_quantity for every line
    adjustable_by_key: dict[str, dict[str, Any]] = field(default_factory=dict)  # … per lookup key
    source: str = CONFIG_FILE
    restock_on_refund: bool = False

    @property
    def hold_minutes(self) -> int:
        """How long a checkout holds limited stock: the session's lifetime, else the shortest Stripe allows."""
        return self.expires_after_minutes or DEFAULT_HOLD_MINUTES

    def session_params(self, mode: str, currency: str, now: float) -> dict[str, Any]:
        """The session-level parameters for a cart in this mode and currency, made `now` (Unix seconds)."""
        params = copy.deepcopy(self.params)
        if mode != "payment":
            for name in PAYMENT_ONLY:
                params.pop(name, None)
        if "submit_type" in params and (params["submit_type"] == "subscribe") != (mode == "subscription"):
            del params["submit_type"]
        for index, option in enumerate(params.get("shipping_options", [])):
            amount = (option.get("shipping_rate_data") or {}).get("fixed_amount")
            if amount and currency != amount["currency"] and currency not in amount.get("currency_options", {}):
                raise Misconfigured(f"{self.source}: shipping_options[{index}].shipping_rate_data.fixed_amount has no "
                                    f"amount in {currency.upper()}, the currency of this cart (add it under "
                                    "currency_options)")
        if self.expires_after_minutes is not None:
            params["expires_at"] = expires_at(now, self.expires_after_minutes)
        return params

    def adjustable_quantity(self, lookup_key: str | None, quantity: int, line: int | None) -> dict[str, Any] | None:
        """`adjustable_quantity` for a line of this price, or None; a quantity outside its bounds is a 400."""
        rule = self.adjustable_by_key.get(lookup_key or "", self.adjustable_every)
        if not rule or not rule["enabled"]:
            return None
        least, most = max(1, rule.get("minimum", 0)), rule.get("maximum", DEFAULT_MAXIMUM)
        if not least <= quantity <= most:
            where = f"Line {line}: " if line is not None else ""
            raise InvalidRequest(f"{where}quantity must be from {least} to {most} for this item.",
                                 code=Code.INVALID_QUANTITY, line=line)
        return dict(rule)


def expires_at(now: float, minutes: int) -> int:
    """`expires_at` for a session made `now` that should last `minutes`.

    A whole minute, one to two minutes past `now + minutes`: a retried click in the same minute sends the
    same parameters (and so gets the same session), and the session still lasts at least 30 minutes when
    Stripe makes it a moment later. Never more than 24 hours from now, Stripe's limit.
    """
    next_minute = (int(now) // 60 + 1) * 60
    return next_minute + 60 * (min(minutes, MAX_LIFETIME - 2) + 1)


def parse(data: Any, source: str = CONFIG_FILE) -> CheckoutOptions:
    """The options in a parsed `checkout.toml`, or Misconfigured naming the first key that is wrong."""
    try:
        return _parse(data, source)
    except Invalid as exc:
        raise Misconfigured(f"{source}: {exc.path} {exc.problem}") from None


def load(setting: str | None) -> CheckoutOptions:
    """The options of the file CHECKOUT_CONFIG names, else of `checkout.toml` beside `shared/` (none if absent)."""
    path = Path(setting) if setting else DEFAULT_PATH
    source = CONFIG_FILE if not setting else f"{SETTING} ({setting})"
    try:
        content = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if setting:
            raise Misconfigured(f"{SETTING} names {setting}, which does not exist: set it to your checkout options "
                                f"file, or remove it to use {CONFIG_FILE}") from None
        return CheckoutOptions()
    except (OSError, UnicodeDecodeError) as exc:
        raise Misconfigured(f"{source} cannot be read as UTF-8 text: {type(exc).__name__}") from None
    try:
        data = tomllib.loads(content)
    except tomllib.TOMLDecodeError as exc:
        raise Misconfigured(f"{source} is not valid TOML: {exc}") from None
    return parse(data, source)


def _parse(data: Any, source: str) -> CheckoutOptions:
    if not isinstance(data, dict):
        raise Invalid("(the file)", "must be a table")
    checked = table({**STRIPE_OPTIONS, **{name: _any for name in OUR_OPTIONS}})(data, "")
    params = {name: value for name, value in checked.items() if name in STRIPE_OPTIONS}
    _check_together(params)
    lifetime = data.get("expires_after_minutes")
    if lifetime is not None:
        whole(MIN_LIFETIME, MAX_LIFETIME)(lifetime, "expires_after_minutes")
    restock = data.get("restock_on_refund", False)
    flag(restock, "restock_on_refund")
    every, by_key = _adjustable(data.get("adjustable_quantity"))
    return CheckoutOptions(params, lifetime, every, by_key, source, restock)


def _any(value: Any, path: str) -> Any:
    return value


def _check_together(params: dict[str, Any]) -> None:
    """What Stripe refuses in a combination of values, each valid alone."""
    for index, option in enumerate(params.get("shipping_options", [])):
        if ("shipping_rate" in option) == ("shipping_rate_data" in option):
            raise Invalid(f"shipping_options[{index}]", "must have either shipping_rate or shipping_rate_data")
    seen: set[str] = set()
    for index, custom in enumerate(params.get("custom_fields", [])):
        where = f"custom_fields[{index}]"
        if custom["key"] in seen:
            raise Invalid(f"{where}.key", "is used by another custom field; each needs its own")
        seen.add(custom["key"])
        for kind in ("dropdown", "numeric", "text"):
            if kind in custom and custom["type"] != kind:
                raise Invalid(key(where, kind), f"is only for a field of type {kind}")
        if custom["type"] == "dropdown":
            if "dropdown" not in custom:
                raise Invalid(key(where, "dropdown"), "is required for a field of type dropdown")
            values = [option["value"] for option in custom["dropdown"]["options"]]
            if len(set(values)) < len(values):
                raise Invalid(f"{where}.dropdown.options", "must have a different value each")
            default = custom["dropdown"].get("default_value")
            if default is not None and default not in values:
                raise Invalid(f"{where}.dropdown.default_value", "must be the value of one of the options")
        lengths = custom.get(custom["type"]) or {}
        if lengths.get("minimum_length", 0) > lengths.get("maximum_length", 255):
            raise Invalid(f"{where}.{custom['type']}.minimum_length", "must not be over maximum_length")
    texts = params.get("custom_text", {})
    if "shipping_address" in texts and "shipping_address_collection" not in params:
        raise Invalid("custom_text.shipping_address", "needs shipping_address_collection")
    if "terms_of_service_acceptance" in texts and \
            params.get("consent_collection", {}).get("terms_of_service") != "required":
        raise Invalid("custom_text.terms_of_service_acceptance",
                      'needs consent_collection.terms_of_service = "required"')


def _adjustable(value: Any) -> tuple[dict[str, Any] | None, dict[str, dict[str, Any]]]:
    path = "adjustable_quantity"
    if value is None:
        return None, {}
    if not isinstance(value, dict):
        raise Invalid(path, "must be a table")
    own = {name: entry for name, entry in value.items() if name in _ADJUSTABLE}
    every = _adjustable_rule(own, path) if own else None
    by_key = {}
    for name, rule in value.items():
        if name in _ADJUSTABLE:
            continue
        if not PRICE_REF.fullmatch(name) or not isinstance(rule, dict):
            raise Invalid(key(path, name), "must be enabled, minimum, maximum, or a table for one lookup key")
        by_key[name] = _adjustable_rule(rule, key(path, name))
    return every, by_key


def _adjustable_rule(value: dict[str, Any], path: str) -> dict[str, Any]:
    rule: dict[str, Any] = table(_ADJUSTABLE, required=["enabled"])(value, path)
    if rule.get("minimum", 0) > rule.get("maximum", DEFAULT_MAXIMUM):
        raise Invalid(key(path, "minimum"), "must not be over maximum (99 when not given)")
    return rule
