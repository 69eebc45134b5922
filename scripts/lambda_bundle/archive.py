"""The zip: entries sorted, with fixed timestamps and permissions, so the same files make the same bytes and
an unchanged bundle is not redeployed (serverless compares the artifact's hash)."""

from __future__ import annotations

import zipfile
from pathlib import Path

FIXED_TIME = (1980, 1, 1, 0, 0, 0)


def write_zip(files: dict[str, Path], output: Path) -> None:
    """Write archive name → file into `output`, deflated."""
    output.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(output, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, files[name].read_bytes())
