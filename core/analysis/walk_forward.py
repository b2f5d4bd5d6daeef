"""Walk-forward analysis: choose on a training window, judge on the unseen window after it, roll on.

Folds are laid out in bars (trading days for daily data). The ``n_folds`` test windows are consecutive, of
``test_length`` bars each, and end with the last bar. Each fold's training window is the ``train_length`` bars just
before its test window (``mode="rolling"``), or everything from the first fold's training start up to its test
window (``mode="anchored"``, an expanding window). Defaults: without lengths, the data is cut into
``n_folds + 1`` equal parts, the first being the first training window; with one length given, the other fills the
data.

Every window is simulated from a fresh start (the initial order, then the rules) by the engine's fast path, all
configurations at once. A test simulation starts at the close of the bar just before its test window, so every
test day's return is earned and the stitched out-of-sample equity has no gap; capital is carried from fold to fold
by scaling each fold's equity (the strategy is scale-free except for absolute amounts such as ``min_notional``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from core.config import StrategyConfig
from core.engine import METRIC_NAMES, params_matrix, prepare, run_params, simulate
from core.metrics import daily_equity, performance_metrics

from ._common import as_configs, metrics_frame
from .directions import direction


@dataclass(frozen=True)
class Fold:
    """One fold's windows as bar positions, end exclusive (``prices.iloc[train_start:train_end]``)."""

    index: int
    train_start: int
    train_end: int
    test_start: int
    test_end: int


def walk_forward_folds(
    n_bars: int,
    n_folds: int,
    train_length: int | None = None,
    test_length: int | None = None,
    mode: Literal["rolling", "anchored"] = "rolling",
) -> list[Fold]:
    """The folds for ``n_bars`` bars (see the module docstring for the layout and defaults).

    Raises ``ValueError`` when the windows do not fit or are shorter than two bars.
    """
    if mode not in ("rolling", "anchored"):
        raise ValueError(f"mode must be 'rolling' or 'anchored', got {mode!r}")
    if n_folds < 1:
        raise ValueError("n_folds must be at least 1")
    if test_length is None and train_length is None:
        test_length = n_bars // (n_folds + 1)
        train_length = n_bars - n_folds * test_length
    elif test_length is None:
        test_length = (n_bars - int(train_length)) // n_folds  # type: ignore[arg-type]
    elif train_length is None:
        train_length = n_bars - n_folds * test_length
    assert train_length is not None and test_length is not None
    if test_length < 2 or train_length < 2:
        raise ValueError(
            f"{n_bars} bars do not fit {n_folds} folds: train {train_length} and test {test_length} bars "
            "(each window needs at least 2)"
        )
    first_test = n_bars - n_folds * test_length
    first_train = first_test - train_length
    if first_train < 0:
        raise ValueError(
            f"{n_bars} bars do not fit {n_folds} folds of {test_length} test bars after {train_length} training bars "
            f"({train_length + n_folds * test_length} bars needed)"
        )
    folds = []
    for k in range(n_folds):
        test_start = first_test + k * test_length
        train_start = first_train if mode == "anchored" else test_start - train_length
        folds.append(Fold(k, train_start, test_start, test_start, test_start + test_length))
    return folds


@dataclass(frozen=True)
class WalkForwardResult:
    """Everything a walk-forward produced.

    ``folds``: one row per fold with the window dates (``train_start`` … ``test_end``, inclusive dates), their bar
    counts, ``chosen`` (position of the in-sample best in the configurations), ``in_sample`` and
    ``out_of_sample`` (the objective of the chosen configuration), ``gap`` (degradation: ``direction ×
    (in_sample − out_of_sample)``, positive when out-of-sample is worse), ``oos_best`` (the best any configuration
    reached on the test window), ``oos_percentile`` (share of configurations the chosen one beat or tied
    out-of-sample, 1.0 = best) and ``rank_correlation`` (Spearman, in-sample vs out-of-sample objective over all
    configurations: near 0 means the in-sample ranking does not carry over).
    ``in_sample_metrics`` / ``out_of_sample_metrics``: every metric of each fold's chosen configuration.
    ``chosen_params``: the chosen configuration of each fold (every field). ``equity``: the stitched
    out-of-sample equity at each bar; ``buy_and_hold``: buy-and-hold stitched the same way.
    ``summary``: mean in-/out-of-sample objective, mean gap, ``efficiency`` (mean OOS / mean IS), and the
    stitched equity's figures (``oos_total_return``, ``oos_cagr``, ``oos_sharpe``, ``oos_max_drawdown``, …) beside
    buy-and-hold's total return.
    """

    folds: pd.DataFrame
    in_sample_metrics: pd.DataFrame
    out_of_sample_metrics: pd.DataFrame
    chosen_params: pd.DataFrame
    equity: pd.Series
    buy_and_hold: pd.Series
    summary: dict[str, float]
    metric: str
    mode: str


def _best(values: np.ndarray, metric: str) -> int:
    score = values * direction(metric)
    if not np.any(np.isfinite(score)):
        return -1
    return int(np.argmax(np.where(np.isfinite(score), score, -np.inf)))


