"""Rules for invoices: previews of a subscription change (with prorations), paying an open invoice,
and the price change itself. Callers hold the store's lock; functions return the stored object.

Prorations follow Stripe's arithmetic for licensed prices: a credit for the unused time of the old
price and a charge for the remaining time of the new one, each the whole period's amount times the
fraction of the period left at `proration_date`, rounded to the minor unit.

Whether a payment succeeds is the customer's card, set by a test with `set_card` (default: it pays).
"""

from __future__ import annotations

import copy
import time
from typing import TYPE_CHECKING, Any

from . import _billing_objects as objects
from ._catalog import unsupported
from ._errors import StripeError, no_such
from ._objects import fixture, new_id, now

if TYPE_CHECKING:
    from ._store import Store

JSON = dict[str, Any]

PRORATION_BEHAVIORS = ("always_invoice", "create_prorations", "none")
_PREVIEW = {"customer", "expand", "subscription", "subscription_details"}
_PREVIEW_DETAILS = {"items", "proration_behavior", "proration_date"}
_ITEM_CHANGE = {"id", "price", "quantity"}
_PAY = {"expand", "off_session"}
HOSTED_INVOICE_BASE = "https://invoice.stripe.com/i/acct_standin"

# What each card does when charged (`set_card`), and the message Stripe gives for each decline code.
CARD_OUTCOMES = ("pays", "declines", "requires_action")
DECLINE_MESSAGES = {
    "card_declined": "Your card was declined.",
    "generic_decline": "Your card was declined.",
    "insufficient_funds": "Your card has insufficient funds.",
    "expired_card": "Your card has expired.",
}
REQUIRES_ACTION_MESSAGE = (
    "This payment requires additional user action before it can be completed successfully. "
    "Payment can be completed using the PaymentIntent associated with the invoice. For more "
    "details see: https://docs.stripe.com/billing/subscriptions/overview#requires-action"
)


# --- building invoices ---


def line(
    *,
    amount: int,
    currency: str,
    description: str,
    period: tuple[int, int],
    proration: bool,
    price: JSON,
    quantity: int,
    subscription: str,
    subscription_item: str,
) -> JSON:
    obj: JSON = fixture("invoice")["lines"]["data"][0]
    obj.update(
        id=new_id("il_"),
        amount=amount,
        subtotal=amount,
        currency=currency,
        description=description,
        period={"start": period[0], "end": period[1]},
        quantity=quantity,
        subscription=subscription,
        metadata={},
        discount_amounts=[],
        discounts=[],
        pretax_credit_amounts=[],
        taxes=[],
        pricing={
            "type": "price_details",
            "price_details": {"price": price["id"], "product": price["product"]},
            "unit_amount_decimal": price["unit_amount_decimal"],
        },
        parent={
            "type": "subscription_item_details",
            "invoice_item_details": None,
            "subscription_item_details": {
                "invoice_item": None,
                "proration": proration,
                "proration_details": {"credited_items": None},
                "subscription": subscription,
                "subscription_item": subscription_item,
            },
        },
    )
    return obj


def invoice(
    *, sub: JSON, lines: list[JSON], status: str, billing_reason: str, id: str | None = None
) -> JSON:
    obj = fixture("invoice")
    total = sum(item["amount"] for item in lines)
    invoice_id = id or new_id("in_")
    created = now()
    finalized = status != "draft"
    obj.update(
        id=invoice_id,
        customer=sub["customer"],
        currency=sub["currency"],
        created=created,
        status=status,
        billing_reason=billing_reason,
        collection_method="charge_automatically",
        subtotal=total,
        subtotal_excluding_tax=total,
        total=total,
        total_excluding_tax=total,
        amount_due=max(total, 0),
        amount_paid=0,
        amount_remaining=max(total, 0),
        amount_overpaid=0,
        attempt_count=0,
        attempted=False,
        auto_advance=status == "open",
        due_date=None,
        effective_at=created if finalized else None,
        hosted_invoice_url=f"{HOSTED_INVOICE_BASE}/{invoice_id}" if finalized else None,
        invoice_pdf=f"{HOSTED_INVOICE_BASE}/{invoice_id}/pdf" if finalized else None,
        last_finalization_error=None,
        livemode=False,
        metadata={},
        next_payment_attempt=created + 3 * 24 * 3600 if status == "open" else None,
        number=f"STANDIN-{invoice_id[-6:].upper()}" if finalized else None,
        period_start=min((item["period"]["start"] for item in lines), default=created),
        period_end=max((item["period"]["end"] for item in lines), default=created),
        shipping_cost=None,
        status_transitions={
            "finalized_at": created if finalized else None,
            "marked_uncollectible_at": None,
            "paid_at": None,
            "voided_at": None,
        },
        subscription=None,
        webhooks_delivered_at=None,
        amount_shipping=0,
        parent={
            "type": "subscription_details",
            "quote_details": None,
            "subscription_details": {"metadata": {}, "subscription": sub["id"]},
        },
        lines=objects_list(lines, f"/v1/invoices/{invoice_id}/lines"),
    )
    return obj


