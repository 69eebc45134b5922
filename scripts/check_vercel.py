"""Build the Vercel output offline with `vercel build` and call the built function as the runtime does.

    python scripts/check_vercel.py                     # npx --yes vercel@48.9.2; needs `uv` on PATH (pip install uv)
    VERCEL=/path/to/vercel python scripts/check_vercel.py

`vercel build` normally wants a linked project (`vercel pull`, which needs an account and a token);
it runs without one when .vercel/project.json exists, so this writes a placeholder one in a scratch
copy of the repository (the working tree is left alone). Dependencies come from PyPI. The built
function is then laid out from its .vc-config.json and its `vc_handler` is called with Vercel's
request payload for GET /api/health and a badly signed POST /api/webhook, in a bare interpreter
(vercel_function_call.py). It also checks that the function holds shared/ without the seller's tools
(lambda_bundle.contents.LEFT_OUT, which vercel.json's excludeFiles leaves out), as the Lambda zip does, and
ships checkout.toml (ROOT_FILES, which its includeFiles names).
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

from lambda_bundle.contents import ROOT_FILES, left_out

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = ROOT / "scripts"
IGNORED = shutil.ignore_patterns(".git", ".venv", "dist", ".serverless", ".vercel", "node_modules", "__pycache__",
                                 ".pytest_cache")


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
        shipped = config.get("filePathMap", {})
        vendored = {name.split("/")[1] for name in shipped if name.startswith("_vendor/")}
        tools = sorted(name for name in shipped if left_out(name))
        if tools or "shared/web/app.py" not in shipped:
            print(f"problem: the function should hold shared/ without the seller's tools; it has "
                  f"{', '.join(tools[:5]) or 'no shared/web/app.py'} (vercel.json's excludeFiles)")
            return 1
        unshipped = [name for name in ROOT_FILES if (ROOT / name).is_file() and name not in shipped]
        if unshipped:
            print(f"problem: the function lacks {', '.join(unshipped)} (vercel.json's includeFiles)")
            return 1
        missing = sorted({"starlette", "stripe"} - vendored)
        static = sorted(p.relative_to(output / "static").as_posix()
                        for p in (output / "static").rglob("*") if p.is_file())
        print(f"vercel build: runtime {config.get('runtime')}, {len(shipped)} files in the "
              f"function, static files: {', '.join(static)}")
        if missing:
            print(f"problem: the function bundle lacks {', '.join(missing)}: this Vercel builder installed from the "
                  f"root pyproject.toml, which lists no dependencies (see docs/deploy.md)")
            return 1
        env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(layout / "_vendor"),
               "STRIPE_WEBHOOK_SECRET": "whsec_check_0123456789"}
        called = subprocess.run([sys.executable, "-S", "-B", "-m", "vercel_function_call", str(layout)], cwd=SCRIPTS,
                                env=env)
        return called.returncode


if __name__ == "__main__":
    sys.exit(main())
