"""`python -m labeltrain` is the same as the `labeltrain` command."""

import sys

from labeltrain.cli import main

if __name__ == "__main__":
    sys.exit(main())
