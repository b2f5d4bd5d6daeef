"""Wall-clock timing shared by the benchmark modules."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def timed(fn: Callable[[], object]) -> float:
    """Seconds one call of ``fn`` takes."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def median_seconds(fn: Callable[[], object], repeats: int) -> float:
    """Median of ``repeats`` timed calls of ``fn``, in seconds (robust to one slow outlier on a shared machine)."""
    return statistics.median(timed(fn) for _ in range(repeats))
