"""`python -m shared serve --demo`: the whole sale on this computer, with no Stripe account.

A Stripe stand-in on loopback holds the demo catalog's products and prices (made by the same catalog
sync a seller runs against Stripe) and serves the Checkout page; it delivers signed webhooks to the
app, which records orders in the embedded DynamoDB. The app is the real one, unchanged: only its
settings and its pages (`pages`) differ.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import Any

from ..cli.catalog import Catalog, read
from ..cli.catalog_page import allowed_prices_line, render_page
from ..cli.serve import PUBLIC_DIR
from ..settings import read_dotenv
from .environment import WEBHOOK_SECRET, demo_environment, refusal

CATALOG = Path(__file__).resolve().parents[2] / "catalog.example.yml"
# Seconds before a bank transfer arrives; the tests shorten it.
TRANSFER_DELAY = "DEMO_TRANSFER_SECONDS"


def serve_demo(host: str = "127.0.0.1", port: int = 8000, *, folder: Path | None = None) -> int:
    from . import state

    folder = folder or Path.cwd()
    # .env is read for the refusal only: a live key there means this checkout sells for real.
    seen = dict(os.environ)
    read_dotenv(folder / ".env", seen)
    problem = refusal(seen)
    if problem is None and (other := state.read(folder)) is not None:
        problem = f"a demo is already running from this folder (process {other.pid}, {other.site_url})."
    if problem is not None:
        print(f"Cannot start the demo: {problem}", file=sys.stderr)
        return 2
    try:
        delay = float(os.environ.get(TRANSFER_DELAY) or 4)
    except ValueError:
        print(f"Cannot start the demo: {TRANSFER_DELAY} must be a number of seconds", file=sys.stderr)
        return 2
    from ..checkout.options import load
    from ..errors import Misconfigured

    try:
        load(None)  # the demo store's checkout.toml, as the app will read it
    except Misconfigured as exc:
        print(f"Cannot start the demo: {exc.message}", file=sys.stderr)
        return 2
    return _run(host, port, read(CATALOG), folder, delay)


def _run(host: str, port: int, catalog: Catalog, folder: Path, delay: float) -> int:
    import uvicorn

    from ..events.decide import HANDLED_TYPES
    from ..store.local import EmbeddedDynamo
    from . import state
    from .standin import StripeStandIn

    site = f"http://{host}:{port}"
    allowed = allowed_prices_line(catalog).partition("=")[2]
    with StripeStandIn() as standin:
        standin.async_payment_delay = delay
        standin.deliver_webhooks(report=_report_failure)
        dynamo = EmbeddedDynamo()
        environment = demo_environment(site_url=site, stripe_url=standin.url, dynamodb_url=dynamo.start(),
                                       allowed_prices=allowed)
        try:
            # The app's process reads some of these itself (botocore, shared.telemetry), not through Settings.
            os.environ.update(environment)
            app = _app(environment, catalog)
            standin.add_webhook_endpoint(url=f"{site}/api/webhook", enabled_events=list(HANDLED_TYPES),
                                         secret=WEBHOOK_SECRET)
            state.write(folder, state.Running(os.getpid(), site, environment))
            # uvicorn stops on SIGTERM, then raises it again: exit then, through these `finally`s.
            signal.signal(signal.SIGTERM, _exit)
            try:
                print(_welcome(site, standin.url, catalog), flush=True)
                uvicorn.run(app, host=host, port=port, log_level="warning", lifespan="off")
            finally:
                state.remove(folder, os.getpid())
        finally:
            dynamo.stop()
    return 0


def _app(environment: dict[str, str], catalog: Catalog) -> Any:
    """The real app over the demo's settings, its catalog made in the stand-in, its pages as the demo shows them."""
    from ..checkout.stripe_api import StripeGateway
    from ..cli.catalog_sync import apply, load_current, plan, sync_stock
    from ..settings import Settings
    from ..store.dynamo import DynamoStore
    from ..web.app import create_app
    from ..web.services import Services
    from .pages import DemoPages

    settings = Settings.from_env(environment)
    gateway = StripeGateway(settings)
    keys = [item.lookup_key for item in catalog.items]
    for _ in apply(plan(catalog.items, load_current(gateway, keys)), gateway):
        pass
    store = DynamoStore.from_settings(settings)
    store.create_table()
    for _ in sync_stock(catalog.items, store):  # the limited edition's units, as `catalog sync` writes them
        pass
    app = create_app(Services(settings, store=store), static_dir=str(PUBLIC_DIR))
    return DemoPages(app, store_page=render_page(catalog), checkout_origin=environment["STRIPE_API_BASE"])


def _welcome(site: str, stripe_url: str, catalog: Catalog) -> str:
    products = ", ".join(item.name for item in catalog.items)
    return f"""Demo mode: no Stripe account and no real payments.
  Stripe is a local stand-in ({stripe_url}) holding {CATALOG.name}'s products: {products}.
  Its Checkout page offers Pay, Pay by bank transfer, Decline and Cancel, and it sends signed webhooks
  to {site}/api/webhook. Orders go to an embedded DynamoDB and last until this process stops.
Open {site} and press Buy now, or fill the cart. From another terminal in this folder:
  python -m shared orders                            the orders the webhooks recorded
  python -m shared demo expire SESSION_ID            expire an open checkout
  python -m shared demo refund SESSION_ID [--amount N]  refund a paid one (N in cents)"""


def _exit(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)


def _report_failure(attempt: Any, retry_in: float | None) -> None:
    what = f"{attempt.type} {attempt.event_id}"
    answer = f"answered {attempt.status}" if attempt.status else "did not answer"
    then = f"retrying in {retry_in:g} s" if retry_in is not None else "giving up, as Stripe does after its retries"
    print(f"Stripe stand-in: {attempt.url} {answer} to {what} (try {attempt.number}); {then}",
          file=sys.stderr, flush=True)
