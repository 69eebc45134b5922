"""Build dist/lambda.zip: the AWS Lambda bundle `serverless deploy` ships (package.artifact).

    python scripts/package_lambda.py            # build for the Lambda runtime (arm64, Python 3.13): run it with 3.13
    uv run --python 3.13 python scripts/package_lambda.py   # the same, from any machine with uv
    python scripts/package_lambda.py --smoke    # …then serve requests from it in a bare interpreter
    python scripts/package_lambda.py --python-version 3.12 --output dist/lambda-312.zip   # another runtime

Holds the runtime dependencies from requirements.txt as manylinux aarch64 wheels, without boto3 and
botocore (the Lambda Python runtime provides them), without anything only tests or the local server
use, plus `shared/` — without the seller's command line, `shared/cli/` — and `functions/`. Entries are
sorted with fixed timestamps, so the same sources make the same zip and an unchanged bundle is not
redeployed.

Bytecode: the build runs the bundle once (a create-session call and webhook calls through the Lambda
handler, in a bare interpreter) and ships .pyc for the third-party modules they import and for all of ours,
so a cold start on the read-only /var/task compiles nothing. It is only built when this interpreter is the
target version (--python-version, default the runtime's, 3.13); otherwise the zip has none, and a warning
says what that costs. --smoke then checks, from the zip unpacked read-only, that no module the requests
import is compiled from source. A zip for another version than serverless.yml's provider.runtime is refused
for dist/lambda.zip (what `serverless deploy` ships) and, with --runtime-check, for any output; elsewhere it
is warned about.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from .build import OUTPUT, SIZE_BUDGET, build
from .bytecode import NO_BYTECODE_COST, bytecode_problem
from .contents import PLATFORM, PYTHON_VERSION, ROOT, serverless_runtime
from .smoke import smoke


def warn(message: str) -> None:
    sys.stdout.flush()
    print(f"package_lambda: WARNING: {message}", file=sys.stderr)


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="package_lambda.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument("--smoke", action="store_true",
                        help="after building, serve health, create-session and webhook calls from the bundle in a "
                             "bare interpreter")
    parser.add_argument("--python-version", default=PYTHON_VERSION, metavar="X.Y",
                        help=f"the Lambda runtime's Python (default {PYTHON_VERSION}, serverless.yml's); bytecode is "
                             "only built when this interpreter is that version")
    parser.add_argument("--runtime-check", action="store_true",
                        help="refuse a --python-version other than serverless.yml's provider.runtime (always on "
                             f"when writing {OUTPUT.relative_to(ROOT)}, the artifact serverless.yml deploys)")
    parser.add_argument("--no-bytecode", action="store_true", help="ship sources only (as before; slower cold starts)")
    return parser


def check_runtime(version: str, output: Path, *, runtime_check: bool, no_bytecode: bool) -> None:
    """Refuse (SystemExit) or warn about a zip for another Python than serverless.yml deploys."""
    runtime = serverless_runtime()
    if runtime is None or runtime == version:
        return
    artifact = output.resolve() == OUTPUT.resolve()
    compiles = not no_bytecode and bytecode_problem(version) is None
    why_not = ("its .pyc would not load there (\"bad magic number\")" if compiles
               else "its dependencies are chosen for that version")
    message = (f"serverless.yml deploys python{runtime} (provider.runtime) but this zip is for Python {version}"
               f": {why_not}. Set provider.runtime: python{version} in serverless.yml, or build for {runtime}.")
    if runtime_check or artifact:
        why = f"{OUTPUT.relative_to(ROOT)} is what serverless.yml deploys" if artifact else "--runtime-check"
        raise SystemExit(f"package_lambda: refused ({why}): {message}")
    warn(message)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    version = args.python_version
    if not re.fullmatch(r"3\.\d+", version):
        parser().error(f"--python-version must look like 3.13, not {version!r}")
    check_runtime(version, args.output, runtime_check=args.runtime_check, no_bytecode=args.no_bytecode)

    problem = None if args.no_bytecode else bytecode_problem(version)
    if problem:
        warn(f"no bytecode in this zip: {problem}. Lambda unpacks the zip into a read-only /var/task, so every "
             f"cold start will compile each module it imports ({NO_BYTECODE_COST}, bench/cold_start.py). Build with "
             f"Python {version} to ship bytecode, e.g.: uv run --python {version} python scripts/package_lambda.py")
    result = build(args.output, python_version=version, bytecode=not args.no_bytecode)
    size = args.output.stat().st_size
    shown = args.output.relative_to(ROOT) if args.output.is_relative_to(ROOT) else args.output
    print(f"{shown}: {size / 1e6:.2f} MB zipped (budget {SIZE_BUDGET / 1e6:.0f} MB), {result.unzipped / 1e6:.1f} MB "
          f"unzipped, {len(result.sizes)} files ({PLATFORM}, Python {version})")
    code = result.bytecode
    if code is not None:
        print(f"bytecode ({sys.implementation.cache_tag}, unchecked hash): {code.imported} modules imported by the "
              f"request paths; {len(code.sourceless)} third-party ones shipped as sourceless .pyc, "
              f"{len(code.cached) + len(code.kept)} with __pycache__/*.pyc beside their sources (all of ours"
              + (f"; {', '.join(code.kept)}, which read their own source" if code.kept else "") + ")")
        if not code.with_boto3:
            warn("boto3 is not installed here, so the requests stopped where they reach DynamoDB: what the "
                 "runtime's boto3 imports from the bundle (urllib3.contrib.pyopenssl) has no bytecode. Install "
                 "requirements.txt into the building environment for a complete run.")
    else:
        print("bytecode: none" + (" (--no-bytecode)" if args.no_bytecode else ""))
    if size > SIZE_BUDGET:
        warn(f"the zip is {size / 1e6:.2f} MB, over the {SIZE_BUDGET / 1e6:.0f} MB budget")
    if args.smoke:
        smoke(args.output, bytecode=code is not None)
    print(json.dumps({"zip_bytes": size, "unzipped_bytes": result.unzipped, "python_version": version,
                      "pyc_files": sum(1 for name in result.sizes if name.endswith(".pyc"))}))
    return 0
