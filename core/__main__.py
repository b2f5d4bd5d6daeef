"""``python -m core``: the command line (see :mod:`core.cli`)."""

import sys

from core.cli import main

if __name__ == "__main__":
    # Dataset names and engine messages may hold non-ASCII dashes; never let a narrow terminal encoding crash a run.
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")
    sys.exit(main())
