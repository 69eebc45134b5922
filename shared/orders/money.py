"""Money after a sale: refunds, disputes and fraud warnings as facts, and what they add up to. Pure.

Each refund, dispute and warning is kept by its Stripe id, holding the latest state Stripe described,
so events about it may come in any order and any number of times. The amounts and the status are
derived from those facts on every change, never accumulated, so nothing is counted twice.

Refunded amount: Stripe describes refunds two ways. A refund object (`refund.*`,
`charge.refund.updated`, or listed in a `charge.refunded` before API version 2022-11-15) has its own
id, amount and status: pending, requires_action and succeeded refunds count; failed and canceled ones
do not. A `charge.refunded` event carries the charge's cumulative `amount_refunded` at that moment,
covering refunds we may never see one by one. Per charge, the refunded amount is every counted refund
we know of, plus what the cumulative figure holds beyond the refunds we know it already counted: those
created before it and not yet failed when it was taken (Stripe takes a failed refund out of the
charge's `amount_refunded`). So a refund seen both ways counts once, and one that fails after the
cumulative figure is taken back out of it.
"""

from __future__ import annotations

from typing import Any

Record = dict[str, Any]

UNKNOWN = "unknown"  # the key of a charge or dispute Stripe did not name (DynamoDB map keys cannot be empty)
NOT_COUNTED = ("failed", "canceled")
# A refund moves pending/requires_action -> succeeded -> failed (or canceled), never back.
_REFUND_STAGE = {"pending": 0, "requires_action": 0, "succeeded": 1, "failed": 2, "canceled": 2}
CLOSED_DISPUTE = ("won", "lost", "warning_closed", "prevented")
FACT_MAPS = ("charges", "refunds", "disputes", "fraud_warnings")


def record(money: Record, *, created: int, charge: Record | None = None, refunds: tuple[Record, ...] = (),
           dispute: Record | None = None, fraud_warning: Record | None = None) -> None:
    """Fold one event's money facts (stamped `at` its `created`) into `money`'s fact maps, in place."""
    if charge is not None:
        _merge(money, "charges", charge.get("id") or UNKNOWN, {**charge, "at": created}, _charge_rank)
    for refund in refunds:
        _merge(money, "refunds", refund["id"], {**refund, "at": created}, _refund_rank)
    if dispute is not None:
        _merge(money, "disputes", dispute.get("id") or UNKNOWN, {**dispute, "at": created}, _dispute_rank)
    if fraud_warning is not None:
        _merge(money, "fraud_warnings", fraud_warning["id"], {**fraud_warning, "at": created}, lambda w: w["at"])


def counts(refund: Record) -> bool:
    return refund.get("status") not in NOT_COUNTED


def amount_refunded(money: Record) -> int:
    """What was refunded, in the charges' currency: see the module's note."""
    charges: dict[str, Record] = money.get("charges") or {}
    refunds: list[Record] = list((money.get("refunds") or {}).values())
    total = 0
    for charge_id in set(charges) | {r.get("charge") or UNKNOWN for r in refunds}:
        mine = [r for r in refunds if (r.get("charge") or UNKNOWN) == charge_id]
        counted = sum(int(r.get("amount") or 0) for r in mine if counts(r))
        charge = charges.get(charge_id)
        if charge is None:
            total += counted
            continue
        taken = charge["at"]
        known = sum(int(r.get("amount") or 0) for r in mine if _in_cumulative(r, taken))
        total += counted + max(0, int(charge.get("amount_refunded") or 0) - known)
    return total


def money_status(money: Record, paid: int | None) -> str | None:
    """The status the money facts impose, or None when they impose none. `paid` is what was charged."""
    disputes = list((money.get("disputes") or {}).values())
    if any(d.get("status") == "lost" for d in disputes):
        return "dispute_lost"  # final: the money is gone whatever else happens
    if any(d.get("open") for d in disputes):
        return "disputed"
    refunded = amount_refunded(money)
    if refunded > 0:
        return "refunded" if refunded >= (paid or 0) else "partially_refunded"
    return None


def charged(money: Record, amount_total: int | None, currency: str | None,
            presentment: Record | None) -> tuple[int | None, str | None]:
    """What the payment charged, in the currency its refunds are in: the charge's own amount when a
    `charge.refunded` told it, else the order's total in the refunds' currency (the buyer's, when
    Stripe's older API versions charged in it)."""
    charges = [c for c in (money.get("charges") or {}).values() if c.get("amount") is not None]
    if charges:
        return sum(int(c["amount"]) for c in charges), charges[0].get("currency") or currency
    refund_currency = next((r.get("currency") for r in (money.get("refunds") or {}).values() if r.get("currency")),
                           None)
    if presentment and refund_currency and refund_currency == presentment.get("currency") != currency:
        return presentment.get("amount"), refund_currency
    return amount_total, currency


def summary(money: Record, paid: int | None, currency: str | None) -> Record:
    """The readable figures: `refund` (amount refunded of what was charged) and `dispute` (the one that
    decides the status: lost, else open, else the latest), each only once there is one."""
    out: Record = {}
    if money.get("charges") or money.get("refunds"):
        out["refund"] = {"amount_refunded": amount_refunded(money), "amount": paid, "currency": currency}
    disputes = list((money.get("disputes") or {}).values())
    if disputes:
        lead = max(disputes, key=lambda d: (d.get("status") == "lost", bool(d.get("open")), d["at"]))
        out["dispute"] = {**{k: v for k, v in lead.items() if k != "at"}, "created": lead["at"],
                          **({} if lead.get("open") else {"outcome": lead.get("status")})}
    return out


def amount_lost(money: Record) -> int:
    """Taken back by lost disputes."""
    return sum(int(d.get("amount") or 0) for d in (money.get("disputes") or {}).values() if d.get("status") == "lost")


def _in_cumulative(refund: Record, taken: int) -> bool:
    # Created by the time the charge's figure was taken, and not already failed then.
    if int(refund.get("created") or refund["at"]) > taken:
        return False
    return counts(refund) or refund["at"] > taken


def _merge(money: Record, name: str, key: str, candidate: Record, rank: Any) -> None:
    facts = dict(money.get(name) or {})
    current = facts.get(key)
    if current is None or rank(candidate) >= rank(current):
        facts[key] = candidate
    money[name] = facts


def _charge_rank(charge: Record) -> tuple[int, int]:
    # The newest figure; on a tie, the larger (a later refund adds to it).
    return charge["at"], int(charge.get("amount_refunded") or 0)


def _refund_rank(refund: Record) -> tuple[int, int]:
    # The later stage wins whatever the arrival order; within a stage, the newest.
    return _REFUND_STAGE.get(refund.get("status") or "", 0), refund["at"]


def _dispute_rank(dispute: Record) -> tuple[int, int]:
    # A closed dispute stays closed: its outcome is final.
    return (0 if dispute.get("open") else 1), dispute["at"]
