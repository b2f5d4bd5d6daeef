import math

import numpy as np
import pytest
from scipy import stats

from core.analysis import (
    deflated_sharpe_of_study,
    deflated_sharpe_ratio,
    expected_max_sharpe,
    probabilistic_sharpe_ratio,
)


def test_bailey_lopez_de_prado_2014_numerical_example():
    # Bailey & López de Prado (2014), "The Deflated Sharpe Ratio", numerical example: annualised SR 2.5 over
    # T = 1250 daily observations (5 years of 250 days), N = 100 trials, annualised variance of the trials' SR 0.5,
    # skewness -3, kurtosis 10. Per-observation inputs: SR = 2.5/√250, V = 0.5/250.
    # Exact values below come from the paper's formulas (Euler–Mascheroni expected maximum, PSR with skew and
    # kurtosis) evaluated in double precision; the paper prints them rounded: E[max SR] ≈ 0.1132 per observation
    # (≈ 1.7894 annualised) and DSR ≈ 0.9004 (the 4-decimal figures are quoted from the paper as remembered —
    # the text could not be re-checked here; the exact values are reproducible from the formulas).
    res = deflated_sharpe_ratio(2.5 / math.sqrt(250), 1250, 100, 0.5 / 250, skew=-3.0, kurtosis=10.0,
                                periods_per_year=250)
    assert res.sr0 == pytest.approx(0.11317200186513214, rel=1e-12)
    assert res.dsr == pytest.approx(0.9003968344493903, rel=1e-12)
    assert round(res.sr0, 4) == 0.1132
    assert round(res.sr0_annual, 4) == 1.7894
    assert round(res.dsr, 4) == 0.9004


def test_psr_properties():
    assert probabilistic_sharpe_ratio(0.1, 0.1, 500) == pytest.approx(0.5)
    # normal returns: z = SR·√(T−1)/√(1 + SR²/2)
    z = 0.1 * math.sqrt(499) / math.sqrt(1 + 0.5 * 0.01)
    assert probabilistic_sharpe_ratio(0.1, 0.0, 500) == pytest.approx(stats.norm.cdf(z), rel=1e-12)
    # negative skew and fat tails lower the confidence in a positive SR
    assert probabilistic_sharpe_ratio(0.1, 0.0, 500, -2, 9) < probabilistic_sharpe_ratio(0.1, 0.0, 500)
    assert expected_max_sharpe(1, 0.01) == 0.0
    assert expected_max_sharpe(1000, 0.01) > expected_max_sharpe(10, 0.01) > 0


def test_more_trials_deflate_more():
    low = deflated_sharpe_ratio(0.1, 1000, 10, 0.001).dsr
    high = deflated_sharpe_ratio(0.1, 1000, 1000, 0.001).dsr
    assert high < low


def test_of_study_uses_sample_moments_and_the_number_of_trials_evaluated():
    rng = np.random.default_rng(5)
    r = rng.normal(0.001, 0.01, 756)
    trial_sr = np.array([0.5, 1.0, np.nan, 1.5, 0.2])
    res = deflated_sharpe_of_study(r, trial_sr, periods_per_year=252)
    assert res.n_trials == 5 and res.n_obs == 756
    assert res.sr_variance == pytest.approx(np.var([0.5, 1.0, 1.5, 0.2], ddof=1) / 252)
    assert res.skew == pytest.approx(stats.skew(r))
    assert res.kurtosis == pytest.approx(stats.kurtosis(r, fisher=False))
    direct = deflated_sharpe_ratio(np.mean(r) / np.std(r, ddof=1), 756, 5, res.sr_variance, res.skew, res.kurtosis)
    assert res.dsr == pytest.approx(direct.dsr, rel=1e-12)
