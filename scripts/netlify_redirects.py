"""Netlify build step: proxy the site's /api/… routes to the deployed function.

    STATIC_CHECKOUT_API_URL=https://<url-id>.lambda-url.<region>.on.aws python3 scripts/netlify_redirects.py public

Netlify Functions do not run Python, so the API runs on AWS Lambda (or Vercel) and Netlify proxies
to it: this writes one status-200 rewrite per API route into `<publish>/_redirects`, so the
browser only ever calls /api/… on the site's own origin. A seller's own rules in that file are kept
below ours. With a variable missing or malformed the build fails, naming it and how to set it.
Standard library only: it runs in Netlify's build image before anything is installed.

Each rewrite is a *signed* proxy redirect (`Sign=STATIC_CHECKOUT_PROXY_SECRET`): Netlify adds an
`X-Nf-Sign` header to the proxied request, a JWS signed with that variable's value, which the function
checks (as PROXY_SECRET) before it believes Netlify's `x-nf-client-connection-ip`. A `_redirects` rule
cannot add a header of our own (only `netlify.toml` rules can, and those cannot read a variable); the
file names the variable, never its value.
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
SECRET_VARIABLE = "STATIC_CHECKOUT_PROXY_SECRET"
MIN_SECRET = 32  # as PROXY_SECRET on the function's side (shared/settings.py)
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


def check_secret(environ: dict[str, str]) -> None:
    """The signing secret must be set for the build (its value is Netlify's to use, never printed)."""
    value = (environ.get(SECRET_VARIABLE) or "").strip()
    if len(value) < MIN_SECRET:
        raise ConfigError(
            f"{SECRET_VARIABLE} is {'not set' if not value else f'shorter than {MIN_SECRET} characters'}. Netlify "
            f"signs each proxied API request with it, so the function can tell your site from a caller that skips "
            f"it. Make one (`python3 -c 'import secrets; print(secrets.token_urlsafe(32))'`), then "
            f"`netlify env:set {SECRET_VARIABLE} <value> --secret`, and store the same value as the function's "
            f"PROXY_SECRET (docs/deploy.md, Netlify).")


def rules(base: str) -> list[str]:
    return [f"{route}  {base}{route}  200  Sign={SECRET_VARIABLE}" for route in API_ROUTES]


def merge(existing: str, ours: list[str]) -> str:
    """Our block first (rules match top-down), the seller's own rules after, untouched."""
    kept = re.sub(rf"{re.escape(BEGIN)}.*?{re.escape(END)}\n?", "", existing, flags=re.S).strip("\n")
    block = "\n".join([BEGIN, *ours, END])
    return block + "\n" + (kept + "\n" if kept else "")


def main(argv: list[str] | None = None, environ: dict[str, str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    publish = Path(args[0] if args else "public")
    try:
        env = dict(os.environ) if environ is None else environ
        base = api_base(env)
        check_secret(env)
    except ConfigError as exc:
        print(f"netlify_redirects: {exc}", file=sys.stderr)
        return 1
    target = publish / "_redirects"
    existing = target.read_text(encoding="utf-8") if target.exists() else ""
    target.write_text(merge(existing, rules(base)), encoding="utf-8")
    print(f"netlify_redirects: {len(API_ROUTES)} API routes proxied to {base} in {target}, signed with "
          f"{SECRET_VARIABLE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
