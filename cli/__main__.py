"""``python -m cli``: the command line (see :mod:`cli.main`)."""

import gc
import sys

from cli.early_start import start_browser_if_images

if __name__ == "__main__":
    start_browser_if_images(sys.argv[1:])  # before cli.main's imports: chromium starts while they load

    from cli.main import main

    # Dataset names and engine messages may hold non-ASCII dashes; never let a narrow terminal encoding crash a run.
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")
    code = main()
    # The interpreter's last collections walk every object the engine, pandas and the store created (~0.3-0.6 s
    # after a report). Freezing them skips that walk; exit handlers still run (the export browser is closed,
    # logs flushed) and the operating system frees the memory.
    gc.freeze()
    sys.exit(code)
