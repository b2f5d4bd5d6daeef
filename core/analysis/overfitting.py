"""Overfitting: the deflated Sharpe ratio of Bailey & López de Prado (2014).

"The Deflated Sharpe Ratio: Correcting for Selection Bias, Backtest Overfitting and Non-Normality", Journal of
Portfolio Management 40(5). The best of ``N`` trials has a Sharpe ratio inflated by selection; the DSR is the
probability that the true Sharpe ratio exceeds the maximum expected from ``N`` unskilled trials:

* expected maximum (their eq. for ``SR_0``, via the Euler–Mascheroni constant ``γ``):
  ``SR_0 = √V[SR] · ((1 − γ)·Φ⁻¹(1 − 1/N) + γ·Φ⁻¹(1 − 1/(N·e)))``
* probabilistic Sharpe ratio against a benchmark ``SR*``:
  ``PSR(SR*) = Φ((SR − SR*)·√(T − 1) / √(1 − γ₃·SR + (γ₄ − 1)/4 · SR²))``
* ``DSR = PSR(SR_0)``.

Conventions (the paper's): Sharpe ratios and their variance are **per observation** (not annualised), ``T`` is
the number of return observations, ``γ₃`` the skewness and ``γ₄`` the (non-excess) kurtosis, 3 for a normal
distribution. The functions here take those conventions; :func:`deflated_sharpe_of_study` converts from the
annualised Sharpe ratios of a trials table.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

EULER_GAMMA = 0.5772156649015329


def expected_max_sharpe(n_trials: int, sr_variance: float, mean_sr: float = 0.0) -> float:
    """Expected maximum Sharpe ratio of ``n_trials`` independent unskilled trials (per-observation units).

    ``sr_variance`` is the variance of the trials' Sharpe ratios; ``mean_sr`` their mean under the null (0).
    """
    from scipy import stats  # imported on use: scipy.stats costs ~0.4 s at app start-up

    if n_trials < 2:
        return mean_sr  # a single trial has no selection to correct for
    z1 = stats.norm.ppf(1.0 - 1.0 / n_trials)
    z2 = stats.norm.ppf(1.0 - 1.0 / (n_trials * math.e))
    return float(mean_sr + math.sqrt(sr_variance) * ((1.0 - EULER_GAMMA) * z1 + EULER_GAMMA * z2))


def probabilistic_sharpe_ratio(
    sr: float, sr_benchmark: float, n_obs: int, skew: float = 0.0, kurtosis: float = 3.0
) -> float:
    """P(true SR > ``sr_benchmark``) given an estimate ``sr`` from ``n_obs`` observations (per-observation units).

    ``kurtosis`` is non-excess (3 for normal returns). NaN when the variance term is not positive.
    """
    from scipy import stats  # imported on use: scipy.stats costs ~0.4 s at app start-up

    denom = 1.0 - skew * sr + (kurtosis - 1.0) / 4.0 * sr * sr
    if not denom > 0 or n_obs < 2:
        return float("nan")
    z = (sr - sr_benchmark) * math.sqrt(n_obs - 1) / math.sqrt(denom)
    return float(stats.norm.cdf(z))


@dataclass(frozen=True)
class DeflatedSharpe:
    """The deflated Sharpe ratio and its ingredients (per-observation units unless named ``_annual``)."""

    dsr: float
    sr: float
    sr0: float
    n_trials: int
    n_obs: int
    sr_variance: float
    skew: float
    kurtosis: float
    periods_per_year: int

    @property
    def sr_annual(self) -> float:
        return self.sr * math.sqrt(self.periods_per_year)

    @property
    def sr0_annual(self) -> float:
        return self.sr0 * math.sqrt(self.periods_per_year)


def deflated_sharpe_ratio(
    sr: float,
    n_obs: int,
    n_trials: int,
    sr_variance: float,
    skew: float = 0.0,
    kurtosis: float = 3.0,
    periods_per_year: int = 252,
) -> DeflatedSharpe:
    """DSR of a selected strategy (all inputs per observation; ``periods_per_year`` only labels the result)."""
    sr0 = expected_max_sharpe(n_trials, sr_variance)
    dsr = probabilistic_sharpe_ratio(sr, sr0, n_obs, skew, kurtosis)
    return DeflatedSharpe(dsr, sr, sr0, int(n_trials), int(n_obs), sr_variance, skew, kurtosis, periods_per_year)


def deflated_sharpe_of_study(
    returns: np.ndarray | pd.Series,
    trial_sharpes: np.ndarray | pd.Series,
    periods_per_year: int = 252,
    n_trials: int | None = None,
) -> DeflatedSharpe:
    """DSR of a study's chosen configuration.

    Args:
        returns: the chosen configuration's periodic (daily) simple returns, e.g. from ``simulate(...).daily_equity``.
        trial_sharpes: the annualised Sharpe ratio of every trial evaluated (a trials table's ``sharpe`` column);
            their variance, de-annualised, is ``V[SR]``. NaN Sharpe ratios are left out of the variance.
        periods_per_year: the annualisation used for ``trial_sharpes``.
        n_trials: number of trials actually evaluated (default: ``len(trial_sharpes)``, NaN ones included —
            every evaluated trial was a chance to find a lucky configuration).

    Skewness and kurtosis are the returns' sample moments (biased estimators, as in the paper); the Sharpe ratio is
    per observation, mean over standard deviation (``ddof=1``) with no risk-free rate.
    """
    from scipy import stats  # imported on use: scipy.stats costs ~0.4 s at app start-up

    r = np.asarray(returns, dtype=float)
    r = r[np.isfinite(r)]
    sharpes = np.asarray(trial_sharpes, dtype=float)
    n = int(len(sharpes) if n_trials is None else n_trials)
    finite = sharpes[np.isfinite(sharpes)]
    variance = float(np.var(finite, ddof=1)) / periods_per_year if finite.size > 1 else 0.0
    sd = float(np.std(r, ddof=1)) if r.size > 1 else float("nan")
    sr = float(np.mean(r) / sd) if sd > 0 else float("nan")
    skew = float(stats.skew(r)) if r.size > 2 else 0.0
    kurt = float(stats.kurtosis(r, fisher=False)) if r.size > 3 else 3.0
    return deflated_sharpe_ratio(sr, r.size, n, variance, skew, kurt, periods_per_year)
