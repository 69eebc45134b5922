"""The whole sale a Checkout Session records, read from either API shape: what it adds up to (`sale_of`),
and who bought and where it goes (`buyer_of`). Pure.

The breakdown is Stripe's own figures, in the session's currency (`sale["currency"]`): the subtotal of
the lines before discounts and taxes, the discount, shipping before its tax, all tax, and the total.
They add up as `subtotal − discount + shipping + tax = total`, except that a price that includes its tax
already holds that tax in the subtotal: `amount_tax_included` is that part, so

    amount_subtotal − amount_discount + amount_shipping + (amount_tax − amount_tax_included) = amount_total

holds, and `imbalance` says by how much a sale misses it (0 when we read Stripe's figures right: the
webhook logs any other value, and keeps the figures as Stripe sent them).

The shapes: shipping details are under `collected_information.shipping_details` since 2025-03-31.basil,
`shipping_details` before, and `shipping` before 2022-08-01 (with the rate as `shipping_rate`, since under
`shipping_cost`). Before 2025-03-31.basil a session paid in another currency (Adaptive Pricing) carried the
buyer's amounts, its breakdown with them; since, the seller's. Either way the breakdown keeps the
session's own currency, so it adds up in one currency.

A webhook's session names its promotion code and shipping rate by id; the session read back for the
success page (`StripeGateway.retrieve_session`) expands them, adding the code the buyer typed and the
rate's name. `detail` says which this breakdown had, so the order keeps the fuller one.
"""

from __future__ import annotations

from typing import Any

from ._read import ident, obj, objs, text, whole
from .lines import has_expanded_lines

Sale = dict[str, Any]
ADDRESS_FIELDS = ("line1", "line2", "city", "state", "postal_code", "country")
FULL, EVENT = "full", "event"
_DETAIL_RANK = {None: 0, EVENT: 1, FULL: 2}


def sale_of(session: dict[str, Any]) -> Sale:
    """The breakdown of a session's total, its discounts and its shipping."""
    totals = obj(session.get("total_details"))
    cost = obj(session.get("shipping_cost"))
    shipping_amount = whole(totals.get("amount_shipping"))
    if shipping_amount is None:
        shipping_amount = whole(cost.get("amount_subtotal"))
    sale: Sale = {
        "currency": text(session.get("currency")),
        "amount_subtotal": whole(session.get("amount_subtotal")),
        "amount_discount": whole(totals.get("amount_discount")),
        "amount_shipping": shipping_amount,
        "amount_tax": whole(totals.get("amount_tax")),
        "amount_total": whole(session.get("amount_total")),
    }
    sale["amount_tax_included"] = _tax_included(sale)
    sale["discounts"] = _discounts(session, totals)
    shipping = _shipping(session, cost, shipping_amount)
    if shipping:
        sale["shipping"] = shipping
    sale["detail"] = FULL if has_expanded_lines(session) else EVENT
    return sale


def imbalance(sale: Sale) -> int | None:
    """How far the figures miss `subtotal − discount + shipping + tax not in the prices = total`: 0 when
    they add up, None when there is no subtotal or total to check."""
    if sale.get("amount_subtotal") is None or sale.get("amount_total") is None:
        return None
    return _unexplained(sale) - int(sale.get("amount_tax_included") or 0)


def fuller(candidate: Sale | None, current: Sale | None) -> bool:
    """Whether `candidate` tells at least as much as `current` (so it may replace it)."""
    return _DETAIL_RANK.get((candidate or {}).get("detail"), 0) >= _DETAIL_RANK.get((current or {}).get("detail"), 0)


def promotion_codes(sale: Sale) -> list[str]:
    """The codes the buyer entered, as they typed them where known, else the promotion codes' ids."""
    return [d.get("code") or d["promotion_code"] for d in sale.get("discounts") or [] if d.get("promotion_code")]


def rows(sale: Sale) -> list[tuple[str, int]]:
    """The breakdown as a receipt lists it between the lines and the total, in the sale's currency: the
    subtotal, then each of discount, shipping and tax that there is; none when the total is the subtotal."""
    discount, shipping, tax = (int(sale.get(k) or 0) for k in ("amount_discount", "amount_shipping", "amount_tax"))
    if sale.get("amount_subtotal") is None or not (discount or shipping or tax):
        return []
    out = [("Subtotal", int(sale["amount_subtotal"]))]
    if discount:
        codes = promotion_codes(sale)
        out.append((f"Discount ({', '.join(codes)})" if codes else "Discount", -discount))
    if shipping or sale.get("shipping"):
        name = (sale.get("shipping") or {}).get("rate_name")
        out.append((f"Shipping ({name})" if name else "Shipping", shipping))
    if tax:
        included = int(sale.get("amount_tax_included") or 0)
        out.append(("Tax included" if included == tax else "Tax", tax))
    return out


def address_lines(shipping: dict[str, Any] | None) -> list[str]:
    """Where to send it, a line each: the name, the street lines, the town with its region and postcode,
    the country."""
    if not shipping:
        return []
    where = shipping.get("address") or {}
    town = " ".join(part for part in (where.get("postal_code"), where.get("city"), where.get("state")) if part)
    lines = [shipping.get("name"), where.get("line1"), where.get("line2"), town, where.get("country")]
    return [line for line in lines if line]


