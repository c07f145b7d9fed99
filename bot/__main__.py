"""`python -m bot`: the operator's command line."""

import sys

from bot.cli import main

sys.exit(main())