def objects_list(data: list[JSON], url: str) -> JSON:
    return {"object": "list", "data": data, "has_more": False, "url": url}


def period_lines(store: Store, sub: JSON, start: int) -> list[JSON]:
    """One line per item for the period starting at `start`, at the items' current prices."""
    lines = []
    for item in sub["items"]["data"]:
        price = item["price"]
        end = start + objects.period_seconds(price)
        amount = price["unit_amount"] * item["quantity"]
        lines.append(
            line(
                amount=amount,
                currency=price["currency"],
                description=f"{item['quantity']} × {_product_name(store, price)}",
                period=(start, end),
                proration=False,
                price=price,
                quantity=item["quantity"],
                subscription=sub["id"],
                subscription_item=item["id"],
            )
        )
    return lines


def _product_name(store: Store, price: JSON) -> str:
    product = store.products.get(price["product"])
    return str(product["name"]) if product else price["product"]


# --- a subscription Checkout's first invoice ---


def first_invoice(store: Store, sub: JSON, session: JSON) -> JSON:
    """The invoice a paid subscription Checkout makes, paid: a line per recurring item for its first
    period (nothing due while it is a trial), one per one-time item (billed once, here), the
    session's discounts, tax and shipping in its total. A payment intent pays what is due; a $0
    invoice (a trial) is paid with none, as at Stripe. Stored with its invoice payment."""
    lines = []
    items = {item["price"]["id"]: item for item in sub["items"]["data"]}
    trialing, start = sub["status"] == "trialing", sub["start_date"]
    due = (session.get("shipping_cost") or {}).get("amount_total", 0)
    for sold in store.line_items[session["id"]]:
        price, quantity = sold["price"], sold["quantity"]
        item = items.get(price["id"]) if price["recurring"] else None
        free = item is not None and trialing
        name = _product_name(store, price)
        bought = line(
            amount=0 if free else sold["amount_subtotal"],
            currency=price["currency"],
            description=f"Trial period for {name}" if free else f"{quantity} × {name}",
            period=(item["current_period_start"], item["current_period_end"]) if item else (start, start),
            proration=False,
            price=price,
            quantity=quantity,
            subscription=sub["id"],
            subscription_item=item["id"] if item else "",
        )
        if item is None:
            # A one-time item reaches the invoice as an invoice item, not as the subscription's.
            details = bought["parent"].pop("subscription_item_details")
            del details["subscription_item"]
            bought["parent"].update(type="invoice_item_details", subscription_item_details=None,
                                    invoice_item_details={**details, "invoice_item": new_id("ii_")})
        lines.append(bought)
        due += 0 if free else sold["amount_total"]
    bill = invoice(sub=sub, lines=lines, status="open", billing_reason="subscription_create")
    customer = store.customers[sub["customer"]]
    bill.update(total=due, total_excluding_tax=due - (session.get("total_details") or {}).get("amount_tax", 0),
                amount_due=due, amount_remaining=due, amount_shipping=(session.get("total_details") or {}).get(
                    "amount_shipping", 0), customer_email=customer["email"], customer_name=customer["name"])
    store.invoices[bill["id"]] = bill
    sub["latest_invoice"] = bill["id"]
    charge(store, bill)
    if due > 0:
        paid = fixture("invoice_payment")
        paid.update(id=new_id("inpay_"), amount_paid=due, amount_requested=due, created=bill["created"],
                    currency=bill["currency"], invoice=bill["id"], is_default=True, livemode=False,
                    payment={"type": "payment_intent", "payment_intent": new_id("pi_")}, status="paid",
                    status_transitions={"canceled_at": None, "paid_at": bill["status_transitions"]["paid_at"]})
        store.invoice_payments[bill["id"]] = paid
    return bill


# --- previews and price changes ---


