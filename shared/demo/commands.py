"""The demo's part of the command line, handed to `shared.cli.main` by `python -m shared` (the command
line never imports the demo): `serve --demo`, `demo expire | refund`, and the running demo's settings
for every other command started in its folder (`state`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


class DemoCommands:
    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder

    def run(self, args: argparse.Namespace) -> int:
        folder = self.folder or Path.cwd()
        if args.command == "serve":
            from .serve import serve_demo

            return serve_demo(args.host, args.port, folder=folder)

        from . import state
        from .control import DemoError, expire, refund

        running = state.read(folder)
        if running is None:
            print("demo: no demo is running from this folder; start one with `./dev serve --demo` "
                  "(or `python -m shared serve --demo`).", file=sys.stderr)
            return 1
        try:
            if args.action == "expire":
                print(expire(running.environment, args.session_id))
            else:
                print(refund(running.environment, args.session_id, args.amount))
        except DemoError as exc:
            print(f"demo {args.action}: {exc}", file=sys.stderr)
            return 1
        return 0

    def environment(self) -> dict[str, str]:
        """The running demo's settings, or nothing when no demo runs from this folder."""
        from . import state

        running = state.read(self.folder or Path.cwd())
        if running is None:
            return {}
        print(f"(Using the demo running at {running.site_url}: its Stripe stand-in and DynamoDB, not .env. "
              "Stop it to use your own settings.)", file=sys.stderr)
        return running.environment
