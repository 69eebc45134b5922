"""The command line: `python -m shared serve | create-table | reconcile | orders | events | report | catalog |
stock | subscriptions | doctor | trigger | demo`. Each command is a few lines here; what it does lives in its
own module.

The local demo (`serve --demo`, `demo …`) is not imported here: `python -m shared` hands it in (`Demo`),
so nothing the command line imports can bring the demo along."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from ..errors import DomainError
from . import operations
from . import stock as stock_commands
from ._args import arg as _arg
from ._args import parse_window

if TYPE_CHECKING:
    from ..web.services import Services

__all__ = ["Demo", "main", "parse_window"]


class Demo(Protocol):
    """The local demo's commands, as `shared.demo.commands` provides them."""

    def run(self, args: argparse.Namespace) -> int:
        """`serve --demo` and `demo expire | refund`."""
        ...

    def environment(self) -> dict[str, str]:
        """The settings of a demo running from this folder, which other commands then use; {} if none."""
        ...


def main(argv: Sequence[str] | None = None, *, demo: Demo | None = None) -> int:
    args = _parser().parse_args(argv)

    if args.command == "demo" or (args.command == "serve" and args.demo):
        if demo is None:
            print("The demo is not part of this install.", file=sys.stderr)
            return 2
        return demo.run(args)

    if args.command == "serve":
        from .serve import serve as run

        return run(args.host, args.port)

    from ..settings import read_dotenv
    from ..web.services import Services

    if demo is not None:
        os.environ.update(demo.environment())
    read_dotenv(Path.cwd() / ".env")
    services = Services()
    try:
        return _COMMANDS[args.command](services, args)
    except DomainError as exc:
        print(f"{args.command}: {exc.message}", file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m shared", description="static-checkout")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve public/ and the API locally")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--demo", action="store_true",
                       help="try the whole sale with no Stripe account: a local Stripe stand-in, the demo catalog, "
                            "no real payments")
    commands.add_parser("create-table", help="create the DynamoDB table (idempotent)")
    rec = commands.add_parser("reconcile", help="apply Stripe events the ledger lacks")
    rec.add_argument("--since", type=parse_window, default=parse_window("72h"))
    rec.add_argument("--dry-run", action="store_true")
    from . import orders

    orders.add_command(commands)

    catalog = commands.add_parser("catalog", help="Stripe products and prices from a catalog file")
    catalog_do = catalog.add_subparsers(dest="action", required=True)
    sync = catalog_do.add_parser("sync", help="create or update products and prices to match the file")
    sync.add_argument("file")
    sync.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    sync.add_argument("--archive-replaced", action="store_true",
                      help="archive a price its replacement took the lookup key from (default: keep it on sale)")
    render = catalog_do.add_parser("render", help="write the store page from the catalog file")
    render.add_argument("file")
    render.add_argument("--out", default="public/index.html")

    operations.add_commands(commands)
    stock_commands.add_commands(commands)

    doctor = commands.add_parser("doctor", help="check the whole setup and say what to fix")
    doctor.add_argument("--endpoint-url", help="the webhook endpoint's URL (default: SITE_URL/api/webhook)")
    doctor.add_argument("--timeout", type=float, default=5.0, help="seconds to wait for SITE_URL")

    from .trigger import SAMPLES, http_url, parse_override

    trigger = commands.add_parser("trigger", help="send a signed sample event to a webhook endpoint")
    trigger.add_argument("type", choices=sorted(SAMPLES), metavar="TYPE", help=", ".join(sorted(SAMPLES)))
    trigger.add_argument("--to", required=True, type=_arg(http_url), help="e.g. http://127.0.0.1:8000/api/webhook")
    trigger.add_argument("--secret", help="signing secret (default: STRIPE_WEBHOOK_SECRET; prefer that)")
    trigger.add_argument("--override", "-o", action="append", default=[], type=_arg(parse_override),
                         metavar="FIELD=VALUE", help="set a field of the event's object, e.g. payment_intent=pi_123")

    demo = commands.add_parser("demo", help="act on the running demo (`serve --demo`) as Stripe would")
    demo_do = demo.add_subparsers(dest="action", required=True)
    expire = demo_do.add_parser("expire", help="expire an open checkout: checkout.session.expired")
    expire.add_argument("session_id")
    refund = demo_do.add_parser("refund", help="refund a paid checkout, whole or in part: charge.refunded")
    refund.add_argument("session_id")
    refund.add_argument("--amount", type=_positive, help="in the currency's minor unit (500 is 5.00 USD); "
                                                         "default: what is left to refund")
    return parser


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError("a whole number of the currency's minor unit, at least 1")
    return int(text)


def _create_table(services: Services, args: argparse.Namespace) -> int:
    from ..store.dynamo import DynamoStore

    store = DynamoStore.from_settings(services.settings)
    created = store.create_table()
    print(f"Table {store.table} {'created' if created else 'already exists'}, with TTL on expires_at.")
    return 0


