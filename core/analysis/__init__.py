"""Analysis of optimisation studies and of single configurations: pure functions, no UI, no storage.

* :mod:`.heatmap` — heatmaps, one-parameter slices, 3-D surfaces, parallel coordinates over a trials table.
* :mod:`.robustness` — neighbourhood mean/worst, plateau score, robust configuration beside the best cell.
* :mod:`.sensitivity` — how the objective moves when each parameter steps away from a chosen configuration.
* :mod:`.walk_forward` — rolling or anchored folds, in-sample choice, out-of-sample judgement, stitched equity.
* :mod:`.regimes` — bull/bear/sideways × high/low-volatility labels and per-regime metrics vs buy-and-hold.
* :mod:`.monte_carlo` — stationary block bootstrap of the underlying and the metric distribution over paths.
* :mod:`.overfitting` — the deflated Sharpe ratio (Bailey & López de Prado, 2014).
* :mod:`.directions` — ``METRIC_DIRECTION``: +1 where higher is better, −1 where lower is.
"""

from ._common import snap_to_bins
from .directions import MAXIMISE, METRIC_DIRECTION, MINIMISE, direction, oriented
from .heatmap import ParallelCoordinates, SurfaceData, heatmap, parallel_coordinates, slice_1d, surface
from .monte_carlo import MonteCarloResult, bootstrap_paths, monte_carlo, stationary_bootstrap_indices
from .overfitting import (
    DeflatedSharpe,
    deflated_sharpe_of_study,
    deflated_sharpe_ratio,
    expected_max_sharpe,
    probabilistic_sharpe_ratio,
)
from .regimes import RegimeAnalysis, RegimeThresholds, label_regimes, regime_metrics
from .robustness import RobustnessResult, robustness
from .sensitivity import SensitivityResult, sensitivity, sensitivity_from_trials
from .walk_forward import Fold, WalkForwardResult, walk_forward, walk_forward_folds

__all__ = [
    "MAXIMISE",
    "METRIC_DIRECTION",
    "MINIMISE",
    "DeflatedSharpe",
    "Fold",
    "MonteCarloResult",
    "ParallelCoordinates",
    "RegimeAnalysis",
    "RegimeThresholds",
    "RobustnessResult",
    "SensitivityResult",
    "SurfaceData",
    "WalkForwardResult",
    "bootstrap_paths",
    "deflated_sharpe_of_study",
    "deflated_sharpe_ratio",
    "direction",
    "expected_max_sharpe",
    "heatmap",
    "label_regimes",
    "monte_carlo",
    "oriented",
    "parallel_coordinates",
    "probabilistic_sharpe_ratio",
    "regime_metrics",
    "robustness",
    "sensitivity",
    "sensitivity_from_trials",
    "slice_1d",
    "snap_to_bins",
    "stationary_bootstrap_indices",
    "surface",
    "walk_forward",
    "walk_forward_folds",
]
