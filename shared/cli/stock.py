"""`python -m shared stock set | add | list | release-stale`: the seller's hand on limited stock.

A price is named by lookup key or ID; its stock is counted under its lookup key when it has one
(`checkout.stock.stock_ref`), so `stock set price_123 5` on a price with the key `poster` sets
`poster`'s, and says so. The counts and their rules are in `orders/stock.py`.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import TYPE_CHECKING, Any

from ..stripe_ids import PRICE_REF
from ._args import arg, parse_window

if TYPE_CHECKING:
    from ..orders.stock import Stock
    from ..web.services import Services


def add_commands(commands: Any) -> None:
    from ..checkout.prices import TTL_SECONDS

    stock = commands.add_parser("stock", help="limited stock per price: set, add, list, release-stale")
    do = stock.add_subparsers(dest="action", required=True)
    # Running instances remember for a while which prices are limited (checkout/limited.py): the seller is told.
    late = ("function instances already running hold a newly limited price's units from at most "
            f"{TTL_SECONDS:.0f} s later")
    setting = do.add_parser("set", help=f"this many on sale now (or `unlimited`); {late}",
                            description=f"This many on sale now (or `unlimited`); {late}.")
    setting.add_argument("price", type=arg(_ref), help="a lookup key or price ID")
    setting.add_argument("count", type=arg(_count_or_unlimited), help="a whole number, or unlimited")
    adding = do.add_parser("add", help="restock: this many more on sale (negative: fewer)")
    adding.add_argument("price", type=arg(_ref), help="a lookup key or price ID")
    adding.add_argument("count", type=arg(_signed), help="a whole number; negative to take some off sale")
    listing = do.add_parser("list", help="every limited price: on sale, in open checkouts, sold")
    listing.add_argument("--json", action="store_true")
    stale = do.add_parser("release-stale", help="settle reservations whose checkout ended unheard "
                                                "(asks Stripe about their sessions)")
    stale.add_argument("--grace", type=parse_window, default=parse_window("15m"),
                       help="how long past a checkout's end before asking (default 15m)")


def stock(services: Services, args: argparse.Namespace) -> int:
    from ..orders import stock as counts

    if args.action == "list":
        rows = list(counts.listing(services.store))
        if args.json:
            print(json.dumps([_row(s) for s in rows], indent=2))
        for row in ([] if args.json else rows):
            left = "unlimited" if row.available is None else str(row.available)
            extra = f"  oversold {row.oversold}" if row.oversold else ""
            print(f"{row.ref:32}  on sale {left:>9}  in checkout {row.held:>5}  sold {row.sold:>6}{extra}")
        if not rows and not args.json:
            print("No limited stock: every price is unlimited.")
        return 0
    if args.action == "release-stale":
        from ..checkout.stale import release_stale

        report = release_stale(services.store, services.gateway, now=int(time.time()), grace=args.grace)
        print(", ".join(f"{count} {name}" for name, count in report.counts().items()))
        for reservation, code in report.failed:
            print(f"  failed {reservation}: {code}")
        return 1 if report.failed else 0

    from ..checkout.stock import newly_limited

    ref = _stock_ref(services, args.price)
    before = counts.current(services.store, ref)
    if args.action == "set":
        after = counts.set_available(services.store, ref, args.count)
    else:
        after = counts.add_available(services.store, ref, args.count)
    left = "unlimited" if after.available is None else f"{after.available} on sale"
    print(f"{ref}: {left}, {after.held} in open checkouts, {after.sold} sold.")
    if before.available is None and after.available is not None:
        print(newly_limited(ref))
    return 0


def _stock_ref(services: Services, ref: str) -> str:
    """Where `ref`'s stock is counted: a lookup key as given; a price ID under its lookup key if it has one."""
    if not ref.startswith("price_"):
        return ref
    from ..checkout.prices import Price
    from ..checkout.stock import stock_ref

    counted = stock_ref(Price.from_stripe(services.gateway.retrieve_price(ref)))
    if counted != ref:
        print(f"{ref} has the lookup key {counted}: its stock is counted under that key.")
    return counted


def _row(stock: Stock) -> dict[str, Any]:
    return {"price": stock.ref, "available": stock.available, "held": stock.held, "sold": stock.sold,
            "oversold": stock.oversold}


def _ref(text: str) -> str:
    if not PRICE_REF.fullmatch(text):
        raise ValueError("a price ID (price_…) or lookup key")
    return text


def _count_or_unlimited(text: str) -> int | None:
    if text.strip().lower() == "unlimited":
        return None
    if not text.strip().isdigit():
        raise ValueError("a whole number of units, or unlimited")
    return int(text)


def _signed(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError("a whole number, e.g. 5 or -2") from None


COMMANDS = {"stock": stock}
