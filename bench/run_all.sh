#!/usr/bin/env bash
# The one command for issue #7's benchmarks: sizes, cold start, warm. Run from anywhere.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-.venv/bin/python}"
exec "$PYTHON" -m bench "$@"
