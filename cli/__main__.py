"""``python -m cli``: the command line (see :mod:`cli.main`)."""

import sys

from cli.main import main

if __name__ == "__main__":
    # Dataset names and engine messages may hold non-ASCII dashes; never let a narrow terminal encoding crash a run.
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")
    sys.exit(main())
