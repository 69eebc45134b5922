"""`python -m shared …`: the seller's command line, in `shared.cli`."""

import sys

from .cli.main import main

sys.exit(main())
