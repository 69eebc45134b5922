"""Fulfilment: the actions a paid order triggers, run once per order whatever triggers them.

The webhook, a Stripe retry, the success page and `reconcile` all call `fulfil_if_due`. The order
item itself is the lock: a conditional claim with a lease (so a crash mid-way frees it for the
next trigger), then `done_at` set only by the claim's holder. Actions: the record (always), a
confirmation email through Amazon SES when `EMAIL_FROM` is set, and the seller's own hook. The same
object tells the seller's notice hook (`notices.py`) what else happened, once.
"""

from __future__ import annotations

import importlib
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

from .. import telemetry
from ..errors import Code, Conflict, Misconfigured, OperationFailed, StoreUnavailable
from ..money import format_amount
from ..store.base import Claim, Records, Store, release_after_failure
from ..store.keys import order_key
from . import notices, sale
from .model import Order, due_for_fulfilment, public_view
from .notices import Notify
from .records import Reached

if TYPE_CHECKING:
    from ..settings import Settings


class FulfilmentFailed(OperationFailed):
    code = Code.FULFILMENT_FAILED


class FulfilmentBusy(Conflict):
    """Another invocation holds the order's fulfilment lease; retry after it ends."""

    code = Code.FULFILMENT_IN_PROGRESS


Action = Callable[[dict[str, Any]], None]


class Fulfiller:
    def __init__(self, actions: list[Action], *, notify: Notify | None = None, lease_seconds: int = 60) -> None:
        self.actions = actions
        self.notify = notify
        self.lease_seconds = lease_seconds

    @classmethod
    def from_settings(cls, settings: Settings, *, ses_client: Any = None) -> Fulfiller:
        actions: list[Action] = []
        notify = None
        if settings.email_from:
            actions.append(EmailReceipt(settings.email_from, region=settings.aws_region, client=ses_client))
        if settings.fulfillment_hook:
            actions.append(load_hook(settings.fulfillment_hook))
            notify = notices.load_notice_hook(settings.fulfillment_hook)
        return cls(actions, notify=notify, lease_seconds=settings.event_lease_seconds)

    def settle(self, store: Store, reached: Reached, *, now: int | None = None) -> None:
        """After a change reached a record: fulfil an order now due, and tell of a lost dispute."""
        kind, record = reached
        if kind == "order":
            self.fulfil_if_due(store, record, now=now)
        if self.notify is None:
            return
        lost = notices.dispute_lost(kind, record)
        if lost is not None:
            self.notify_once(store, *lost, now=now)

    def tell(self, notice: dict[str, Any]) -> None:
        """Call the notice hook, under a claim the caller holds (an event's, in the ledger)."""
        if self.notify is None:
            return
        try:
            self.notify(notice)
        except Exception as exc:  # the seller's code: any failure is retried, like a failed fulfilment
            telemetry.count("FulfilmentFailures")
            telemetry.logger().exception("notice failed", extra={"notice": notice.get("kind"),
                                                                  "error": type(exc).__name__})
            raise FulfilmentFailed("The notice hook failed and will be retried.") from exc

    def notify_once(self, store: Store, key: str, notice: dict[str, Any], *, now: int | None = None) -> bool:
        """Call the notice hook once for `key`, whichever trigger gets here first; True when this call did."""
        now = int(time.time()) if now is None else now
        return self._once(store, key, lambda: self.tell(notice), now=now, correlation_id=key,
                          busy="This notice is being sent by another request; retry shortly.")

    def fulfil_if_due(self, store: Store, order: Order, *, now: int | None = None) -> bool:
        """Run the actions if this order is due and nobody did; True when this call fulfilled it."""
        if not due_for_fulfilment(order):
            return False
        now = int(time.time()) if now is None else now
        key = order_key(order["session_id"])
        if not self.actions:
            # The record is the only action: mark it fulfilled in one conditional write.
            done = store.complete(key, now=now)
            if done is Claim.IN_PROGRESS:
                raise FulfilmentBusy("This order is being fulfilled by another request; retry shortly.")
            if done is Claim.CLAIMED:
                telemetry.count("Fulfilments")
            return done is Claim.CLAIMED
        if not self._once(store, key, lambda: self.run(order), now=now, create=False,
                          correlation_id=order["session_id"],
                          busy="This order is being fulfilled by another request; retry shortly."):
            return False
        fulfilled(order)
        return True

    def _once(self, store: Store, key: str, work: Callable[[], None], *, now: int, correlation_id: str,
              busy: str, create: bool = True) -> bool:
        """Do `work` under a claim on `key`, unless it was done: False when it was, `FulfilmentBusy` when
        another request holds the claim. A failed `work` (`FulfilmentFailed`) frees the claim, so a retry
        does it again; done, the claim is finished through a longer store hiccup (`persist`)."""
        token = uuid.uuid4().hex
        outcome = store.claim(key, token, now=now, until=now + self.lease_seconds, create=create)
        if outcome is Claim.DONE:
            return False
        if outcome is Claim.IN_PROGRESS:
            raise FulfilmentBusy(busy)
        try:
            work()
        except FulfilmentFailed:
            release_after_failure(store, key, token, correlation_id=correlation_id)
            raise
        persist(lambda: store.finish(key, token, now=now))
        return True

    def take_up(self, records: Records, order: Order, *, now: int, token: str) -> Taken | None:
        """Fold the fulfilment of an order due into the write that records its change (the webhook's
        unit of work, `store/unit.py`), rather than a claim and a finish of its own after it:

        - `fulfilled`: with no actions the record is the fulfilment, so the order is written done;
        - `claimed`: the order is written with this token's lease: `run` the actions once the write is
          made, then end the lease (`done_at`) as `fulfil_if_due` would, or release it if they fail;
        - `busy`: another trigger holds the order's lease: `fulfil_if_due` after the write says so.

        None when there is nothing to do: not due, or done already.
        """
        if not due_for_fulfilment(order):
            return None
        key = order_key(order["session_id"])
        current = records.get(key)
        if current is None or current.get("done_at") is not None:
            return None
        if int(current.get("claim_until") or 0) >= now and current.get("claim_token") != token:
            return "busy"  # (with our token, the lease is our own earlier attempt's: take it again)
        if self.actions:
            taken = {**current, "claim_token": token, "claim_until": now + self.lease_seconds}
        else:
            taken = {**{k: v for k, v in current.items() if k not in LEASE}, "done_at": now}
        records.put(key, taken, expected_version=int(current.get("version", 0)))
        return "claimed" if self.actions else "fulfilled"

    def run(self, order: Order) -> None:
        """Run the actions for an order whose lease the caller holds; `FulfilmentFailed` when one fails."""
        view = public_view(order)
        try:
            for action in self.actions:
                action(view)
        except Exception as exc:
            # The seller's hook or SES failed: the caller frees the order so a retry runs them again.
            telemetry.count("FulfilmentFailures")
            telemetry.logger().exception("fulfilment failed", extra={
                "correlation_id": order["session_id"], "error": type(exc).__name__})
            raise FulfilmentFailed("Fulfilment failed and will be retried.") from exc


