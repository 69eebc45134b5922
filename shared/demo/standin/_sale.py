"""A Checkout Session completed with what the buyer chose: a promotion code, a shipping address and rate,
a phone number, tax IDs, custom field values, consent; and the totals Stripe would compute from them.

The stand-in knows one promotion code from the start, `PROMO10` (10 % off; tests add others), and one
tax rate, a flat 8.25 % charged on every line and on shipping when the session has `automatic_tax`.
As Stripe does, a discount is spread over the lines (never shipping), tax is computed per line and on
shipping and rounded each time, and `amount_subtotal − amount_discount + amount_shipping + amount_tax =
amount_total` holds exactly. The completed session carries Stripe's fields for all of it:
`total_details`, `shipping_cost`, `collected_information.shipping_details`, `discounts`,
`customer_details.phone` / `tax_ids`, `custom_fields[].…value`, `consent`; each line item its
`amount_discount`, `amount_tax` and `amount_total`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from ._objects import fixture, new_id, now

if TYPE_CHECKING:
    from ._store import Store

JSON = dict[str, Any]
TAX_PERCENT = Decimal("8.25")
DEFAULT_ADDRESS = {"line1": "1 Demo Street", "line2": None, "city": "Springfield", "state": None,
                   "postal_code": "12345"}


class BuyerError(ValueError):
    """What the Checkout page would say to the buyer (an unknown promotion code, a missing field)."""


@dataclass
class Buyer:
    """What the buyer entered on the Checkout page. Left empty, each field takes what a quick test buyer
    would: the first shipping rate, an address in the first allowed country, a phone number, consent."""

    email: str = "buyer@example.com"
    name: str = "Demo Buyer"
    phone: str = "+15555550100"
    address: JSON | None = None  # line1, city, postal_code, country, …
    shipping_rate: str | None = None  # a shr_ id the session offers
    promotion_code: str | None = None
    tax_id: str | None = None
    custom_fields: dict[str, str] = field(default_factory=dict)
    accept_terms: bool = True
    promotions_opt_in: bool = False


@dataclass(frozen=True)
class Totals:
    subtotal: int
    discount: int
    shipping: int
    shipping_tax: int
    tax: int  # lines' and shipping's
    total: int
    line_discounts: tuple[int, ...]
    line_taxes: tuple[int, ...]
    promotion: JSON | None  # the promotion code applied
    rate: JSON | None  # the shipping rate chosen


def totals(store: Store, session: JSON, buyer: Buyer) -> Totals:
    """What the buyer pays for this session with these choices; BuyerError when a choice is not allowed."""
    lines = store.line_items[session["id"]]
    subtotals = [line["amount_subtotal"] for line in lines]
    subtotal = sum(subtotals)
    promotion = _promotion(store, session, buyer.promotion_code)
    discount = _discount(store, promotion, subtotal, session["currency"])
    line_discounts = _spread(discount, subtotals)
    rate = _rate(store, session, buyer.shipping_rate)
    shipping = next((o["shipping_amount"] for o in session["shipping_options"] if rate and
                     o["shipping_rate"] == rate["id"]), 0)
    taxed = bool((session.get("automatic_tax") or {}).get("enabled"))
    line_taxes = tuple(_tax(s - d) if taxed else 0 for s, d in zip(subtotals, line_discounts, strict=True))
    shipping_tax = _tax(shipping) if taxed else 0
    tax = sum(line_taxes) + shipping_tax
    return Totals(subtotal, discount, shipping, shipping_tax, tax, subtotal - discount + shipping + tax,
                  line_discounts, line_taxes, promotion, rate)


def complete(store: Store, session: JSON, buyer: Buyer) -> None:
    """Write the buyer's choices and the totals into the session and its line items (the caller holds the lock)."""
    sale = totals(store, session, buyer)
    collecting = session.get("shipping_address_collection")
    address = _address(session, buyer) if collecting else None
    for line, discount, tax in zip(store.line_items[session["id"]], sale.line_discounts, sale.line_taxes, strict=True):
        line.update(amount_discount=discount, amount_tax=tax, amount_total=line["amount_subtotal"] - discount + tax)
    details = fixture("checkout.session")["customer_details"]
    tax_ids = None
    if (session.get("tax_id_collection") or {}).get("enabled"):
        tax_ids = [{"type": "eu_vat" if re.fullmatch(r"[A-Z]{2}[0-9A-Z]{2,13}", buyer.tax_id) else "unknown",
                    "value": buyer.tax_id}] if buyer.tax_id else []
    phone = buyer.phone if (session.get("phone_number_collection") or {}).get("enabled") else None
    details.update(email=buyer.email, name=buyer.name, phone=phone, tax_ids=tax_ids, tax_exempt="none",
                   address=address or {**{k: None for k in DEFAULT_ADDRESS}, "country": _first_country(session)})
    consent_asked = session.get("consent_collection") or {}
    if consent_asked.get("terms_of_service") == "required" and not buyer.accept_terms:
        raise BuyerError("Please accept the terms of service.")
    session.update(
        amount_subtotal=sale.subtotal,
        amount_total=sale.total,
        total_details={"amount_discount": sale.discount, "amount_shipping": sale.shipping, "amount_tax": sale.tax},
        shipping_cost=None if sale.rate is None else {
            "amount_subtotal": sale.shipping, "amount_tax": sale.shipping_tax,
            "amount_total": sale.shipping + sale.shipping_tax, "shipping_rate": sale.rate["id"]},
        collected_information={"business_name": None, "individual_name": None, "shipping_details": None if
                               address is None else {"name": buyer.name, "address": address}},
        discounts=[] if sale.promotion is None else [{"coupon": None, "promotion_code": sale.promotion["id"]}],
        customer_details=details,
        custom_fields=_custom_values(session["custom_fields"], buyer.custom_fields),
        consent=None if not consent_asked else {
            "terms_of_service": "accepted" if consent_asked.get("terms_of_service") == "required" else None,
            "promotions": ("opt_in" if buyer.promotions_opt_in else "opt_out")
            if consent_asked.get("promotions") == "auto" else None},
    )
    if session.get("automatic_tax", {}).get("enabled"):
        session["automatic_tax"] = {**session["automatic_tax"], "status": "complete"}
    store.breakdowns[session["id"]] = _breakdown(session, sale)


