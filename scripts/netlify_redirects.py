"""Netlify build step: proxy the site's /api/… routes to the deployed function.

    STATIC_CHECKOUT_API_URL=https://<url-id>.lambda-url.<region>.on.aws python3 scripts/netlify_redirects.py public

Netlify Functions do not run Python, so the API runs on AWS Lambda (or Vercel) and Netlify proxies
to it: this writes one status-200 rewrite per API route into `<publish>/_redirects`, so the
browser only ever calls /api/… on the site's own origin. A seller's own rules in that file are kept
below ours. With the variable missing or malformed the build fails, naming it and how to set it.
Standard library only: it runs in Netlify's build image before anything is installed.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

# The build runs this file by path, so the checkout's root is not on sys.path until we put it there;
# shared/web/routes.py imports nothing, so this stays standard library only.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from shared.web.routes import API_ROUTES  # noqa: E402

VARIABLE = "STATIC_CHECKOUT_API_URL"
BEGIN, END = "# static-checkout: begin (written at build by scripts/netlify_redirects.py)", "# static-checkout: end"
_URL = re.compile(r"^https://[A-Za-z0-9.-]+(:\d+)?(/[A-Za-z0-9._~/-]*)?$|^http://(localhost|127\.0\.0\.1)(:\d+)?(/[^\s?#]*)?$")


class ConfigError(Exception):
    pass


def api_base(environ: dict[str, str]) -> str:
    raw = (environ.get(VARIABLE) or "").strip()
    if not raw:
        raise ConfigError(
            f"{VARIABLE} is not set. Set it to the address of the deployed API function, e.g. the Lambda "
            f"function URL that `serverless deploy` printed (https://<id>.lambda-url.<region>.on.aws): "
            f"Netlify → Site configuration → Environment variables, or `netlify env:set {VARIABLE} https://…`.")
    base = raw.rstrip("/")
    if not _URL.match(base):
        raise ConfigError(f"{VARIABLE} must be an https:// address with no query or fragment, like "
                          f"https://<id>.lambda-url.<region>.on.aws; got a value that is not.")
    if base.endswith("/api"):
        raise ConfigError(f"{VARIABLE} must be the function's base address, without /api: the routes add it.")
    return base


def rules(base: str) -> list[str]:
    return [f"{route}  {base}{route}  200" for route in API_ROUTES]


def merge(existing: str, ours: list[str]) -> str:
    """Our block first (rules match top-down), the seller's own rules after, untouched."""
    kept = re.sub(rf"{re.escape(BEGIN)}.*?{re.escape(END)}\n?", "", existing, flags=re.S).strip("\n")
    block = "\n".join([BEGIN, *ours, END])
    return block + "\n" + (kept + "\n" if kept else "")


def main(argv: list[str] | None = None, environ: dict[str, str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    publish = Path(args[0] if args else "public")
    try:
        base = api_base(dict(os.environ) if environ is None else environ)
    except ConfigError as exc:
        print(f"netlify_redirects: {exc}", file=sys.stderr)
        return 1
    target = publish / "_redirects"
    existing = target.read_text(encoding="utf-8") if target.exists() else ""
    target.write_text(merge(existing, rules(base)), encoding="utf-8")
    print(f"netlify_redirects: {len(API_ROUTES)} API routes proxied to {base} in {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
