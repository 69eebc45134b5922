"""Fakes at the seams: an in-memory store with the store's contract, and Stripe-shaped events."""

from __future__ import annotations

import copy
import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from shared.events.signature import sign
from shared.store.base import Claim, Put, TransactionFailed, VersionConflict, Write
from shared.store.keys import INDEXES, index_attributes

FIXTURES = json.loads((Path(__file__).parents[1] / "shared/demo/standin/fixtures3.json").read_text())["resources"]


class MemoryStore:
    """The `Store` contract in memory, with the same conditions DynamoDB evaluates."""

    def __init__(self) -> None:
        self.items: dict[str, dict[str, Any]] = {}
        self.lock = threading.Lock()
        self.fail = False  # set True to simulate the store being down

    def _check(self) -> None:
        if self.fail:
            from shared.errors import StoreUnavailable

            raise StoreUnavailable("memory store is down")

    def get(self, key: str) -> dict[str, Any] | None:
        self._check()
        with self.lock:
            item = self.items.get(key)
            return copy.deepcopy(item) if item is not None else None

    def get_many(self, keys: Sequence[str]) -> dict[str, dict[str, Any]]:
        self._check()
        with self.lock:
            return {key: copy.deepcopy(self.items[key]) for key in keys if key in self.items}

    def transact(self, writes: Sequence[Write | Put]) -> None:
        """All or nothing, under the lock: every condition is checked before anything is written."""
        self._check()
        assert len({w.key for w in writes}) == len(writes) <= 100, "DynamoDB: one write per item, 100 at most"
        with self.lock:
            failed = {}
            for position, write in enumerate(writes):
                current = self.items.get(write.key)
                if not _holds(write, current):
                    failed[position] = copy.deepcopy(current)
            if failed:
                raise TransactionFailed(failed)
            for write in writes:
                if isinstance(write, Put):
                    self.items[write.key] = {**copy.deepcopy(write.item), "pk": write.key,
                                             "version": write.expected_version + 1}
                    continue
                item = self.items.setdefault(write.key, {"pk": write.key})
                item.update(copy.deepcopy(dict(write.set)))
                for name, amount in write.add.items():
                    item[name] = item.get(name, 0) + amount
                for name in write.remove:
                    item.pop(name, None)
                item["version"] = item.get("version", 0) + 1

    def put(self, key: str, item: dict[str, Any], *, expected_version: int) -> None:
        self._check()
        with self.lock:
            current = self.items.get(key)
            if (current is None) != (expected_version == 0) or (current and current.get("version") != expected_version):
                raise VersionConflict()
            self.items[key] = {**copy.deepcopy(item), "pk": key, "version": expected_version + 1}

    def claim(self, key: str, token: str, *, now: int, until: int, expires_at: int | None = None,
              create: bool = True, fields: dict[str, Any] | None = None) -> Claim:
        self._check()
        with self.lock:
            item = self.items.get(key)
            if item is None and not create:
                return Claim.IN_PROGRESS
            if item is not None and item.get("done_at") is not None:
                return Claim.DONE
            if item is not None and item.get("claim_until", 0) >= now:
                return Claim.IN_PROGRESS
            item = item or {"pk": key}
            item.update(copy.deepcopy(fields or {}))
            item.update(claim_token=token, claim_until=until, version=item.get("version", 0) + 1)
            if expires_at is not None:
                item["expires_at"] = expires_at
            self.items[key] = item
            return Claim.CLAIMED

    def finish(self, key: str, token: str, *, now: int, fields: dict[str, Any] | None = None) -> None:
        self._check()
        with self.lock:
            item = self.items.get(key)
            if not item or item.get("claim_token") != token:
                raise VersionConflict()
            item.pop("claim_token"), item.pop("claim_until", None)
            item.update(copy.deepcopy(fields or {}))
            item.update(done_at=now, version=item["version"] + 1)

    def complete(self, key: str, *, now: int) -> Claim:
        self._check()
        with self.lock:
            item = self.items.get(key)
            if item is None:
                return Claim.IN_PROGRESS
            if item.get("done_at") is not None:
                return Claim.DONE
            if item.get("claim_until", 0) >= now:
                return Claim.IN_PROGRESS
            item.pop("claim_token", None), item.pop("claim_until", None)
            item.update(done_at=now, version=item["version"] + 1)
            return Claim.CLAIMED

    def set_fields(self, key: str, fields: dict[str, Any]) -> dict[str, Any]:
        self._check()
        with self.lock:
            item = self.items.setdefault(key, {"pk": key})
            item.update(copy.deepcopy(fields))
            item["version"] = item.get("version", 0) + 1
            return copy.deepcopy(item)

    def release(self, key: str, token: str, *, fields: dict[str, Any] | None = None) -> None:
        self._check()
        with self.lock:
            item = self.items.get(key)
            if item and item.get("claim_token") == token:
                item.pop("claim_token"), item.pop("claim_until", None)
                item.update(copy.deepcopy(fields or {}))
                item["version"] += 1

    def increment(self, key: str, *, expires_at: int) -> int:
        self._check()
        with self.lock:
            item = self.items.setdefault(key, {"pk": key, "hits": 0})
            item.update(hits=item["hits"] + 1, expires_at=expires_at)
            return item["hits"]

    def query(self, index: str, partition: str, *, limit: int) -> list[dict[str, Any]]:
        return list(reversed(self._partition(index, partition, "")))[:limit]

    def query_range(self, index: str, partition: str, *, start: str = "",
                    attributes: Sequence[str] | None = None) -> Iterator[dict[str, Any]]:
        for item in self._partition(index, partition, start):
            yield {k: v for k, v in item.items() if k in attributes} if attributes else item

    def _partition(self, index: str, partition: str, start: str) -> list[dict[str, Any]]:
        """An index partition in sort-key order, the index attributes worked out as DynamoDB keeps them."""
        self._check()
        hash_key, range_key = INDEXES[index]
        with self.lock:
            found = []
            for key, item in self.items.items():
                indexed = index_attributes(key, item)
                if indexed.get(hash_key) == partition and indexed.get(range_key, "") >= start:
                    found.append((indexed[range_key], copy.deepcopy(item)))
        return [item for _, item in sorted(found, key=lambda pair: pair[0])]


