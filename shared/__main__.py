"""The command line: `python -m shared serve | create-table | reconcile | orders`."""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import ApiError

if TYPE_CHECKING:
    from .services import Services


def parse_window(text: str) -> int:
    """Seconds in a window like `72h`, `3d`, `90m` or `3600s`."""
    match = re.fullmatch(r"(\d+)([smhd])", text.strip())
    if not match:
        raise argparse.ArgumentTypeError("use a number and a unit: 90m, 72h, 3d")
    return int(match.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[match.group(2)]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m shared", description="static-checkout")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve public/ and the API locally")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    commands.add_parser("create-table", help="create the DynamoDB table (idempotent)")
    rec = commands.add_parser("reconcile", help="apply Stripe events the ledger lacks")
    rec.add_argument("--since", type=parse_window, default=parse_window("72h"))
    rec.add_argument("--dry-run", action="store_true")
    orders = commands.add_parser("orders", help="show recent orders")
    orders.add_argument("--status")
    orders.add_argument("--limit", type=int, default=20)
    orders.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    if args.command == "serve":
        from .local import serve as run

        return run(args.host, args.port)

    from .services import Services
    from .settings import read_dotenv

    read_dotenv(Path.cwd() / ".env")
    services = Services()
    try:
        return _COMMANDS[args.command](services, args)
    except ApiError as exc:
        print(f"{args.command}: {exc.message}", file=sys.stderr)
        return 1


def _create_table(services: Services, args: argparse.Namespace) -> int:
    from .store import DynamoStore

    store = DynamoStore.from_settings(services.settings)
    created = store.create_table()
    print(f"Table {store.table} {'created' if created else 'already exists'}, with TTL on expires_at.")
    return 0


def _reconcile(services: Services, args: argparse.Namespace) -> int:
    from .recovery import reconcile

    report = reconcile(services.gateway, services.store, services.fulfiller, since=int(time.time()) - args.since,
                       dry_run=args.dry_run, lease_seconds=services.settings.event_lease_seconds)
    verb = "missing" if args.dry_run else "new"
    print(f"{len(report.new)} {verb}, {report.already} already applied, {report.ignored} ignored, "
          f"{len(report.failed)} failed")
    for event_id, code in report.failed:
        print(f"  failed {event_id}: {code}")
    return 1 if report.failed else 0


def _orders(services: Services, args: argparse.Namespace) -> int:
    from .orders import format_amount, public_view

    # Newest first; a status filter reads further back to fill the page.
    items = services.store.query("by_created", "ORDERS", limit=1000 if args.status else args.limit)
    rows = [public_view(o) for o in items if args.status in (None, o.get("status"))][: args.limit]
    if args.json:
        print(json.dumps(rows, indent=2, default=str))
        return 0
    for row in rows:
        when = time.strftime("%Y-%m-%d %H:%M", time.gmtime(row.get("created") or 0))
        amount = format_amount(row.get("amount_total"), row.get("currency"))
        print(f"{when}  {row['session_id'][:28]:28}  {row.get('status', ''):18}  {amount:>14}  "
              f"{'fulfilled' if row['fulfilled'] else '':9}  {row.get('customer_email') or ''}")
    if not rows:
        print("No orders.")
    return 0


_COMMANDS = {"create-table": _create_table, "reconcile": _reconcile, "orders": _orders}

if __name__ == "__main__":
    sys.exit(main())
