"""The natural direction of every metric: which way is "better" when a study ranks configurations.

``METRIC_DIRECTION[name]`` is ``+1`` when a higher value is better and ``-1`` when a lower one is. The optimiser
imports this mapping, so every name in :data:`core.engine.METRIC_NAMES` is covered (a test holds it to that).
"""

from __future__ import annotations

import numpy as np

from core.engine import METRIC_NAMES

MAXIMISE = 1
MINIMISE = -1

METRIC_DIRECTION: dict[str, int] = {
    "total_return": MAXIMISE,
    "cagr": MAXIMISE,
    "volatility": MINIMISE,
    "sharpe": MAXIMISE,
    "sortino": MAXIMISE,
    # Drawdowns, VaR and CVaR are negative fractions: less negative (higher) is better.
    "max_drawdown": MAXIMISE,
    "max_drawdown_days": MINIMISE,
    "calmar": MAXIMISE,
    "var_95": MAXIMISE,
    "cvar_95": MAXIMISE,
    # Activity counts cost commissions and attention: fewer is better when they are the objective.
    "n_trades": MINIMISE,
    "n_buys": MINIMISE,
    "n_sells": MINIMISE,
    "n_rebalances": MINIMISE,
    "total_commission": MINIMISE,
    "turnover": MINIMISE,
    "dividends_gross": MAXIMISE,
    "dividends_net": MAXIMISE,
    "withholding_tax": MINIMISE,
    "pct_time_in_band": MAXIMISE,
    "n_skipped_min_notional": MINIMISE,
    "n_trimmed": MINIMISE,
    "n_blocked": MINIMISE,
    "win_rate": MAXIMISE,
    "profit_factor": MAXIMISE,
    "buy_hold_return": MAXIMISE,
    "static_mix_return": MAXIMISE,
    "excess_return_vs_buy_hold": MAXIMISE,
    "excess_return_vs_static_mix": MAXIMISE,
}

assert set(METRIC_DIRECTION) == set(METRIC_NAMES), "METRIC_DIRECTION must cover METRIC_NAMES exactly"


def direction(metric: str) -> int:
    """``+1`` (maximise) or ``-1`` (minimise) for ``metric``; unknown names are maximised.

    Unknown names (a derived column such as ``score``) default to maximise, the common case for custom objectives.
    """
    return METRIC_DIRECTION.get(metric, MAXIMISE)


def oriented(values: np.ndarray, metric: str) -> np.ndarray:
    """``values`` multiplied by the metric's direction, so that higher is always better (NaN stays NaN)."""
    return np.asarray(values, dtype=float) * direction(metric)