def _reconcile(services: Services, args: argparse.Namespace) -> int:
    from ..events.recovery import reconcile

    report = reconcile(services.gateway, services.store, services.fulfiller, since=int(time.time()) - args.since,
                       dry_run=args.dry_run, lease_seconds=services.settings.event_lease_seconds,
                       restock_on_refund=services.checkout_options.restock_on_refund)
    verb = "missing" if args.dry_run else "new"
    print(f"{len(report.new)} {verb}, {report.already} already applied, {report.ignored} ignored, "
          f"{len(report.failed)} failed")
    for event_id, code in report.failed:
        print(f"  failed {event_id}: {code}")
    return 1 if report.failed else 0


def _orders(services: Services, args: argparse.Namespace) -> int:
    from . import orders

    return orders.run(services, args)


def _catalog(services: Services, args: argparse.Namespace) -> int:
    from .catalog import CatalogError, read
    from .catalog_page import allowed_prices_line, render_page, snippet

    try:
        catalog = read(Path(args.file))
    except CatalogError as exc:
        print(f"{args.file}: {len(exc.problems)} problem(s) to fix:", *exc.problems, sep="\n  ", file=sys.stderr)
        return 1
    if args.action == "render":
        try:
            Path(args.out).write_text(render_page(catalog), encoding="utf-8")
        except OSError as exc:
            print(f"catalog: cannot write {args.out}: {exc.strerror}", file=sys.stderr)
            return 1
        print(f"Wrote {args.out}: {len(catalog.items)} products. Buttons name prices by lookup key, so set:")
        print(allowed_prices_line(catalog))
        return 0

    from .catalog_sync import apply, load_current, plan, sync_stock
    services.settings.require("stripe_secret_key")
    mode = services.settings.stripe_mode
    actions = plan(catalog.items, load_current(services.gateway, [i.lookup_key for i in catalog.items]),
                   archive_replaced=args.archive_replaced)
    print(f"Plan ({mode} mode):", *(f"{a.key:24} {a.note}" for a in actions), sep="\n  ")
    limited = [item for item in catalog.items if item.stock is not None]
    if args.dry_run:
        if limited:
            print("Stock (in the DynamoDB table, not Stripe):", *sync_stock(limited, services.store, dry_run=True),
                  sep="\n  ")
        print("Dry run: nothing changed.")
        return 0
    done = 0
    if any(a.kind != "unchanged" for a in actions):
        print("Changes:")
    try:
        for line in apply(actions, services.gateway):
            print(f"  {line}")
            done += 1
    except DomainError as exc:
        print(f"catalog: stopped after {done} change(s): {exc.message}\nRun sync again to continue.", file=sys.stderr)
        return 1
    for line in sync_stock(limited, services.store):
        print(f"  {line}")
        done += 1
    print(f"{done} change(s) made." if done else "Nothing to change.")
    print("\nButtons (put <script src=\"/js/stripe-checkout.js\" defer></script> once on the page, and for the "
          "cart, after it, <script src=\"/js/cart.js\" defer></script> and <div data-cart></div>):\n")
    if limited:
        print("Limited items: add <script src=\"/js/stock.js\" defer></script> too, for \"Only N left\" and "
              "\"Sold out\".\n")
    print(*(snippet(item) for item in catalog.items), sep="\n\n")
    print(f"\n{allowed_prices_line(catalog)}")
    return 0


def _doctor(services: Services, args: argparse.Namespace) -> int:
    from ..errors import Misconfigured
    from .doctor import Check, report
    from .doctor_probes import http_get, run

    try:
        checks = run(services, endpoint_url=args.endpoint_url, fetch=lambda url: http_get(url, timeout=args.timeout))
    except Misconfigured as exc:  # a malformed setting: nothing else can be read until it is fixed
        checks = [Check("settings", "fail", exc.message)]
    text, code = report(checks)
    print(text)
    return code


def _trigger(services: Services, args: argparse.Namespace) -> int:
    from .trigger import deliver, sample_event

    secret = args.secret or services.settings.require("webhook_secrets")[0].reveal()
    event = sample_event(args.type, overrides=args.override)
    obj = event["data"]["object"]
    extra = f", payment_intent {obj['payment_intent']}" if obj.get("payment_intent") else ""
    print(f"Sending {args.type} {event['id']} ({obj['id']}{extra}) to {args.to}")
    answer = deliver(args.to, event, secret)
    print(f"{answer.status or 'no answer'} {answer.body}")
    return 0 if 200 <= answer.status < 300 else 1


_COMMANDS = {"create-table": _create_table, "reconcile": _reconcile, "orders": _orders, "catalog": _catalog,
             "doctor": _doctor, "trigger": _trigger, **operations.COMMANDS, **stock_commands.COMMANDS}

