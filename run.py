"""Start Majlis: ``python run.py`` (the console playground when no token is set)."""

import sys

from bot.cli import main

if __name__ == "__main__":
    sys.exit(main())
