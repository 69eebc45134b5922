"""Local runs: `python -m shared serve` serves `public/` and the API, with an embedded DynamoDB."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from ..store.local import EmbeddedDynamo
from ..stripe_ids import is_placeholder

PUBLIC_DIR = Path(__file__).resolve().parents[2] / "public"


def has_aws_credentials() -> bool:
    from .. import aws

    return aws.has_credentials()


def prepare_environment(host: str, port: int, environ: dict[str, str] | None = None,
                        out: Any = sys.stdout) -> EmbeddedDynamo | None:
    """Fill in what a local run can: the site URL, and a DynamoDB when none is configured."""
    env = os.environ if environ is None else environ
    env.setdefault("SITE_URL", f"http://{host}:{port}")
    # CloudWatch metrics mean nothing locally; their EMF lines would only crowd the terminal.
    env.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    # One developer clicking is no flood; set RATE_LIMIT in .env to try the limiter locally.
    env.setdefault("RATE_LIMIT", "off")
    embedded = None
    if not env.get("DYNAMODB_ENDPOINT_URL") and not has_aws_credentials():
        embedded = EmbeddedDynamo()
        env["DYNAMODB_ENDPOINT_URL"] = embedded.start()
        # moto accepts any credentials; these only keep boto3 from looking further.
        env.setdefault("AWS_ACCESS_KEY_ID", "local")
        env.setdefault("AWS_SECRET_ACCESS_KEY", "local")
        env.setdefault("AWS_REGION", "us-east-1")
        print(f"No DynamoDB configured: using an embedded DynamoDB-compatible server (moto) at "
              f"{env['DYNAMODB_ENDPOINT_URL']}; orders last until this process stops.", file=out)
    return embedded


def explain_key(settings: Any, out: Any = sys.stdout) -> None:
    if settings.stripe_secret_key is not None and is_placeholder(settings.stripe_secret_key.reveal()):
        print("STRIPE_SECRET_KEY is a placeholder: the pages work, but Buy answers 502 until you put your test key "
              "(sk_test_…, Dashboard → Developers → API keys) in .env and list your prices in ALLOWED_PRICES. "
              "To watch a whole sale without a Stripe account, run `./dev serve --demo` instead.",
              file=out)
    elif settings.stripe_mode == "live":
        print("STRIPE_SECRET_KEY is a LIVE key: real cards will be charged.", file=out)
    if not settings.webhook_secrets:
        print("STRIPE_WEBHOOK_SECRET is not set: /api/webhook answers 500 until it is. Run "
              "`stripe listen --forward-to localhost:8000/api/webhook` and copy the whsec_… it prints.", file=out)


def serve(host: str = "127.0.0.1", port: int = 8000) -> int:
    import uvicorn

    from ..checkout.options import load
    from ..errors import Misconfigured
    from ..settings import Settings, read_dotenv
    from ..store.dynamo import DynamoStore
    from ..web.app import create_app
    from ..web.services import Services

    read_dotenv(Path.cwd() / ".env")
    embedded = prepare_environment(host, port)
    try:
        settings = Settings.from_env()
        settings.require("stripe_secret_key")
        settings.require("allowed_prices")
        options = load(settings.checkout_config)  # a wrong checkout.toml stops here, not at the first Buy
    except Misconfigured as exc:
        print(f"Cannot start: {exc.message}", file=sys.stderr)
        if embedded is not None:
            embedded.stop()
        return 2
    explain_key(settings)
    store = DynamoStore.from_settings(settings)
    if embedded is not None:
        store.create_table()
    app = create_app(Services(settings, store=store, checkout_options=options), static_dir=str(PUBLIC_DIR))
    print(f"Serving the store on http://{host}:{port} (API under /api/)", flush=True)
    try:
        # proxy_headers off: uvicorn would otherwise take the client's address from X-Forwarded-For on
        # connections from 127.0.0.1, and the rate limit counts by that address.
        uvicorn.run(app, host=host, port=port, log_level="warning", lifespan="off", proxy_headers=False)
    finally:
        if embedded is not None:
            embedded.stop()
    return 0