def _promotion(store: Store, session: JSON, code: str | None) -> JSON | None:
    if not code or not code.strip():
        return None
    if not session.get("allow_promotion_codes"):
        raise BuyerError("This checkout takes no promotion codes.")
    found = next((p for p in store.promotion_codes.values() if p["code"].lower() == code.strip().lower()
                  and p["active"]), None)
    if found is None:
        raise BuyerError(f"{code.strip()} is not a valid promotion code.")
    return found


def _discount(store: Store, promotion: JSON | None, subtotal: int, currency: str) -> int:
    if promotion is None:
        return 0
    coupon = store.coupons[promotion["promotion"]["coupon"]]
    if coupon["percent_off"] is not None:
        return _round(Decimal(subtotal) * Decimal(str(coupon["percent_off"])) / 100)
    if coupon["currency"] != currency:
        raise BuyerError(f"{promotion['code']} does not apply to payments in {currency.upper()}.")
    return min(int(coupon["amount_off"]), subtotal)


def _spread(amount: int, weights: list[int]) -> tuple[int, ...]:
    """`amount` shared over lines in proportion to `weights`, in whole units that add up to it exactly."""
    total = sum(weights)
    if not amount or not total:
        return tuple(0 for _ in weights)
    shares = [amount * w // total for w in weights]
    by_remainder = sorted(range(len(weights)), key=lambda i: (-(amount * weights[i] % total), i))
    for i in by_remainder[:amount - sum(shares)]:
        shares[i] += 1
    return tuple(shares)


def _rate(store: Store, session: JSON, chosen: str | None) -> JSON | None:
    offered = [option["shipping_rate"] for option in session["shipping_options"]]
    if not offered:
        return None
    if chosen and chosen not in offered:
        raise BuyerError("Choose one of the shipping rates offered.")
    return store.shipping_rates[chosen or offered[0]]


def _tax(amount: int) -> int:
    return _round(Decimal(amount) * TAX_PERCENT / 100)


def _round(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _first_country(session: JSON) -> str:
    allowed = (session.get("shipping_address_collection") or {}).get("allowed_countries") or ["US"]
    return str(allowed[0])


def _address(session: JSON, buyer: Buyer) -> JSON:
    given = {k: v for k, v in (buyer.address or {}).items() if v}
    address = {**DEFAULT_ADDRESS, "country": _first_country(session), **given}
    if address["country"] not in session["shipping_address_collection"]["allowed_countries"]:
        raise BuyerError(f"This shop does not ship to {address['country']}.")
    return address


def _custom_values(fields: list[JSON], values: dict[str, str]) -> list[JSON]:
    done = []
    for custom in fields:
        value = (values.get(custom["key"]) or "").strip() or None
        label = custom["label"]["custom"]
        if value is None and not custom["optional"]:
            raise BuyerError(f"{label} is required.")
        kind = custom["type"]
        if value is not None and kind == "numeric" and not value.isdigit():
            raise BuyerError(f"{label} takes digits only.")
        choices = [o["value"] for o in (custom["dropdown"] or {}).get("options", [])]
        if value is not None and kind == "dropdown" and value not in choices:
            raise BuyerError(f"Choose one of the options for {label}.")
        done.append({**custom, kind: {**custom[kind], "value": value}})
    return done


def _breakdown(session: JSON, sale: Totals) -> JSON:
    """`total_details.breakdown`, which Stripe sends only when asked (`expand[]=total_details.breakdown`)."""
    discounts = []
    if sale.promotion is not None:
        discount = fixture("discount")
        discount.update(id=new_id("di_"), checkout_session=session["id"], customer=session["customer"],
                        promotion_code=sale.promotion["id"], start=now(), end=None, invoice=None, subscription=None,
                        source={"coupon": sale.promotion["promotion"]["coupon"], "type": "coupon"})
        discounts.append({"amount": sale.discount, "discount": discount})
    taxes = []
    if sale.tax:
        rate = fixture("tax_rate")
        rate.update(id="txr_standin_flat", country=None, jurisdiction=None, description="The stand-in's flat tax",
                    display_name="Sales tax", percentage=float(TAX_PERCENT), effective_percentage=float(TAX_PERCENT),
                    flat_amount=None, tax_type="sales_tax", created=now())
        taxable = sale.subtotal - sale.discount + sale.shipping
        taxes.append({"amount": sale.tax, "rate": rate, "taxability_reason": "standard_rated",
                      "taxable_amount": taxable})
    return {"discounts": discounts, "taxes": taxes}