Taken = Literal["fulfilled", "claimed", "busy"]
LEASE = ("claim_token", "claim_until")  # a lease's attributes, dropped when its work is done


def fulfilled(order: Order) -> None:
    """Say an order was fulfilled: the metric and the log line, once the write saying so is made."""
    telemetry.count("Fulfilments")
    telemetry.logger().info("order fulfilled", extra={"correlation_id": order["session_id"]})


def persist(write: Callable[[], None], attempts: int = 5, delay: float = 0.2) -> None:
    """Marking work done after the seller's code ran for it is the write whose loss would repeat that
    code (after the lease, a retry would run it again), so it rides out a longer store hiccup."""
    for attempt in range(attempts):
        try:
            write()
            return
        except StoreUnavailable:
            if attempt == attempts - 1:
                raise
            time.sleep(delay * 2**attempt)


def load_hook(spec: str) -> Action:
    """The seller's function `FULFILLMENT_HOOK` names (`package.module:function`), imported now.

    Whatever stops it loading is a setting to fix (`Misconfigured`, named), not an internal error. It is
    loaded when the webhook, the success page or `reconcile` first builds the `Fulfiller`, and by
    /api/health and `doctor`; never when settings are read: only importing the module proves it imports
    (finding it does not: its own imports may fail), and a checkout request should not run the seller's code.
    """
    module_name, _, attribute = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # the seller's module: a missing one, or anything its own import raises
        raise Misconfigured(f"FULFILLMENT_HOOK cannot be imported ({type(exc).__name__}): check the module "
                            "path and that the module is deployed with the functions") from exc
    hook = getattr(module, attribute, None)
    if hook is None:
        raise Misconfigured("FULFILLMENT_HOOK names a function its module does not define")
    if not callable(hook):
        raise Misconfigured("FULFILLMENT_HOOK names something that is not a function")
    return hook


class EmailReceipt:
    """A plain-text order confirmation through Amazon SES."""

    def __init__(self, sender: str, *, region: str | None = None, client: Any = None) -> None:
        self.sender = sender
        self.region = region
        self._client = client

    def __call__(self, order: dict[str, Any]) -> None:
        recipient = order.get("customer_email")
        if not recipient:
            return
        if self._client is None:
            from .. import aws

            self._client = aws.client("ses", region=self.region)
        self._client.send_email(
            Source=self.sender,
            Destination={"ToAddresses": [recipient]},
            Message={"Subject": {"Data": "Your order is confirmed"}, "Body": {"Text": {"Data": receipt_text(order)}}},
        )


def receipt_text(order: dict[str, Any]) -> str:
    """The confirmation: each line at its price, the breakdown (subtotal, discount, shipping, tax) when
    there is more than the lines, the total, where it ships to, and the order's reference."""
    breakdown = order.get("sale") or {}
    currency = breakdown.get("currency") or order.get("currency")
    lines = []
    for item in order.get("line_items", []):
        amount = item.get("amount_subtotal") if item.get("amount_subtotal") is not None else item.get("amount_total")
        priced = f": {format_amount(amount, item.get('currency') or currency)}" if amount is not None else ""
        lines.append(f"{item.get('quantity', 1)} × {item.get('description') or item.get('price')}{priced}")
    lines += [f"{label}: {format_amount(amount, currency)}" for label, amount in sale.rows(breakdown)]
    total = format_amount(order["amount_total"], order.get("currency")) if order.get("amount_total") is not None \
        else None
    presentment = order.get("presentment") or {}
    if presentment.get("amount") is not None and presentment.get("currency") not in (None, order.get("currency")):
        # What the buyer paid, in the currency they paid in; the seller's price after it.
        paid = format_amount(presentment["amount"], presentment["currency"])
        lines.append(f"Total: {paid}" + (f" ({total})" if total else ""))
    elif total:
        lines.append(f"Total: {total}")
    ship_to = sale.address_lines(breakdown.get("shipping"))
    if ship_to:
        lines += ["", "Ships to:", *(f"  {line}" for line in ship_to)]
    lines += ["", f"Order reference: {order['session_id']}"]
    return "Thank you for your order.\n\n" + "\n".join(lines) + "\n"
