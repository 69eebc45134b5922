"""Build the Vercel output offline with `vercel build` and call the built function as the runtime does.

    python scripts/check_vercel.py                     # npx --yes vercel@48.9.2; needs `uv` on PATH (pip install uv)
    VERCEL=/path/to/vercel python scripts/check_vercel.py

`vercel build` normally wants a linked project (`vercel pull`, which needs an account and a token);
it runs without one when .vercel/project.json exists, so this writes a placeholder one in a scratch
copy of the repository (the working tree is left alone). Dependencies come from PyPI. The built
function is then laid out from its .vc-config.json and its `vc_handler` is called with Vercel's
request payload for GET /api/health and a badly signed POST /api/webhook, in a bare interpreter.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IGNORED = shutil.ignore_patterns(".git", ".venv", "dist", ".serverless", ".vercel", "node_modules", "__pycache__",
                                 ".pytest_cache")

CALL = r"""
import base64, json, sys
sys.path.insert(0, ".")
import vc__handler__python as runtime

def call(method, path, body=""):
    headers = {"host": "static-checkout.vercel.app", "content-type": "application/json",
               "stripe-signature": "t=1,v1=00"}
    payload = {"method": method, "path": path, "headers": headers, "body": body}
    response = runtime.vc_handler({"body": json.dumps(payload)}, None)
    text = response.get("body", "")
    if response.get("encoding") == "base64":
        text = base64.b64decode(text).decode()
    print(f"vercel function: {method} {path} -> {response['statusCode']} {text[:70]}")
    return response["statusCode"]

assert call("GET", "/api/health") == 200
assert call("POST", "/api/webhook", '{"id": "evt_1"}') == 400
"""


def main() -> int:
    command = shlex.split(os.environ.get("VERCEL", "npx --yes vercel@48.9.2"))
    with tempfile.TemporaryDirectory(prefix="vercel-build-") as temp:
        work = Path(temp) / "site"
        shutil.copytree(ROOT, work, ignore=IGNORED)
        (work / ".vercel").mkdir()
        (work / ".vercel" / "project.json").write_text(json.dumps(
            {"projectId": "prj_offline", "orgId": "team_offline", "settings": {"framework": None}}))
        env = {**os.environ, "VERCEL_TELEMETRY_DISABLED": "1"}
        subprocess.run([*command, "build", "--yes"], cwd=work, env=env, check=True)
        output = work / ".vercel" / "output"
        func = output / "functions" / "api" / "index.func"
        config = json.loads((func / ".vc-config.json").read_text())
        layout = Path(temp) / "function"
        for name, source in config.get("filePathMap", {}).items():
            (layout / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(work / source, layout / name)
        for item in func.iterdir():
            if item.name != ".vc-config.json":
                shutil.copy(item, layout / item.name)
        vendored = {name.split("/")[1] for name in config.get("filePathMap", {}) if name.startswith("_vendor/")}
        missing = sorted({"starlette", "stripe", "aws_lambda_powertools"} - vendored)
        static = sorted(p.relative_to(output / "static").as_posix()
                        for p in (output / "static").rglob("*") if p.is_file())
        print(f"vercel build: runtime {config.get('runtime')}, {len(config.get('filePathMap', {}))} files in the "
              f"function, static files: {', '.join(static)}")
        if missing:
            print(f"problem: the function bundle lacks {', '.join(missing)}: this Vercel builder installed from the "
                  f"root pyproject.toml, which lists no dependencies (see docs/deploy.md)")
            return 1
        env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": "_vendor",
               "STRIPE_WEBHOOK_SECRET": "whsec_check_0123456789"}
        subprocess.run([sys.executable, "-S", "-c", CALL], cwd=layout, env=env, check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
