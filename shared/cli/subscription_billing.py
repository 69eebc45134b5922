"""Changing what a subscription charges, and charging it again: `subscriptions change-plan | retry`.

A plan change is shown before it is made: Stripe's invoice preview for exactly that change, priced at
one moment (`proration_date`), and the change then made with the same moment, so what the customer is
charged is what the seller saw. `always_invoice` bills the prorations now, `create_prorations` (Stripe's
default) adds them to the next invoice, `none` changes the price from the next period on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from ..checkout.prices import Price
from ..checkout.stripe_api import PaymentAttempt
from ..errors import Code, InvalidRequest
from ..money import format_amount
from .subscriptions import ENDED, SubscriptionGateway, day, describe_price, retrieve

PRORATIONS = ("create_prorations", "always_invoice", "none")


class BillingGateway(SubscriptionGateway, Protocol):
    def preview_invoice(self, params: dict[str, Any]) -> dict[str, Any]: ...

    def open_invoices(self, subscription_id: str) -> list[dict[str, Any]]: ...

    def pay_invoice(self, invoice_id: str) -> PaymentAttempt: ...


class PriceResolver(Protocol):
    def resolve(self, ref: str) -> Price: ...


@dataclass(frozen=True)
class PlanChange:
    subscription_id: str
    email: str | None
    old_price: str  # as the seller reads it: "club 5.00 USD/month"
    new_price: Price
    proration: str
    params: dict[str, Any]  # the update, exactly as previewed
    preview: dict[str, Any]  # Stripe's invoice preview for it


def plan_change(gateway: BillingGateway, prices: PriceResolver, subscription_id: str, price_ref: str, *,
                proration: str, now: int) -> PlanChange | None:
    """The change and its preview; None when the subscription already has that price."""
    sub = retrieve(gateway, subscription_id)
    if sub.get("status") in ENDED:
        raise InvalidRequest(f"{subscription_id} is {sub.get('status')}; its plan cannot change.",
                             code=Code.SUBSCRIPTION_CANCELED)
    items = (sub.get("items") or {}).get("data") or []
    if len(items) != 1:
        raise InvalidRequest(f"{subscription_id} has {len(items)} prices; change-plan changes subscriptions to one "
                             "price (use Stripe's Dashboard for this one).", code=Code.SEVERAL_ITEMS)
    item, new = items[0], prices.resolve(price_ref)  # allowed by ALLOWED_PRICES, and active
    current = item.get("price") or {}
    if not new.recurring:
        raise InvalidRequest(f"{price_ref} is a one-time price; a plan needs a recurring one.",
                             code=Code.NOT_RECURRING)
    currency = str(sub.get("currency") or current.get("currency") or "")
    if new.currency != currency:
        raise InvalidRequest(f"{price_ref} is in {new.currency.upper()} and {subscription_id} in {currency.upper()}: "
                             "a subscription keeps its currency.", code=Code.CURRENCY_MISMATCH)
    if new.id == current.get("id"):
        return None
    params: dict[str, Any] = {"items": [{"id": item["id"], "price": new.id}], "proration_behavior": proration}
    if proration != "none":  # Stripe prices prorations as of this moment, in the preview and in the change
        params["proration_date"] = now
    preview = gateway.preview_invoice({"customer": _id(sub.get("customer")), "subscription": subscription_id,
                                       "subscription_details": params})
    customer = sub.get("customer")
    return PlanChange(subscription_id, customer.get("email") if isinstance(customer, dict) else None,
                      describe_price(current), new, proration, params, preview)


def describe(change: PlanChange) -> str:
    """What the customer will be charged, from Stripe's preview."""
    preview = change.preview
    currency = preview.get("currency")
    who = f" ({change.email})" if change.email else ""
    lines = [f"{change.subscription_id}{who}: {change.old_price} → {_price_text(change.new_price)}, "
             f"proration {change.proration}"]
    if change.proration == "always_invoice":
        lines.append("Charged now, on an invoice of its own:")
    else:
        lines.append(f"On the next invoice, {day(preview.get('next_payment_attempt') or preview.get('period_end'))}:")
    for line in (preview.get("lines") or {}).get("data") or []:
        lines.append(f"  {format_amount(line.get('amount'), currency):>14}  {line.get('description') or ''}"
                     f"{'  (proration)' if is_proration(line) else ''}")
    lines.append(f"  {format_amount(preview.get('amount_due'), currency):>14}  total due")
    total = int(preview.get("total") or 0)
    if total < 0:
        lines.append(f"  The customer's balance is credited {format_amount(-total, currency)}, used on later invoices.")
    return "\n".join(lines)


def apply(gateway: BillingGateway, change: PlanChange) -> str:
    updated = gateway.update_subscription(change.subscription_id, {**change.params, "expand": ["latest_invoice"]})
    done = f"{change.subscription_id} is now on {_price_text(change.new_price)}."
    invoice = updated.get("latest_invoice")
    if change.proration != "always_invoice" or not isinstance(invoice, dict):
        return done
    amount = format_amount(invoice.get("amount_due"), invoice.get("currency"))
    if invoice.get("status") == "paid":
        return f"{done} Invoice {invoice.get('id')} for {amount} is paid."
    return (f"{done} Invoice {invoice.get('id')} for {amount} is {invoice.get('status')}: its payment did not go "
            f"through. `subscriptions retry {change.subscription_id}` charges it again; the customer can pay at "
            f"{invoice.get('hosted_invoice_url')}")


def retry(gateway: BillingGateway, subscription_id: str) -> tuple[str, bool]:
    """Pay the subscription's latest open invoice now. Returns what happened, and whether it is paid."""
    sub = retrieve(gateway, subscription_id)
    invoices = gateway.open_invoices(subscription_id)
    if not invoices:
        return f"{subscription_id} ({sub.get('status')}) has no open invoice: nothing to retry.", True
    invoice = max(invoices, key=lambda i: i.get("created") or 0)
    amount = format_amount(invoice.get("amount_due"), invoice.get("currency"))
    attempt = gateway.pay_invoice(invoice["id"])
    if attempt.outcome == "paid":
        return f"Paid: invoice {invoice['id']} for {amount}; {subscription_id} is paid up.", True
    link = invoice.get("hosted_invoice_url")
    if attempt.outcome == "requires_action":
        return (f"Not paid: the customer's bank wants them to confirm invoice {invoice['id']} for {amount} "
                f"(3D Secure). Send them its page, where they can: {link}"), False
    code = f" ({attempt.decline_code})" if attempt.decline_code else ""
    return (f"Declined{code}: {attempt.message} Invoice {invoice['id']} for {amount} stays open. Ask the customer "
            f"to pay it with another card: {link}"), False


def is_proration(line: dict[str, Any]) -> bool:
    # Since API version 2025-03-31 a line says so under its parent; before, on itself.
    details = (line.get("parent") or {}).get("subscription_item_details") or {}
    return bool(details.get("proration", line.get("proration")))


def _price_text(price: Price) -> str:
    return describe_price({"id": price.id, "lookup_key": price.lookup_key, "unit_amount": price.unit_amount,
                           "currency": price.currency, "recurring": {"interval": price.interval,
                                                                     "interval_count": price.interval_count}})


def _id(value: Any) -> str | None:
    return value.get("id") if isinstance(value, dict) else value