def _holds(write: Write | Put, item: dict[str, Any] | None) -> bool:
    """A write's conditions on the item as it is, as DynamoDB evaluates them (a missing attribute fails)."""
    if isinstance(write, Put):
        return (item or {}).get("version", 0) == write.expected_version and (item is None) == (
            write.expected_version == 0)
    if write.new and item is not None:
        return False
    for name, value in write.equals.items():
        if item is None or name not in item or item[name] != value:
            return False
    for name, least in write.at_least.items():
        number = (item or {}).get(name)
        if isinstance(number, bool) or not isinstance(number, int | float) or number < least:
            return False
    return True


class CountingStore:
    """Any store, counting the calls made to it by method (each is one DynamoDB request on the real one)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls: Counter[str] = Counter()

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.inner, name)

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] += 1
            return method(*args, **kwargs)

        return counted


class RecordingNotices:
    """A notice hook (`on_notice`) that keeps what it was told."""

    def __init__(self, fail: bool = False) -> None:
        self.notices: list[dict[str, Any]] = []
        self.fail = fail
        self.lock = threading.Lock()

    def __call__(self, notice: dict[str, Any]) -> None:
        if self.fail:
            raise RuntimeError("notice hook failed")
        with self.lock:
            self.notices.append(notice)

    def kinds(self) -> list[str]:
        return [n["kind"] for n in self.notices]


class RecordingAction:
    """A fulfilment hook that counts what it was called with."""

    def __init__(self, fail: bool = False) -> None:
        self.calls: list[str] = []
        self.fail = fail
        self.lock = threading.Lock()

    def __call__(self, order: dict[str, Any]) -> None:
        if self.fail:
            raise RuntimeError("hook failed")
        with self.lock:
            self.calls.append(order["session_id"])


def make_session(session_id: str | None = None, *, payment_status: str = "paid", status: str = "complete",
                 amount_total: int = 3000, currency: str = "usd", email: str = "buyer@example.com",
                 payment_intent: str | None = "pi_default", mode: str = "payment", **extra: Any) -> dict[str, Any]:
    session = copy.deepcopy(FIXTURES["checkout.session"])
    session.update(
        id=session_id or f"cs_test_{uuid.uuid4().hex}", status=status, payment_status=payment_status,
        amount_total=amount_total, amount_subtotal=amount_total, currency=currency, mode=mode,
        payment_intent=payment_intent, created=int(time.time()) - 60,
        # Stripe's example has Adaptive Pricing's figures; a plain sale has none (tests add them). Nor
        # has it a discount, shipping or tax (`make_sale_session` builds one that has).
        currency_conversion=None, presentment_details=None, shipping_cost=None, collected_information=None,
        total_details={"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0}, discounts=[],
        metadata={"static_checkout_items": json.dumps([{"price": "price_tshirt", "quantity": 2,
                                                        "description": "T-shirt", "amount_total": amount_total}])},
    )
    session["customer_details"]["email"] = email
    session.update(extra)
    return session


SHIP_TO = {"line1": "12 Harbour Road", "line2": "Flat 3", "city": "Dublin", "state": None, "postal_code": "D02 XY45",
           "country": "IE"}


def make_sale_session(session_id: str | None = None, *, shape: str = "basil", expanded: bool = False,
                      lines: tuple[tuple[str, str, int, int], ...] = (("price_tshirt", "T-shirt", 1500, 2),
                                                                     ("price_poster", "Poster", 2500, 1)),
                      percent_off: int = 10, shipping: int = 500, tax_percent: int = 8, tax_included: bool = False,
                      currency: str = "usd", **extra: Any) -> dict[str, Any]:
    """A completed session that sold `lines` (price id, description, unit amount, quantity) with a
    promotion code (`percent_off` of each line), shipping to an address at a flat `shipping` rate, and
    a flat tax of `tax_percent` on the discounted lines and on shipping, added to the prices or
    (`tax_included`) within them; each line's and the session's figures worked out as Stripe does.

    `shape`: where the API version puts the shipping details: `basil` (2025-03-31 and later:
    `collected_information.shipping_details`), `acacia` (before: `shipping_details`) or `legacy`
    (before 2022-08-01: `shipping`, and the rate as `shipping_rate`). `expanded`: as the success page reads
    it back (line items, the promotion code and the shipping rate expanded); else as a webhook carries it
    (the lines only in our metadata)."""
    items, recorded = [], []
    for price_id, description, unit, quantity in lines:
        subtotal = unit * quantity
        discount = subtotal * percent_off // 100
        if tax_included:
            tax = (subtotal - discount) - (subtotal - discount) * 100 // (100 + tax_percent)
            total = subtotal - discount
        else:
            tax = (subtotal - discount) * tax_percent // 100
            total = subtotal - discount + tax
        item = copy.deepcopy(FIXTURES["item"])
        price = copy.deepcopy(FIXTURES["price"])
        price.update(id=price_id, unit_amount=unit, unit_amount_decimal=str(unit), currency=currency, recurring=None,
                     type="one_time", tax_behavior="inclusive" if tax_included else "exclusive")
        item.update(id=f"li_{uuid.uuid4().hex[:20]}", description=description, quantity=quantity, price=price,
                    currency=currency, amount_subtotal=subtotal, amount_discount=discount, amount_tax=tax,
                    amount_total=total)
        items.append(item)
        recorded.append({"price": price_id, "quantity": quantity, "description": description,
                         "amount_total": subtotal})
    shipping_tax = shipping - shipping * 100 // (100 + tax_percent) if tax_included else shipping * tax_percent // 100
    subtotal = sum(i["amount_subtotal"] for i in items)
    discount = sum(i["amount_discount"] for i in items)
    tax = sum(i["amount_tax"] for i in items) + shipping_tax
    total = sum(i["amount_total"] for i in items) + shipping + (0 if tax_included else shipping_tax)
    rate = copy.deepcopy(FIXTURES["shipping_rate"])
    rate.update(id="shr_standard", display_name="Standard", fixed_amount={"amount": shipping, "currency": currency})
    code = copy.deepcopy(FIXTURES["promotion_code"])
    code.update(id="promo_ten", code="PROMO10", active=True)
    details = {"name": "Ada Lovelace", "address": dict(SHIP_TO)}
    session = make_session(session_id, amount_total=total, currency=currency, **extra)
    session["metadata"] = {"static_checkout_items": json.dumps(recorded)}
    session.update(
        amount_subtotal=subtotal,
        total_details={"amount_discount": discount, "amount_shipping": shipping, "amount_tax": tax},
        shipping_cost={"amount_subtotal": shipping, "amount_tax": shipping_tax,
                       "amount_total": shipping + (0 if tax_included else shipping_tax),
                       "shipping_rate": rate if expanded else rate["id"]} if shipping else None,
        discounts=[{"coupon": None, "promotion_code": code if expanded else code["id"]}] if percent_off else [],
        custom_fields=[{"key": "engraving", "label": {"type": "custom", "custom": "Engraving"}, "type": "text",
                        "optional": True, "text": {"value": "For Ada", "default_value": None,
                                                   "maximum_length": None, "minimum_length": None},
                        "numeric": None, "dropdown": None}],
        consent={"promotions": None, "terms_of_service": "accepted"},
    )
    session["customer_details"].update(name="Ada Lovelace", phone="+353 1 555 0100",
                                       tax_ids=[{"type": "eu_vat", "value": "IE1234567T"}])
    if shape == "basil":
        session["collected_information"] = {"shipping_details": details, "business_name": None,
                                            "individual_name": None}
    elif shape == "acacia":
        session["shipping_details"] = details
    else:
        session.update(shipping=details, shipping_rate=session["shipping_cost"]["shipping_rate"] if shipping else None,
                       shipping_cost=None, discounts=None)
        session.pop("collected_information", None)
    if expanded:
        session["line_items"] = {"object": "list", "data": items, "has_more": False,
                                 "url": f"/v1/checkout/sessions/{session['id']}/line_items"}
    session.update(extra)  # the caller's fields over the sale's
    return session


def sell_in_standin(standin: Any, session_id: str, monkeypatch: Any, **options: Any) -> dict[str, Any]:
    """Complete a stand-in session as a sale with a promotion code, shipping and tax (`make_sale_session`'s,
    for the lines the session has), as Checkout would have: the session and its line items then carry
    Stripe's figures, and reading it back expands the promotion code and the shipping rate. Returns the
    session as the success page reads it."""
    standin.complete_session(session_id, payment_status="paid", email=options.pop("email", "ada@example.com"))
    with standin._store.lock:
        session, items = standin.sessions[session_id], standin.line_items[session_id]
        lines = tuple((i["price"]["id"], i["description"], i["price"]["unit_amount"], i["quantity"]) for i in items)
        sale = make_sale_session(session_id, expanded=True, lines=lines, currency=session["currency"], **options)
        for item, sold in zip(items, sale["line_items"]["data"], strict=True):
            item.update({k: sold[k] for k in ("amount_subtotal", "amount_discount", "amount_tax", "amount_total")})
        rate = sale["shipping_cost"]["shipping_rate"] if sale["shipping_cost"] else None
        code = sale["discounts"][0]["promotion_code"] if sale["discounts"] else None
        session.update({k: copy.deepcopy(sale[k]) for k in (
            "amount_subtotal", "amount_total", "total_details", "shipping_cost", "discounts", "custom_fields",
            "consent", "collected_information")})
        session["customer_details"].update(name="Ada Lovelace", phone="+353 1 555 0100",
                                           tax_ids=[{"type": "eu_vat", "value": "IE1234567T"}])
        if rate:
            session["shipping_cost"]["shipping_rate"] = rate["id"]
        if code:
            session["discounts"] = [{"coupon": None, "promotion_code": code["id"]}]
    # The stand-in keeps no promotion codes or shipping rates: expanding one finds these.
    known = {obj["id"]: obj for obj in (rate, code) if obj}
    find = standin._store.find
    monkeypatch.setattr(standin._store, "find", lambda id: copy.deepcopy(known[id]) if id in known else find(id))
    return sale


def charge_of(payment_intent: str) -> str:
    """The charge id the builders give a payment intent's charge, so refunds and disputes name it too."""
    return "ch_" + payment_intent.removeprefix("pi_")