def _changes(store: Store, sub: JSON, items: list[JSON], path: str) -> list[tuple[JSON, JSON, int]]:
    """(subscription item, new price, new quantity) for each item a request changes."""
    by_id = {item["id"]: item for item in sub["items"]["data"]}
    changes = []
    for i, change in enumerate(items):
        unsupported(change, _ITEM_CHANGE, "subscription items", f"{path}[{i}]")
        if "id" not in change:
            raise StripeError(
                "The stand-in only changes existing subscription items; pass their `id`.",
                param=f"{path}[{i}][id]",
            )
        item = by_id.get(change["id"])
        if item is None:
            raise no_such("subscription_item", change["id"], param=f"{path}[{i}][id]", status=400)
        price = item["price"]
        if "price" in change:
            price = store.prices.get(change["price"])
            if price is None:
                raise no_such("price", change["price"], param=f"{path}[{i}][price]", status=400)
            if not price["active"]:
                raise StripeError(
                    "The price specified is inactive. This field only accepts active prices.",
                    param=f"{path}[{i}][price]",
                )
            if price["recurring"] is None:
                raise StripeError(
                    "The price specified is set to `type=one_time` but this field only accepts "
                    "prices with `type=recurring`.",
                    param=f"{path}[{i}][price]",
                )
            if price["currency"] != sub["currency"]:
                raise StripeError(
                    f"The price specified ({price['id']}) is in {price['currency']}, but this "
                    f"subscription is in {sub['currency']}. Prices on a subscription must share "
                    "its currency.",
                    param=f"{path}[{i}][price]",
                )
        changes.append((item, price, change.get("quantity", item["quantity"])))
    return changes


def _prorations(
    store: Store, sub: JSON, changes: list[tuple[JSON, JSON, int]], at: int
) -> list[JSON]:
    lines = []
    for item, price, quantity in changes:
        start, end = item["current_period_start"], item["current_period_end"]
        if not start <= at < end:
            raise StripeError(
                "The proration_date must be within the current subscription period.",
                param="proration_date",
            )
        left = (end - at) / (end - start)
        day = time.strftime("%d %b %Y", time.gmtime(at))
        old = item["price"]
        for sign, charged, count, text in (
            (-1, old, item["quantity"], "Unused time on"),
            (1, price, quantity, "Remaining time on"),
        ):
            lines.append(
                line(
                    amount=sign * round(charged["unit_amount"] * count * left),
                    currency=charged["currency"],
                    description=f"{text} {count} × {_product_name(store, charged)} after {day}",
                    period=(at, end),
                    proration=True,
                    price=charged,
                    quantity=count,
                    subscription=sub["id"],
                    subscription_item=item["id"],
                )
            )
    return lines


def _proration_options(details: JSON) -> tuple[str, int]:
    behavior = details.get("proration_behavior", "create_prorations")
    at = details.get("proration_date", now())
    return behavior, at


def create_preview(store: Store, params: JSON) -> JSON:
    unsupported(params, _PREVIEW, "POST /v1/invoices/create_preview")
    details = params.get("subscription_details", {})
    unsupported(details, _PREVIEW_DETAILS, "POST /v1/invoices/create_preview", "subscription_details")
    if "subscription" not in params:
        raise StripeError(
            "The stand-in previews changes to existing subscriptions only; pass `subscription`.",
            param="subscription",
        )
    sub = stored_subscription(store, params["subscription"], param="subscription")
    if "customer" in params and params["customer"] != sub["customer"]:
        raise StripeError(
            f"The subscription {sub['id']} does not belong to customer {params['customer']}.",
            param="customer",
        )
    behavior, at = _proration_options(details)
    if "proration_date" in details and behavior == "none":
        raise StripeError(
            "`subscription_details.proration_date` cannot be set when "
            "`subscription_details.proration_behavior` is `none`.",
            param="subscription_details[proration_date]",
        )
    changes = _changes(store, sub, details.get("items", []), "subscription_details[items]")
    prorations = _prorations(store, sub, changes, at) if behavior != "none" else []
    if behavior == "always_invoice":
        lines = prorations
        reason = "subscription_update"
    else:
        changed = copy.deepcopy(sub)
        _set_prices(changed, changes)
        period_end = max(item["current_period_end"] for item in sub["items"]["data"])
        lines = prorations + period_lines(store, changed, period_end)
        reason = "upcoming"
    preview = invoice(
        sub=sub, lines=lines, status="draft", billing_reason=reason, id=new_id("upcoming_in_")
    )
    preview["next_payment_attempt"] = (
        now()
        if behavior == "always_invoice"
        else max(i["current_period_end"] for i in sub["items"]["data"])
    )
    return preview


