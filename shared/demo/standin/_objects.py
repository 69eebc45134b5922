"""Build response objects from Stripe's published fixtures, so they have every field Stripe sends.

`fixtures3.json` is Stripe's `openapi/fixtures3.json`, vendored so a clean clone needs nothing
outside the repository. Fixture values are placeholders (huge amounts, "message" texts), so each
builder overrides every field a caller could reasonably read.
"""

from __future__ import annotations

import copy
import functools
import json
import secrets
import string
import time
from pathlib import Path
from typing import Any

import stripe

_ALNUM = string.ascii_letters + string.digits


@functools.cache
def _resources() -> dict[str, Any]:
    text = Path(__file__).with_name("fixtures3.json").read_text(encoding="utf-8")
    resources: dict[str, Any] = json.loads(text)["resources"]
    return resources


def fixture(resource: str) -> dict[str, Any]:
    """A private deep copy of Stripe's example object for `resource` (e.g. "charge")."""
    return copy.deepcopy(_resources()[resource])


def new_id(prefix: str, length: int = 24) -> str:
    return prefix + "".join(secrets.choice(_ALNUM) for _ in range(length))


def now() -> int:
    return int(time.time())


def product(*, name: str, id: str | None = None) -> dict[str, Any]:
    obj = fixture("product")
    created = now()
    obj.update(
        id=id or new_id("prod_", 14),
        name=name,
        description=None,
        default_price=None,
        images=[],
        metadata={},
        package_dimensions=None,
        created=created,
        updated=created,
    )
    return obj


def price(
    *,
    product_id: str,
    unit_amount: int,
    currency: str,
    recurring: dict[str, Any] | None,
    lookup_key: str | None,
    active: bool,
    id: str | None = None,
) -> dict[str, Any]:
    obj = fixture("price")
    if recurring is not None:
        recurring = {**obj["recurring"], "interval_count": 1, **recurring}
    obj.update(
        id=id or new_id("price_"),
        product=product_id,
        unit_amount=unit_amount,
        unit_amount_decimal=str(unit_amount),
        currency=currency,
        recurring=recurring,
        type="one_time" if recurring is None else "recurring",
        lookup_key=lookup_key,
        active=active,
        custom_unit_amount=None,
        transform_quantity=None,
        created=now(),
    )
    return obj


def line_item(*, price: dict[str, Any], quantity: int, description: str) -> dict[str, Any]:
    obj = fixture("item")
    amount = price["unit_amount"] * quantity
    obj.update(
        id=new_id("li_"),
        description=description,
        quantity=quantity,
        price=copy.deepcopy(price),
        currency=price["currency"],
        amount_subtotal=amount,
        amount_total=amount,
        amount_discount=0,
        amount_tax=0,
        adjustable_quantity=None,
        metadata={},
    )
    return obj


def session(
    *, base_url: str, params: dict[str, Any], line_items: list[dict[str, Any]]
) -> dict[str, Any]:
    obj = fixture("checkout.session")
    id = new_id("cs_test_", 58)
    mode = params.get("mode", "payment")
    ui_mode = params.get("ui_mode", "hosted_page")
    hosted = ui_mode == "hosted_page"
    created = now()
    amount = sum(item["amount_total"] for item in line_items) if line_items else None
    obj.update(
        id=id,
        created=created,
        expires_at=params.get("expires_at", created + 24 * 3600),
        livemode=False,
        mode=mode,
        ui_mode=ui_mode,
        # Hosted sessions are reached by URL, embedded ones by client secret; never both.
        url=f"{base_url}/c/pay/{id}" if hosted else None,
        client_secret=None if hosted else f"{id}_secret_{new_id('', 24)}",
        return_url=params.get("return_url"),
        redirect_on_completion=params.get(
            "redirect_on_completion", "always" if ui_mode == "embedded_page" else None
        ),
        customer_creation=params.get("customer_creation"),
        success_url=params.get("success_url"),
        cancel_url=params.get("cancel_url"),
        metadata=params.get("metadata", {}),
        client_reference_id=params.get("client_reference_id"),
        customer=params.get("customer"),
        customer_email=params.get("customer_email"),
        locale=params.get("locale"),
        submit_type=params.get("submit_type"),
        allow_promotion_codes=params.get("allow_promotion_codes"),
        billing_address_collection=params.get("billing_address_collection"),
        amount_subtotal=amount,
        amount_total=amount,
        currency=line_items[0]["currency"] if line_items else params.get("currency"),
        status="open",
        payment_status="no_payment_required" if mode == "setup" else "unpaid",
        payment_intent=None,
        subscription=None,
        setup_intent=None,
        invoice=None,
        customer_details=None,
        collected_information=None,
        currency_conversion=None,
        after_expiration=None,
        consent=None,
        consent_collection=None,
        shipping_address_collection=None,
        shipping_cost=None,
        shipping_options=[],
        custom_fields=[],
        custom_text={key: None for key in obj["custom_text"]},
        discounts=[],
        payment_method_configuration_details=None,
        payment_method_types=["card"],
        total_details={"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
        invoice_creation=(
            {**obj["invoice_creation"], "enabled": False} if mode == "payment" else None
        ),
    )
    return obj


def customer_details(email: str) -> dict[str, Any]:
    details: dict[str, Any] = fixture("checkout.session")["customer_details"]
    details.update(email=email)
    return details


def shipping_rate(*, display_name: str, amount: int, currency: str, **fields: Any) -> dict[str, Any]:
    obj = fixture("shipping_rate")
    obj.update(id=new_id("shr_"), created=now(), display_name=display_name, delivery_estimate=None,
               fixed_amount={"amount": amount, "currency": currency}, metadata={}, tax_code=None)
    obj.update(fields)
    return obj


def coupon(*, percent_off: float | None, amount_off: int | None, currency: str | None) -> dict[str, Any]:
    obj = fixture("coupon")
    name = f"{percent_off:g}% off" if percent_off is not None else f"{amount_off} {currency} off"
    obj.update(id=new_id("", 8).upper(), created=now(), percent_off=percent_off, amount_off=amount_off,
               currency=currency if amount_off is not None else None, duration="once", duration_in_months=None,
               name=name, redeem_by=None, valid=True, metadata={})
    return obj


def promotion_code(*, code: str, coupon_id: str) -> dict[str, Any]:
    obj = fixture("promotion_code")
    obj.update(id=new_id("promo_"), code=code, active=True, created=now(), expires_at=None, metadata={},
               promotion={"coupon": coupon_id, "type": "coupon"})
    return obj


def event(*, type: str, obj: dict[str, Any], created: int | None, id: str | None) -> dict[str, Any]:
    evt = fixture("event")
    evt.update(
        id=id or new_id("evt_"),
        type=type,
        created=now() if created is None else created,
        data={"object": copy.deepcopy(obj)},
        api_version=stripe.api_version,
        livemode=False,
        pending_webhooks=0,
        request={"id": None, "idempotency_key": None},
    )
    return evt


def list_object(data: list[dict[str, Any]], *, url: str, has_more: bool) -> dict[str, Any]:
    return {"object": "list", "data": data, "has_more": has_more, "url": url}
