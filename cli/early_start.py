"""Start the chart-export browser before the command line's own imports, when the command will draw images.

Chromium takes ~1.5 s to come up, and ``cli.main`` with the engine, pandas and the store takes ~1 s to import. A
``report --format png|svg`` starts the browser first, so the two overlap (one PNG: 3.0 s instead of 4.0 s; ``python
-m benchmarks report``). This module imports nothing heavy: :mod:`core.report.export_browser` needs neither plotly
nor pandas.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

IMAGE_FORMATS = ("png", "svg")  # core.report.images.IMAGE_FORMATS, not imported: that module loads plotly


def wants_images(argv: Sequence[str]) -> bool:
    """Whether ``argv`` (without the program name) is a ``report`` command with ``--format png`` or ``svg``.

    A guess from the words alone, before argparse: a wrong guess only starts or skips a browser early (the command
    itself starts it when it needs it, and the browser is stopped at exit).
    """
    if not argv or argv[0] != "report":
        return False
    for n, word in enumerate(argv):
        if word == "--format" and n + 1 < len(argv):
            return argv[n + 1] in IMAGE_FORMATS
        if word.startswith("--format="):
            return word.removeprefix("--format=") in IMAGE_FORMATS
    return False


def start_browser_if_images(argv: Sequence[str]) -> bool:
    """Launch the export browser without waiting when :func:`wants_images`; returns whether it did.

    A missing browser is not reported here: the command reports it (with what to install) when it draws.
    """
    if not wants_images(argv):
        return False
    from core.report.export_browser import ImageExportError, start

    with contextlib.suppress(ImageExportError):
        start(wait=False)
        return True
    return False
