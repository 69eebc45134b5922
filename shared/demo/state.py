"""How other commands find a running demo: it writes its settings to a file in the folder it was started
from (where `.env` is read too) and removes it when it stops. While the demo runs, `python -m shared
orders`, `demo expire`, `demo refund` and the others started in that folder use the demo's stand-in and
DynamoDB rather than `.env`'s settings, and say so.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

FILE = ".static-checkout-demo.json"


@dataclass(frozen=True)
class Running:
    pid: int
    site_url: str
    environment: dict[str, str]


def write(folder: Path, running: Running) -> Path:
    path = folder / FILE
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps({"pid": running.pid, "site_url": running.site_url,
                                     "environment": running.environment}, indent=2), encoding="utf-8")
    temporary.replace(path)  # whole or not at all, for a command reading it meanwhile
    return path


def read(folder: Path) -> Running | None:
    """The demo running from `folder`, or None (no file, an unreadable one, or its process is gone)."""
    try:
        data = json.loads((folder / FILE).read_text(encoding="utf-8"))
        running = Running(int(data["pid"]), str(data["site_url"]), dict(data["environment"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return running if _alive(running.pid) else None


def remove(folder: Path, pid: int) -> None:
    """Remove the file if it is this process's (a second demo may have replaced it)."""
    path = folder / FILE
    try:
        if json.loads(path.read_text(encoding="utf-8")).get("pid") == pid:
            path.unlink()
    except (OSError, ValueError, AttributeError):
        pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True
