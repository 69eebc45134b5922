"""The seller's Checkout options on a new session: what Stripe refuses (an option the mode does not take,
a lifetime outside 30 minutes to 24 hours, a shipping rate in another currency, …) and the session fields
they become. The typed definitions already refused any name or value they lack (`params`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import _objects
from ._errors import StripeError, no_such

if TYPE_CHECKING:
    from ._store import Store

JSON = dict[str, Any]
# Stripe takes these in payment mode only.
_PAYMENT_ONLY = ("shipping_options", "invoice_creation")
_TEXTS = ("after_submit", "shipping_address", "submit", "terms_of_service_acceptance")


def check_metadata(metadata: JSON, param: str = "metadata") -> None:
    """Stripe's limits on metadata: 50 keys, keys of 40 characters, values of 500."""
    if len(metadata) > 50:
        raise StripeError("You can have up to 50 metadata keys.", param=param)
    for key, value in metadata.items():
        if len(key) > 40:
            raise StripeError(f"Metadata keys can have up to 40 characters; {key!r} has {len(key)}.",
                              param=f"{param}[{key}]")
        if isinstance(value, str) and len(value) > 500:
            raise StripeError(f"Metadata values can have up to 500 characters, but you passed in a value that is "
                              f"{len(value)} characters long.", param=f"{param}[{key}]")


def session_fields(store: Store, params: JSON, *, mode: str, currency: str, created: int) -> JSON:
    """Check the options against Stripe's rules; the session fields they set (shipping rates are made)."""
    for name in _PAYMENT_ONLY:
        if name in params and mode != "payment":
            raise StripeError(f"`{name}` can only be used in `payment` mode.", param=name)
    submit = params.get("submit_type")
    if submit is not None and (submit == "subscribe") != (mode == "subscription") and submit != "auto":
        raise StripeError(f"`submit_type={submit}` cannot be used in `{mode}` mode.", param="submit_type")
    if "expires_at" in params and not created + 1800 <= params["expires_at"] <= created + 86400:
        raise StripeError("The `expires_at` timestamp must be between 30 minutes and 24 hours from Checkout "
                          "Session creation.", param="expires_at")
    texts = params.get("custom_text", {})
    if "shipping_address" in texts and "shipping_address_collection" not in params:
        raise StripeError("`custom_text[shipping_address]` requires `shipping_address_collection`.",
                          param="custom_text[shipping_address]")
    consent = params.get("consent_collection")
    if "terms_of_service_acceptance" in texts and (consent or {}).get("terms_of_service") != "required":
        raise StripeError("`custom_text[terms_of_service_acceptance]` requires "
                          "`consent_collection[terms_of_service]=required`.",
                          param="custom_text[terms_of_service_acceptance]")
    automatic = params.get("automatic_tax", {}).get("enabled", False)
    tax_ids = params.get("tax_id_collection")
    phone = params.get("phone_number_collection")
    recovery = params.get("after_expiration", {}).get("recovery")
    configuration = params.get("payment_method_configuration")
    fields: JSON = {
        "allow_promotion_codes": params.get("allow_promotion_codes"),
        "shipping_address_collection": params.get("shipping_address_collection"),
        "shipping_options": _shipping_options(store, params.get("shipping_options", []), currency),
        "automatic_tax": {"enabled": automatic, "liability": {"type": "self"} if automatic else None,
                          "status": "requires_location_inputs" if automatic else None,
                          "provider": "stripe" if automatic else None},
        "tax_id_collection": None if tax_ids is None else {"enabled": tax_ids["enabled"],
                                                           "required": tax_ids.get("required", "never")},
        "phone_number_collection": {"enabled": bool(phone and phone["enabled"])},
        "consent_collection": None if consent is None else {
            "payment_method_reuse_agreement": None, "promotions": consent.get("promotions"),
            "terms_of_service": consent.get("terms_of_service")},
        "custom_fields": _custom_fields(params.get("custom_fields", [])),
        "custom_text": {name: texts.get(name) for name in _TEXTS},
        "payment_method_configuration_details": None if configuration is None else {"id": configuration,
                                                                                    "parent": None},
        "after_expiration": None if recovery is None else {"recovery": {
            "enabled": recovery["enabled"], "allow_promotion_codes": recovery.get("allow_promotion_codes", False),
            "expires_at": None, "url": None}},
    }
    if mode == "payment":
        enabled = params.get("invoice_creation", {}).get("enabled", False)
        fields["invoice_creation"] = {**_objects.fixture("checkout.session")["invoice_creation"], "enabled": enabled}
    return fields


