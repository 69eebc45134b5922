"""`python -m shared …`: the seller's command line (`shared.cli`), with the local demo (`shared.demo`)
plugged in. Neither is deployed; this is the only module outside the demo that imports it."""

import sys

from .cli.main import main
from .demo.commands import DemoCommands

sys.exit(main(demo=DemoCommands()))
