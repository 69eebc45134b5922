"""What the demo runs with, and where it refuses to run. Pure.

The demo never reads the seller's Stripe or AWS settings: its app talks to the stand-in with keys of
its own and stores orders in the embedded DynamoDB. It refuses to start beside a live key (someone is
set up for real sales here) and on a hosting platform (a demo must never answer the public).
"""

from __future__ import annotations

from collections.abc import Mapping

# Test-mode in shape, so every check the app makes on keys passes; no Stripe account has them.
SECRET_KEY = "sk_test_demo_no_real_payments"
PUBLISHABLE_KEY = "pk_test_demo_no_real_payments"
WEBHOOK_SECRET = "whsec_demo_no_real_payments"
TABLE = "static-checkout-demo"

# Set by the platforms in their functions' environments (and build environments).
PLATFORMS = {
    "AWS_LAMBDA_FUNCTION_NAME": "AWS Lambda",
    "LAMBDA_TASK_ROOT": "AWS Lambda",
    "AWS_EXECUTION_ENV": "AWS",
    "VERCEL": "Vercel",
    "VERCEL_ENV": "Vercel",
    "NETLIFY": "Netlify",
}


def refusal(environ: Mapping[str, str]) -> str | None:
    """Why the demo must not start with these settings (the environment and .env), or None."""
    for name, platform in PLATFORMS.items():
        if environ.get(name):
            return (f"{platform} is running this ({name} is set). The demo is for your own computer; "
                    "it is never deployed.")
    if "_live_" in (environ.get("STRIPE_SECRET_KEY") or ""):
        return ("STRIPE_SECRET_KEY is a live key. The demo does not run beside live settings: try it "
                "from a checkout without one (it needs no key at all).")
    return None


def demo_environment(*, site_url: str, stripe_url: str, dynamodb_url: str, allowed_prices: str) -> dict[str, str]:
    """The settings of the demo's app; other commands run against the demo with them (`state`)."""
    return {
        "STRIPE_SECRET_KEY": SECRET_KEY,
        "STRIPE_PUBLISHABLE_KEY": PUBLISHABLE_KEY,
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "STRIPE_API_BASE": stripe_url,
        "SITE_URL": site_url,
        "ALLOWED_PRICES": allowed_prices,
        "DYNAMODB_ENDPOINT_URL": dynamodb_url,
        "DYNAMODB_TABLE": TABLE,
        "AWS_REGION": "us-east-1",
        # The embedded DynamoDB accepts any; these keep boto3 from reaching for real ones.
        "AWS_ACCESS_KEY_ID": "demo",
        "AWS_SECRET_ACCESS_KEY": "demo",
        "RATE_LIMIT": "off",
        "POWERTOOLS_METRICS_DISABLED": "true",
    }