def check_adjustable(item: JSON, path: str) -> JSON | None:
    """A line's `adjustable_quantity`, as Stripe keeps it, once its bounds are checked."""
    adjustable = item.get("adjustable_quantity")
    if adjustable is None:
        return None
    least, most = adjustable.get("minimum", 0), adjustable.get("maximum", 99)
    at = f"{path}[adjustable_quantity]"
    if not 0 <= least <= most <= 999_999:
        raise StripeError(f"Invalid {at}: minimum must be at least 0 and at most maximum, and maximum at most "
                          "999999.", param=at)
    if adjustable["enabled"] and not least <= item["quantity"] <= most:
        raise StripeError(f"Invalid {path}[quantity]: it must be between the adjustable minimum ({least}) and "
                          f"maximum ({most}).", param=f"{path}[quantity]")
    return {"enabled": adjustable["enabled"], "minimum": adjustable.get("minimum"),
            "maximum": adjustable.get("maximum")}


def _shipping_options(store: Store, options: list[JSON], currency: str) -> list[JSON]:
    if len(options) > 5:
        raise StripeError("You can provide up to 5 shipping options.", param="shipping_options")
    made = []
    for index, option in enumerate(options):
        at = f"shipping_options[{index}]"
        if ("shipping_rate" in option) == ("shipping_rate_data" in option):
            raise StripeError(f"You must provide exactly one of `{at}[shipping_rate]` or `{at}[shipping_rate_data]`.",
                              param=at)
        if "shipping_rate" in option:
            rate = store.shipping_rates.get(option["shipping_rate"])
            if rate is None:
                raise no_such("shipping_rate", option["shipping_rate"], param=f"{at}[shipping_rate]", status=400)
        else:
            data = option["shipping_rate_data"]
            if "fixed_amount" not in data:
                raise StripeError(f"Missing required param: {at}[shipping_rate_data][fixed_amount].",
                                  param=f"{at}[shipping_rate_data][fixed_amount]")
            rate = _objects.shipping_rate(
                display_name=data["display_name"], amount=data["fixed_amount"]["amount"],
                currency=data["fixed_amount"]["currency"], delivery_estimate=data.get("delivery_estimate"),
                tax_behavior=data.get("tax_behavior", "unspecified"), tax_code=data.get("tax_code"),
                metadata=data.get("metadata", {}))
            if "currency_options" in data["fixed_amount"]:
                rate["fixed_amount"]["currency_options"] = data["fixed_amount"]["currency_options"]
            store.shipping_rates[rate["id"]] = rate
        made.append({"shipping_amount": _amount_in(rate, currency, at), "shipping_rate": rate["id"]})
    return made


def _amount_in(rate: JSON, currency: str, at: str) -> int:
    fixed = rate["fixed_amount"]
    if fixed["currency"] == currency:
        return int(fixed["amount"])
    other = (fixed.get("currency_options") or {}).get(currency)
    if other is None:
        raise StripeError(f"The shipping rate in {at} has no amount in {currency}, the currency of this Checkout "
                          "Session.", param=at)
    return int(other["amount"])


def _custom_fields(fields: list[JSON]) -> list[JSON]:
    if len(fields) > 3:
        raise StripeError("You can provide up to 3 custom fields.", param="custom_fields")
    keys = [custom["key"] for custom in fields]
    if len(set(keys)) < len(keys):
        raise StripeError("Custom field keys must be unique.", param="custom_fields")
    made = []
    for index, custom in enumerate(fields):
        kind = custom["type"]
        if kind == "dropdown" and "dropdown" not in custom:
            raise StripeError(f"Missing required param: custom_fields[{index}][dropdown].",
                              param=f"custom_fields[{index}][dropdown]")
        lengths = {"default_value": None, "maximum_length": None, "minimum_length": None, "value": None}
        made.append({
            "key": custom["key"], "label": {"type": "custom", "custom": custom["label"]["custom"]}, "type": kind,
            "optional": custom.get("optional", False),
            "dropdown": None if kind != "dropdown" else {
                "default_value": custom["dropdown"].get("default_value"), "value": None,
                "options": [{"label": o["label"], "value": o["value"]} for o in custom["dropdown"]["options"]]},
            "numeric": None if kind != "numeric" else {**lengths, **custom.get("numeric", {})},
            "text": None if kind != "text" else {**lengths, **custom.get("text", {})},
        })
    return made