def _set_prices(sub: JSON, changes: list[tuple[JSON, JSON, int]]) -> None:
    by_id = {item["id"]: item for item in sub["items"]["data"]}
    for item, price, quantity in changes:
        target = by_id[item["id"]]
        target.update(price=copy.deepcopy(price), plan=objects._plan(price), quantity=quantity)


def change_items(store: Store, sub: JSON, params: JSON) -> None:
    """`items` on a subscription update: new prices or quantities, with their prorations."""
    behavior, at = _proration_options(params)
    changes = _changes(store, sub, params["items"], "items")
    prorations = _prorations(store, sub, changes, at) if behavior != "none" else []
    _set_prices(sub, changes)
    if behavior == "always_invoice" and prorations:
        bill = invoice(sub=sub, lines=prorations, status="open", billing_reason="subscription_update")
        store.invoices[bill["id"]] = bill
        sub["latest_invoice"] = bill["id"]
        try:
            charge(store, bill)
        except StripeError:
            sub["status"] = "past_due"  # payment_behavior=allow_incomplete: the change stands
    elif prorations:
        store.pending_prorations.setdefault(sub["id"], []).extend(prorations)


# --- paying ---


def stored_subscription(store: Store, id: str, *, param: str = "id") -> JSON:
    sub = store.subscriptions.get(id)
    if sub is None:
        raise no_such("subscription", id, param=param, status=400 if param != "id" else 404)
    return sub


def stored_invoice(store: Store, id: str) -> JSON:
    found = store.invoices.get(id)
    if found is None:
        raise no_such("invoice", id)
    return found


def pay(store: Store, id: str, params: JSON) -> JSON:
    bill = stored_invoice(store, id)
    unsupported(params, _PAY, "POST /v1/invoices/{id}/pay")
    if bill["status"] == "paid":
        raise StripeError("Invoice is already paid", code="invoice_already_paid")
    if bill["status"] != "open":
        raise StripeError(
            f"You can only pay an open invoice; this one is {bill['status']}.",
            code="invoice_not_open",
        )
    charge(store, bill)
    return bill


def charge(store: Store, bill: JSON) -> None:
    """Attempt the invoice's payment with its customer's card: paid, or a 402 as Stripe answers."""
    outcome, decline_code = store.cards.get(bill["customer"], ("pays", None))
    bill.update(attempted=True, attempt_count=bill["attempt_count"] + 1)
    if outcome == "declines":
        code = decline_code or "card_declined"
        raise StripeError(
            DECLINE_MESSAGES.get(code, "Your card was declined."),
            status=402,
            type="card_error",
            code="card_declined",
            decline_code=code,
        )
    if outcome == "requires_action":
        raise StripeError(
            REQUIRES_ACTION_MESSAGE,
            status=402,
            type="card_error",
            code="invoice_payment_intent_requires_action",
        )
    bill.update(
        status="paid",
        amount_paid=bill["amount_due"],
        amount_remaining=0,
        auto_advance=False,
        next_payment_attempt=None,
    )
    bill["status_transitions"]["paid_at"] = now()
    sub_id = bill["parent"]["subscription_details"]["subscription"]
    sub = store.subscriptions.get(sub_id)
    if sub is not None and sub["status"] in ("past_due", "unpaid", "incomplete"):
        sub["status"] = "active"


def add_open_invoice(store: Store, sub_id: str, *, amount_due: int | None, past_due: bool) -> JSON:
    """An open renewal invoice for a subscription, as after an automatic payment that failed."""
    sub = store.subscriptions.get(sub_id)
    if sub is None:
        raise KeyError(f"the stand-in has no subscription {sub_id!r}")
    start = max(item["current_period_start"] for item in sub["items"]["data"])
    lines = period_lines(store, sub, start)
    if amount_due is not None:
        if len(lines) != 1:
            raise ValueError("amount_due needs a subscription with one item")
        lines[0].update(amount=amount_due, subtotal=amount_due)
    bill = invoice(sub=sub, lines=lines, status="open", billing_reason="subscription_cycle")
    bill.update(attempted=True, attempt_count=1)
    store.invoices[bill["id"]] = bill
    sub["latest_invoice"] = bill["id"]
    if past_due:
        sub["status"] = "past_due"
    return bill


def set_card(store: Store, customer: str, outcome: str, decline_code: str | None) -> None:
    if customer not in store.customers:
        raise KeyError(f"the stand-in has no customer {customer!r}")
    if outcome not in CARD_OUTCOMES:
        raise ValueError(f"outcome must be one of {CARD_OUTCOMES}")
    store.cards[customer] = (outcome, decline_code)

