"""Call a built Vercel function as Vercel's Python runtime does, in a child interpreter: check_vercel.py starts it as

    python -S -B -m vercel_function_call LAYOUT

from scripts/, with PYTHONPATH=LAYOUT/_vendor (the function's dependencies). LAYOUT is the function laid out
from its .vc-config.json; its `vc_handler` gets Vercel's request payload for GET /api/health and a badly signed
POST /api/webhook, which must answer 200 and 400.
"""

from __future__ import annotations

import base64
import importlib
import json
import os
import sys
from pathlib import Path
from typing import Any

SCRIPTS = Path(__file__).resolve().parent
EXPECTED = [("GET", "/api/health", "", 200), ("POST", "/api/webhook", '{"id": "evt_1"}', 400)]


def call(handler: Any, method: str, path: str, body: str = "") -> int:
    headers = {"host": "static-checkout.vercel.app", "content-type": "application/json",
               "stripe-signature": "t=1,v1=00"}
    payload = {"method": method, "path": path, "headers": headers, "body": body}
    response = handler({"body": json.dumps(payload)}, None)
    text = response.get("body", "")
    if response.get("encoding") == "base64":
        text = base64.b64decode(text).decode()
    print(f"vercel function: {method} {path} -> {response['statusCode']} {text[:70]}")
    return int(response["statusCode"])


def main(argv: list[str] | None = None) -> int:
    [layout] = sys.argv[1:] if argv is None else argv
    os.chdir(layout)  # as the runtime runs it: from the function's folder
    sys.path[:] = [layout, *(p for p in sys.path if p and Path(p).resolve() != SCRIPTS)]
    handler = importlib.import_module("vc__handler__python").vc_handler
    wrong = [(method, path, status) for method, path, body, status in EXPECTED if call(handler, method, path, body)
             != status]
    for method, path, status in wrong:
        print(f"problem: {method} {path} should answer {status}", file=sys.stderr)
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
