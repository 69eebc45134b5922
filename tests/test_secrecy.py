"""The output scan in conftest.py must itself work: a leak in captured output fails the test."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_a_test_that_prints_or_logs_a_secret_fails(tmp_path):
    (tmp_path / "conftest.py").write_text("from tests.conftest import pytest_runtest_makereport  # noqa: F401\n")
    (tmp_path / "test_leak.py").write_text(
        "import logging\n"
        "from tests.conftest import SECRET_KEY\n"
        "def test_prints():\n"
        "    print('key is', SECRET_KEY)\n"
        "def test_logs():\n"
        "    logging.getLogger('x').warning('secret %s', SECRET_KEY)\n"
        "def test_clean():\n"
        "    print('nothing to see')\n"
    )
    # Run apart, and keep its output out of ours: it holds the secret on purpose.
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
                            cwd=tmp_path, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
                            capture_output=True, text=True, timeout=60)
    summary = result.stdout.strip().splitlines()[-1]
    assert "2 failed, 1 passed" in summary, summary.replace("sk_test_", "sk_…")
