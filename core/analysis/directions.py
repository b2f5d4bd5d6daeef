"""The natural direction of every metric: which way is "better" when a study ranks configurations.

``METRIC_DIRECTION[name]`` is ``+1`` when a higher value is better and ``-1`` when a lower one is. Derived from the
metric registry (:mod:`core.metric_registry`), so every metric the kernel reports has one.
"""

from __future__ import annotations

import numpy as np

from core.metric_registry import MAXIMISE, METRICS, MINIMISE

__all__ = ["MAXIMISE", "METRIC_DIRECTION", "MINIMISE", "direction", "oriented"]

METRIC_DIRECTION: dict[str, int] = {m.name: m.direction for m in METRICS}


def direction(metric: str) -> int:
    """``+1`` (maximise) or ``-1`` (minimise) for ``metric``; unknown names are maximised.

    Unknown names (a derived column such as ``score``) default to maximise, the common case for custom objectives.
    """
    return METRIC_DIRECTION.get(metric, MAXIMISE)


def oriented(values: np.ndarray, metric: str) -> np.ndarray:
    """``values`` multiplied by the metric's direction, so that higher is always better (NaN stays NaN)."""
    return np.asarray(values, dtype=float) * direction(metric)
