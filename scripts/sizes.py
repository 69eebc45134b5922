"""Print the size of the AWS Lambda package and of the Vercel function's dependencies.

    python scripts/sizes.py

Builds dist/lambda.zip (scripts/package_lambda.py) and installs requirements.txt as Vercel's build
does — every runtime dependency including boto3, for linux x86_64 and Vercel's default Python —
into a scratch folder, then prints both in MB next to the platforms' limits.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from lambda_bundle.build import OUTPUT, Build, build
from lambda_bundle.contents import ROOT, RUNTIME_PROVIDED, install_dependencies, requirement_name

VERCEL_PLATFORM = "manylinux2014_x86_64"
VERCEL_PYTHON = "3.12"  # Vercel's default Python runtime
MB = 1024 * 1024


def folder_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and "__pycache__" not in f.parts)


def lambda_summary(result: Build, zipped: int) -> str:
    return (f"AWS Lambda  dist/lambda.zip: {zipped / MB:.1f} MB zipped, {result.unzipped / MB:.1f} MB unzipped "
            f"(limits: 50 MB zipped direct upload, 250 MB unzipped; boto3 comes from the runtime)")


def vercel_summary(site: Path) -> str:
    """`site`: requirements.txt installed as Vercel installs it."""
    biggest = sorted(((folder_size(p) if p.is_dir() else p.stat().st_size, p.name) for p in site.iterdir()),
                     reverse=True)[:3]
    return (f"Vercel      function dependencies: {folder_size(site) / MB:.1f} MB installed (limit: 250 MB unzipped); "
            "largest: " + ", ".join(f"{name} {bytes_ / MB:.1f} MB" for bytes_, name in biggest))


def main(output: Path = OUTPUT) -> int:
    result = build(output)
    print(lambda_summary(result, output.stat().st_size))
    requirements = [line for line in (ROOT / "requirements.txt").read_text().splitlines() if requirement_name(line)]
    with tempfile.TemporaryDirectory(prefix="vercel-deps-") as temp:
        install_dependencies(Path(temp), requirements, platform=VERCEL_PLATFORM, python_version=VERCEL_PYTHON,
                             allow=RUNTIME_PROVIDED)
        print(vercel_summary(Path(temp)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
