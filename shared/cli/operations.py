"""The operator's commands: `subscriptions` (list, cancel, resume, change-plan, retry), `events` (the
ledger) and `report` (sales). Their arguments, and what each prints; the work is in their modules."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._args import arg, currency, parse_window

if TYPE_CHECKING:
    from ..web.services import Services


def add_commands(commands: Any) -> None:
    """Add these commands to the parser's subcommands."""
    from .events_log import OUTCOMES

    events = commands.add_parser("events", help="what the webhook and EventBridge paths did, from the ledger")
    events.add_argument("--since", type=parse_window, default=parse_window("24h"))
    events.add_argument("--outcome", choices=OUTCOMES)
    events.add_argument("--limit", type=int, default=100, help="show the newest N (the counts cover all)")
    events.add_argument("--json", action="store_true")

    reporting = commands.add_parser("report", help="sales, conversion and subscriptions, from our own table")
    reporting.add_argument("--since", type=parse_window, default=parse_window("90d"))
    reporting.add_argument("--currency", type=arg(currency), help="one currency only, e.g. usd")
    reporting.add_argument("--by", choices=("day", "week"), help="default: day up to 62 days, week beyond")
    reporting.add_argument("--json", action="store_true", help="the report as JSON (see docs/sellers.md)")
    reporting.add_argument("--html", metavar="FILE", help="also write a self-contained HTML page with charts")

    from .subscription_billing import PRORATIONS
    from .subscriptions import STATUSES

    subs = commands.add_parser("subscriptions", help="list, cancel, resume, change plan, retry payment")
    subs_do = subs.add_subparsers(dest="action", required=True)
    listing = subs_do.add_parser("list")
    listing.add_argument("--status", choices=STATUSES, help="default: every status but canceled")
    listing.add_argument("--limit", type=int, default=20)
    listing.add_argument("--json", action="store_true")
    who = "a subscription ID (sub_…) or the customer's email"
    cancel = subs_do.add_parser("cancel", help="cancel now, or --at-period-end")
    cancel.add_argument("who", metavar="WHO", help=who)
    cancel.add_argument("--at-period-end", action="store_true")
    resume = subs_do.add_parser("resume", help="undo a scheduled cancellation")
    resume.add_argument("who", metavar="WHO", help=who)
    change = subs_do.add_parser("change-plan", help="preview, then move to another price")
    change.add_argument("who", metavar="WHO", help=who)
    change.add_argument("--price", required=True, help="the new price: an ID or lookup key in ALLOWED_PRICES")
    change.add_argument("--proration", choices=PRORATIONS, default=PRORATIONS[0],
                        help="create_prorations: on the next invoice (default); always_invoice: charged now; "
                             "none: the new price from the next period")
    change.add_argument("--yes", action="store_true", help="apply without asking")
    retry = subs_do.add_parser("retry", help="pay the latest open invoice now")
    retry.add_argument("who", metavar="WHO", help=who)


def subscriptions(services: Services, args: argparse.Namespace) -> int:
    from . import subscriptions as admin

    if args.action == "list":
        rows = admin.list_rows(services.gateway, status=args.status, limit=args.limit)
        if args.json:
            print(json.dumps([vars(row) for row in rows], indent=2))
        else:
            print("\n".join(row.line() for row in rows) or "No subscriptions.")
        return 0

    from . import subscription_billing as billing
    from .subscription_lookup import find_subscription

    sub_id = find_subscription(args.who, store=services.store, gateway=services.gateway)
    if args.action == "cancel":
        print(admin.cancel(services.gateway, sub_id, at_period_end=args.at_period_end))
    elif args.action == "resume":
        print(admin.resume(services.gateway, sub_id))
    elif args.action == "retry":
        text, paid = billing.retry(services.gateway, sub_id)
        print(text)
        return 0 if paid else 1
    else:
        change = billing.plan_change(services.gateway, services.catalog, sub_id, args.price,
                                     proration=args.proration, now=int(time.time()))
        if change is None:
            print(f"{sub_id} is already on {args.price}; nothing to change.")
            return 0
        print(billing.describe(change))
        if not (args.yes or _confirm("Apply this change? [y/N] ")):
            asked = sys.stdin.isatty()
            print("Not applied." if asked else "Not applied: add --yes to apply it.")
            return 0 if asked else 1
        print(billing.apply(services.gateway, change))
    return 0


def _confirm(question: str) -> bool:
    """Ask on a terminal; anywhere else (a script, a pipe) the answer is no."""
    if not sys.stdin.isatty():
        return False
    try:
        return input(question).strip().lower() in ("y", "yes")
    except EOFError:
        return False


def events(services: Services, args: argparse.Namespace) -> int:
    from ..errors import Code, InvalidRequest
    from . import events_log

    if args.limit < 1:
        raise InvalidRequest("--limit must be 1 or more.", code=Code.INVALID_LIMIT)
    if args.outcome in events_log.NOT_RECORDED:
        print(events_log.NOT_RECORDED_NOTE, file=sys.stderr)
        if args.json:
            print("[]")
        return 0
    now = int(time.time())
    found = events_log.entries(events_log.read(services.store, since=now - args.since, until=now), now=now,
                               outcome=args.outcome)
    if args.json:
        print(json.dumps(events_log.as_json(found[: args.limit]), indent=2))
        return 0
    print("\n".join(entry.line() for entry in found[: args.limit]) or "No events in this window.")
    print(events_log.summary(found, now - args.since))
    return 0


def report(services: Services, args: argparse.Namespace) -> int:
    from . import report as sales
    from . import report_data, report_text

    now = int(time.time())
    built = sales.build(report_data.orders_since(services.store, now - args.since),
                        report_data.subscriptions(services.store),
                        since=now - args.since, now=now, currency=args.currency, bucket=args.by)
    if args.html:
        from .report_html import render

        try:
            Path(args.html).write_text(render(built), encoding="utf-8")
        except OSError as exc:
            print(f"report: cannot write {args.html}: {exc.strerror}", file=sys.stderr)
            return 1
    if args.json:
        print(json.dumps(built, indent=2, sort_keys=True))
    else:
        print(report_text.render(built))
        if args.html:
            print(f"\nWrote {args.html}.")
    return 0


COMMANDS = {"subscriptions": subscriptions, "events": events, "report": report}