def make_charge(payment_intent: str, *, amount: int = 3000, amount_refunded: int = 3000, invoice: str | None = None,
                refunds: list[dict[str, Any]] | None = None, currency: str = "usd") -> dict[str, Any]:
    """A charge as `charge.refunded` carries it; `invoice` and a `refunds` list as API versions before
    2025-03-31 (invoice) and 2022-11-15 (refunds) sent them."""
    charge = copy.deepcopy(FIXTURES["charge"])
    charge.update(id=charge_of(payment_intent), payment_intent=payment_intent, amount=amount,
                  amount_refunded=amount_refunded, refunded=amount_refunded >= amount, currency=currency)
    if invoice is not None:
        charge["invoice"] = invoice
    if refunds is None:
        del charge["refunds"]  # not sent since 2022-11-15
    else:
        charge["refunds"] = {"object": "list", "data": refunds, "has_more": False}
    return charge


def make_refund(payment_intent: str, *, refund_id: str | None = None, amount: int = 3000, status: str = "succeeded",
                created: int | None = None, currency: str = "usd") -> dict[str, Any]:
    refund = copy.deepcopy(FIXTURES["refund"])
    refund.update(id=refund_id or f"re_{uuid.uuid4().hex[:24]}", payment_intent=payment_intent,
                  charge=charge_of(payment_intent), amount=amount, status=status, currency=currency,
                  # Before the events about it that tests stamp (Stripe creates the refund, then the events).
                  created=int(time.time()) - 7200 if created is None else created)
    if status == "failed":
        refund["failure_reason"] = "expired_or_canceled_card"
    return refund