def buyer_of(session: dict[str, Any]) -> dict[str, Any]:
    """Who bought: name, phone, billing address and business name, tax ids, the custom fields' values and
    what they consented to. Only what the session holds."""
    details = obj(session.get("customer_details"))
    collected = obj(session.get("collected_information"))
    consent = {k: v for k, v in obj(session.get("consent")).items()
               if k in ("terms_of_service", "promotions") and text(v)}
    buyer = {
        "customer_name": text(details.get("name")) or text(details.get("individual_name")),
        "customer_phone": text(details.get("phone")),
        "customer_address": address(details.get("address")),
        "business_name": text(details.get("business_name")) or text(collected.get("business_name")),
        "tax_ids": [{"type": text(t.get("type")), "value": text(t.get("value"))}
                    for t in objs(details.get("tax_ids"))] or None,
        "custom_fields": [_custom_field(f) for f in objs(session.get("custom_fields"))] or None,
        "consent": consent or None,
    }
    return {k: v for k, v in buyer.items() if v is not None}


def address(value: Any) -> dict[str, str] | None:
    """A postal address with its empty parts left out; None when it has none."""
    parts = {k: text(obj(value).get(k)) for k in ADDRESS_FIELDS}
    kept = {k: v for k, v in parts.items() if v}
    return kept or None


def _unexplained(sale: Sale) -> int:
    # What the subtotal, discount, shipping and all tax exceed the total by (a missing figure is none).
    return (int(sale["amount_subtotal"]) - int(sale.get("amount_discount") or 0)
            + int(sale.get("amount_shipping") or 0) + int(sale.get("amount_tax") or 0) - int(sale["amount_total"]))


def _tax_included(sale: Sale) -> int:
    """The part of the tax already in the prices: what the figures exceed the total by, when that is some
    of the tax (a price with tax included holds it in the subtotal). A remainder outside that is no tax
    of any kind, and `imbalance` reports it."""
    if sale.get("amount_subtotal") is None or sale.get("amount_total") is None:
        return 0
    over = _unexplained(sale)
    return over if 0 < over <= int(sale.get("amount_tax") or 0) else 0


def _discounts(session: dict[str, Any], totals: dict[str, Any]) -> list[dict[str, Any]]:
    """Each coupon or promotion code applied: from the session's `discounts`, and from the breakdown
    (expanded only on request) with each one's amount."""
    found: dict[tuple[str | None, str | None], dict[str, Any]] = {}
    for entry in objs(session.get("discounts")):
        _note(found, entry.get("promotion_code"), entry.get("coupon"), None)
    breakdown = obj(totals.get("breakdown"))
    for entry in objs(breakdown.get("discounts")):
        discount = obj(entry.get("discount"))
        # Newer API versions name the coupon under `source`.
        coupon = discount.get("coupon") or obj(discount.get("source")).get("coupon")
        _note(found, discount.get("promotion_code"), coupon, whole(entry.get("amount")))
    return list(found.values())


def _note(found: dict[tuple[str | None, str | None], dict[str, Any]], promotion: Any, coupon: Any,
          amount: int | None) -> None:
    # An expanded promotion code names its coupon (under `promotion` in newer API versions).
    code = obj(promotion)
    coupon = coupon or code.get("coupon") or obj(code.get("promotion")).get("coupon")
    promotion_id, coupon_id = ident(promotion), ident(coupon)
    if promotion_id is None and coupon_id is None:
        return
    # The same discount seen in both places: a code the buyer typed applies one coupon.
    key = (promotion_id, None) if promotion_id else (None, coupon_id)
    entry = found.setdefault(key, {"promotion_code": promotion_id, "code": None, "coupon": None, "name": None,
                                   "amount": None})
    entry["code"] = entry["code"] or text(code.get("code"))
    entry["coupon"] = entry["coupon"] or coupon_id
    entry["name"] = entry["name"] or text(obj(coupon).get("name"))
    entry["amount"] = entry["amount"] if amount is None else amount


def _shipping(session: dict[str, Any], cost: dict[str, Any], amount: int | None) -> dict[str, Any] | None:
    details = (obj(obj(session.get("collected_information")).get("shipping_details"))
               or obj(session.get("shipping_details")) or obj(session.get("shipping")))
    rate = cost.get("shipping_rate") or session.get("shipping_rate")
    if not (details or rate or cost):
        return None
    shipping = {
        "name": text(details.get("name")),
        "address": address(details.get("address")),
        "rate": ident(rate),
        "rate_name": text(obj(rate).get("display_name")),
        # Before 2022-08-01 there was no `shipping_cost`: the breakdown's shipping is its cost before tax.
        "amount_subtotal": whole(cost.get("amount_subtotal")) if cost else amount,
        "amount_tax": whole(cost.get("amount_tax")),
        "amount_total": whole(cost.get("amount_total")),
    }
    return shipping if any(v is not None for v in shipping.values()) else None


def _custom_field(field: dict[str, Any]) -> dict[str, Any]:
    kind = text(field.get("type"))
    answer = obj(field.get(kind)) if kind in ("text", "numeric", "dropdown") else {}
    value = text(answer.get("value"))
    entry = {"key": text(field.get("key")), "label": text(obj(field.get("label")).get("custom")),
             "type": kind, "value": value}
    if kind == "dropdown" and value is not None:
        # The option's label is what the buyer saw and chose; its value is the seller's code for it.
        chosen = [o for o in objs(answer.get("options")) if o.get("value") == value]
        entry["value_label"] = text(chosen[0].get("label")) if chosen else None
    return entry
