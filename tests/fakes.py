"""Fakes at the seams: an in-memory store with the store's contract, and Stripe-shaped events."""

from __future__ import annotations

import copy
import json
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from shared.events.signature import sign
from shared.store.base import Claim, VersionConflict

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

    def put(self, key: str, item: dict[str, Any], *, expected_version: int) -> None:
        self._check()
        with self.lock:
            current = self.items.get(key)
            if (current is None) != (expected_version == 0) or (current and current.get("version") != expected_version):
                raise VersionConflict()
            self.items[key] = {**copy.deepcopy(item), "pk": key, "version": expected_version + 1}

    def claim(self, key: str, token: str, *, now: int, until: int, expires_at: int | None = None,
              create: bool = True) -> Claim:
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
            item.update(claim_token=token, claim_until=until, version=item.get("version", 0) + 1)
            if expires_at is not None:
                item["expires_at"] = expires_at
            self.items[key] = item
            return Claim.CLAIMED

    def finish(self, key: str, token: str, *, now: int) -> None:
        self._check()
        with self.lock:
            item = self.items.get(key)
            if not item or item.get("claim_token") != token:
                raise VersionConflict()
            item.pop("claim_token"), item.pop("claim_until", None)
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

    def release(self, key: str, token: str) -> None:
        self._check()
        with self.lock:
            item = self.items.get(key)
            if item and item.get("claim_token") == token:
                item.pop("claim_token"), item.pop("claim_until", None)
                item["version"] += 1

    def increment(self, key: str, *, expires_at: int) -> int:
        self._check()
        with self.lock:
            item = self.items.setdefault(key, {"pk": key, "hits": 0})
            item.update(hits=item["hits"] + 1, expires_at=expires_at)
            return item["hits"]

    def query(self, index: str, partition: str, *, limit: int) -> list[dict[str, Any]]:
        self._check()
        with self.lock:
            orders = [copy.deepcopy(i) for k, i in self.items.items() if k.startswith("ORDER#")]
        if index == "by_email":
            orders = [o for o in orders if f"EMAIL#{str(o.get('customer_email', '')).lower()}" == partition]
        return sorted(orders, key=lambda o: o.get("created") or 0, reverse=True)[:limit]


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
        metadata={"static_checkout_items": json.dumps([{"price": "price_tshirt", "quantity": 2,
                                                        "description": "T-shirt", "amount_total": amount_total}])},
    )
    session["customer_details"]["email"] = email
    session.update(extra)
    return session


def make_charge(payment_intent: str, *, amount: int = 3000, amount_refunded: int = 3000) -> dict[str, Any]:
    charge = copy.deepcopy(FIXTURES["charge"])
    charge.update(payment_intent=payment_intent, amount=amount, amount_refunded=amount_refunded,
                  refunded=amount_refunded >= amount)
    return charge


def make_dispute(payment_intent: str, *, status: str = "needs_response") -> dict[str, Any]:
    dispute = copy.deepcopy(FIXTURES["dispute"])
    dispute.update(payment_intent=payment_intent, status=status)
    return dispute


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