def make_dispute(payment_intent: str, *, status: str = "needs_response", dispute_id: str | None = None,
                 amount: int = 3000) -> dict[str, Any]:
    dispute = copy.deepcopy(FIXTURES["dispute"])
    dispute.update(payment_intent=payment_intent, status=status, charge=charge_of(payment_intent), amount=amount)
    if dispute_id is not None:
        dispute["id"] = dispute_id
    return dispute


def make_fraud_warning(payment_intent: str | None) -> dict[str, Any]:
    warning = copy.deepcopy(FIXTURES["radar.early_fraud_warning"])
    warning.update(id=f"issfr_{uuid.uuid4().hex[:20]}", fraud_type="made_with_stolen_card")
    if payment_intent is not None:
        warning.update(payment_intent=payment_intent, charge=charge_of(payment_intent))
    return warning


def make_subscription_session(session_id: str | None = None, *, invoice: str, subscription: str,
                              amount_total: int = 500, **extra: Any) -> dict[str, Any]:
    """A completed subscription-mode Checkout Session: it names its first invoice, never a payment."""
    return make_session(session_id, mode="subscription", payment_intent=None, invoice=invoice,
                        subscription=subscription, amount_total=amount_total, **extra)


def make_invoice(invoice_id: str, subscription: str, *, shape: str = "basil", payment_intent: str | None = None,
                 billing_reason: str = "subscription_cycle", amount: int = 500, status: str = "paid",
                 listed_payment: bool = False) -> dict[str, Any]:
    """A subscription invoice in one API shape: `basil` (2025-03-31 and later: the subscription under
    `parent`, payments only in `payments` when `listed_payment`) or `acacia` (before: `subscription`,
    `payment_intent` and `charge` on the invoice)."""
    invoice = copy.deepcopy(FIXTURES["invoice"])
    invoice.update(id=invoice_id, billing_reason=billing_reason, amount_due=amount, currency="usd", status=status,
                   amount_paid=amount if status == "paid" else 0, customer_email="buyer@example.com",
                   hosted_invoice_url=f"https://invoice.stripe.com/i/acct_test/{invoice_id}")
    if shape == "basil":
        invoice.pop("subscription", None)
        invoice["parent"] = {"type": "subscription_details",
                             "subscription_details": {"subscription": subscription, "metadata": {}}}
        if listed_payment and payment_intent:
            entry = make_invoice_payment(invoice_id, payment_intent, amount=amount)
            invoice["payments"] = {"object": "list", "data": [entry], "has_more": False}
    else:
        invoice.update(subscription=subscription, parent=None, payment_intent=payment_intent,
                       charge=charge_of(payment_intent) if payment_intent else None)
    return invoice