def walk_forward(
    prices: pd.DataFrame,
    configs: Sequence[StrategyConfig | Mapping[str, Any]] | pd.DataFrame,
    metric: str = "sharpe",
    n_folds: int = 5,
    train_length: int | None = None,
    test_length: int | None = None,
    mode: Literal["rolling", "anchored"] = "rolling",
    dividends: pd.DataFrame | None = None,
    base: StrategyConfig | None = None,
    n_threads: int | None = None,
) -> WalkForwardResult:
    """Walk-forward of a set of candidate configurations.

    Args:
        prices: the price frame (docs/strategy.md §2).
        configs: the candidates — configurations, dicts, or a parameter/trials DataFrame whose configuration
            columns override ``base`` (default: product defaults).
        metric: the objective the in-sample best is chosen by (direction from :data:`METRIC_DIRECTION`).
        n_folds, train_length, test_length, mode: the fold layout (module docstring); lengths in bars.
        dividends: optional dividends frame (applied in every window).
        n_threads: Numba threads for the sweeps.
    """
    if metric not in METRIC_NAMES:
        raise KeyError(f"unknown metric {metric!r}")
    cfgs = as_configs(configs, base)
    if not cfgs:
        raise ValueError("no configuration to choose from")
    params = params_matrix(cfgs)
    col = METRIC_NAMES.index(metric)
    sign = direction(metric)
    index = prices.index
    folds = walk_forward_folds(len(prices), n_folds, train_length, test_length, mode)

    fold_rows, is_rows, oos_rows, chosen_rows = [], [], [], []
    pieces, bh_pieces = [], []
    capital = bh_capital = cfgs[0].initial_capital
    for f in folds:
        train = run_params(prepare(prices.iloc[f.train_start : f.train_end], dividends), params, n_threads)
        # The test run starts at the close of the bar before the window: its initial order is placed there.
        test_prices = prices.iloc[f.test_start - 1 : f.test_end]
        test = run_params(prepare(test_prices, dividends), params, n_threads)
        pick = _best(train[:, col], metric)
        if pick < 0:
            raise ValueError(f"fold {f.index}: no configuration has a finite {metric} in sample")
        chosen = cfgs[pick]
        is_value, oos_value = float(train[pick, col]), float(test[pick, col])
        oos_scores = test[:, col] * sign
        finite = np.isfinite(oos_scores)
        beaten = float(np.mean(oos_scores[finite] <= oos_scores[pick])) if finite[pick] else float("nan")
        both = np.isfinite(train[:, col]) & finite
        rank_corr = (
            float(pd.Series(train[both, col]).corr(pd.Series(test[both, col]), method="spearman"))
            if both.sum() > 2
            else float("nan")
        )
        oos_best_pos = _best(test[:, col], metric)
        fold_rows.append(
            {
                "fold": f.index,
                "train_start": index[f.train_start],
                "train_end": index[f.train_end - 1],
                "test_start": index[f.test_start],
                "test_end": index[f.test_end - 1],
                "n_train": f.train_end - f.train_start,
                "n_test": f.test_end - f.test_start,
                "chosen": pick,
                "in_sample": is_value,
                "out_of_sample": oos_value,
                "gap": sign * (is_value - oos_value),
                "oos_best": float(test[oos_best_pos, col]) if oos_best_pos >= 0 else float("nan"),
                "oos_percentile": beaten,
                "rank_correlation": rank_corr,
            }
        )
        is_rows.append(train[pick])
        oos_rows.append(test[pick])
        chosen_rows.append(chosen.to_dict())

        run = simulate(test_prices, chosen, dividends)
        scale = capital / chosen.initial_capital
        eq = run.equity * scale
        bh = run.benchmarks["buy_and_hold"] * (bh_capital / chosen.initial_capital)
        # The first fold keeps its set-up bar (the last training bar); later folds' set-up bar is the previous
        # fold's last test bar, already in the series.
        pieces.append(eq if not pieces else eq.iloc[1:])
        bh_pieces.append(bh if not bh_pieces else bh.iloc[1:])
        capital, bh_capital = float(eq.iloc[-1]), float(bh.iloc[-1])

    fold_frame = pd.DataFrame(fold_rows)
    fold_index = pd.Index(fold_frame["fold"], name="fold")
    equity = pd.concat(pieces).rename("equity")
    buy_hold = pd.concat(bh_pieces).rename("buy_and_hold")
    first = cfgs[0]
    tz = prices.attrs.get("timezone") or "America/New_York"
    stitched = performance_metrics(
        daily_equity(equity, first.initial_capital, tz), first.initial_capital, first.risk_free_rate,
        first.periods_per_year,
    )
    mean_is, mean_oos = float(fold_frame["in_sample"].mean()), float(fold_frame["out_of_sample"].mean())
    summary = {
        "mean_in_sample": mean_is,
        "mean_out_of_sample": mean_oos,
        "mean_gap": float(fold_frame["gap"].mean()),
        "efficiency": mean_oos / mean_is if mean_is != 0 else float("nan"),
        "mean_rank_correlation": float(fold_frame["rank_correlation"].mean()),
        **{f"oos_{k}": float(v) for k, v in stitched.items()},
        "buy_and_hold_return": float(buy_hold.iloc[-1] / first.initial_capital - 1.0),
    }
    return WalkForwardResult(
        folds=fold_frame,
        in_sample_metrics=metrics_frame(np.vstack(is_rows), fold_index),
        out_of_sample_metrics=metrics_frame(np.vstack(oos_rows), fold_index),
        chosen_params=pd.DataFrame(chosen_rows, index=fold_index),
        equity=equity,
        buy_and_hold=buy_hold,
        summary=summary,
        metric=metric,
        mode=mode,
    )
