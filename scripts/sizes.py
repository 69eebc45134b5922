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

sys.path.insert(0, str(Path(__file__).resolve().parent))

import package_lambda  # noqa: E402

VERCEL_PLATFORM = "manylinux2014_x86_64"
VERCEL_PYTHON = "3.12"  # Vercel's default Python runtime
MB = 1024 * 1024


def folder_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and "__pycache__" not in f.parts)


def main() -> int:
    files = package_lambda.build()
    zipped = package_lambda.OUTPUT.stat().st_size
    print(f"AWS Lambda  dist/lambda.zip: {zipped / MB:.1f} MB zipped, {sum(files.values()) / MB:.1f} MB unzipped "
          f"(limits: 50 MB zipped direct upload, 250 MB unzipped; boto3 comes from the runtime)")
    requirements = [line for line in (package_lambda.ROOT / "requirements.txt").read_text().splitlines()
                    if package_lambda.requirement_name(line)]
    with tempfile.TemporaryDirectory(prefix="vercel-deps-") as temp:
        package_lambda.install_dependencies(Path(temp), requirements, platform=VERCEL_PLATFORM,
                                            python_version=VERCEL_PYTHON, allow=package_lambda.RUNTIME_PROVIDED)
        size = folder_size(Path(temp))
        biggest = sorted(((folder_size(p) if p.is_dir() else p.stat().st_size, p.name) for p in Path(temp).iterdir()),
                         reverse=True)[:3]
    print(f"Vercel      function dependencies: {size / MB:.1f} MB installed (limit: 250 MB unzipped); largest: "
          + ", ".join(f"{name} {bytes_ / MB:.1f} MB" for bytes_, name in biggest))
    return 0


if __name__ == "__main__":
    sys.exit(main())