def make_invoice_payment(invoice_id: str, payment_intent: str, *, amount: int = 500) -> dict[str, Any]:
    payment = copy.deepcopy(FIXTURES["invoice_payment"])
    payment.update(id=f"inpay_{uuid.uuid4().hex[:20]}", invoice=invoice_id, status="paid", amount_paid=amount,
                   amount_requested=amount, currency="usd",
                   payment={"type": "payment_intent", "payment_intent": payment_intent})
    return payment


def make_subscription(subscription_id: str, *, status: str = "active", trial_end: int | None = None) -> dict[str, Any]:
    sub = copy.deepcopy(FIXTURES["subscription"])
    sub.update(id=subscription_id, status=status, trial_end=trial_end, cancel_at=None, canceled_at=None,
               cancel_at_period_end=False)
    return sub


def make_event(type_: str, obj: dict[str, Any], *, created: int | None = None,
               event_id: str | None = None) -> dict[str, Any]:
    event = copy.deepcopy(FIXTURES["event"])
    event.update(id=event_id or f"evt_{uuid.uuid4().hex[:24]}", type=type_,
                 created=int(time.time()) if created is None else created, data={"object": obj})
    return event


def signed(event: dict[str, Any], secret: str, *, timestamp: int | None = None) -> tuple[bytes, dict[str, str]]:
    """The body and headers of a delivery, signed as Stripe signs it."""
    body = json.dumps(event).encode()
    return body, {"Stripe-Signature": sign(body, secret, timestamp), "Content-Type": "application/json"}
