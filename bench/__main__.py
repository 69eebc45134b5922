"""`python -m bench`: sizes (builds dist/lambda.zip first), cold start, warm — each in its own process.

Each stage has a time limit; the whole stays under five minutes on two cores once bench/.cache
holds the runtime-only installs (the first run also downloads them with pip).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

from ._common import PYTHON, ROOT, machine_note

STAGES = (
    ("bench.sizes", 300),  # the first run installs requirements.txt with pip
    ("bench.cold_start", 300),
    ("bench.warm", 150),
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run every benchmark of issue #7.")
    parser.add_argument("--quick", action="store_true", help="fewer runs: a smoke test of the benchmarks")
    args = parser.parse_args(argv)
    extra = {"bench.cold_start": ["--runs", "3"], "bench.warm": ["-n", "30"]} if args.quick else {}
    print(f"static-checkout benchmarks — {machine_note()}", flush=True)
    failed = []
    start = time.monotonic()
    for module, limit in STAGES:
        print(f"\n=== {module} " + "=" * (60 - len(module)), flush=True)
        try:
            done = subprocess.run([PYTHON, "-m", module, *extra.get(module, [])], cwd=ROOT, timeout=limit)
        except subprocess.TimeoutExpired:
            print(f"! {module} took over {limit} s and was stopped")
            failed.append(module)
            continue
        if done.returncode != 0:
            failed.append(module)
    print(f"\nAll benchmarks: {time.monotonic() - start:.0f} s. {machine_note()}")
    if failed:
        print(f"! failed or reported broken runs: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
