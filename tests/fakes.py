"""Fakes at the seams: an in-memory store with the store's contract, and Stripe-shaped events."""

from __future__ import annotations

import copy
import json
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from shared.events.signature import sign
from shared.store.base import Claim, TransactionFailed, VersionConflict, Write
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

    def transact(self, writes: Sequence[Write]) -> None:
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
                item = self.items.setdefault(write.key, {"pk": write.key})
                item.update(copy.deepcopy(dict(write.set)))
                for name, amount in write.add.items():
                    item[name] = item.get(name, 0) + amount
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


def _holds(write: Write, item: dict[str, Any] | None) -> bool:
    """A write's conditions on the item as it is, as DynamoDB evaluates them (a missing attribute fails)."""
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
        # Stripe's example has Adaptive Pricing's figures; a plain sale has none (tests add them).
        currency_conversion=None, presentment_details=None,
        metadata={"static_checkout_items": json.dumps([{"price": "price_tshirt", "quantity": 2,
                                                        "description": "T-shirt", "amount_total": amount_total}])},
    )
    session["customer_details"]["email"] = email
    session.update(extra)
    return session


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
