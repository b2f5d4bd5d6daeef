import numpy as np
import pandas as pd
import pytest

from core import StrategyConfig, simulate
from core.analysis import RegimeThresholds, label_regimes, regime_metrics


def frame(closes):
    return pd.DataFrame({"close": closes}, index=pd.bdate_range("2024-01-02", periods=len(closes)))


def test_trend_labels_by_hand():
    t = RegimeThresholds(trend_window=2, bull_threshold=0.05, bear_threshold=-0.05, vol_threshold=0.5)
    lab = label_regimes(frame([100.0, 104.0, 110.0, 100.0, 90.0, 92.0]), t)
    np.testing.assert_allclose(lab["trend_return"], [0.0, 0.04, 0.10, 100 / 104 - 1, 90 / 110 - 1, -0.08])
    assert list(lab["trend"]) == ["sideways", "sideways", "bull", "sideways", "bear", "bear"]
    assert lab["regime"].iloc[2] == "bull/" + lab["vol_regime"].iloc[2]


def test_volatility_labels_fixed_threshold_and_rolling_median():
    # calm days, then wild days: 21-day vol of the wild stretch is far above 25 % annualised.
    calm = [100.0 * 1.001**i for i in range(30)]
    wild = list(np.cumprod([calm[-1]] + [1.05 if i % 2 else 0.95 for i in range(30)])[1:])
    lab = label_regimes(frame(calm + wild), RegimeThresholds(vol_threshold=0.25))
    assert (lab["vol_regime"].iloc[:30] == "low").all()
    assert (lab["vol_regime"].iloc[-5:] == "high").all()
    med = label_regimes(frame(calm + wild))
    assert (med["vol_regime"].iloc[-5:] == "high").all()
    assert med["vol_reference"].iloc[-1] == pytest.approx(med["volatility"].median())


def test_regime_metrics_partition_the_days_and_match_the_backtest():
    rng = np.random.default_rng(2)
    prices = frame(100 * np.exp(np.cumsum(rng.normal(0, 0.02, 300))))
    cfg = StrategyConfig()
    res = regime_metrics(prices, cfg)
    m = res.metrics.set_index(["dimension", "regime"])
    run = simulate(prices, cfg)
    assert m.loc[("all", "all"), "n_days"] == 300
    assert m.loc[("all", "all"), "strategy_return"] == pytest.approx(run.metrics["total_return"], rel=1e-12)
    assert m.loc[("all", "all"), "buy_hold_return"] == pytest.approx(run.metrics["buy_hold_return"], rel=1e-12)
    assert m.loc[("all", "all"), "strategy_sharpe"] == pytest.approx(run.metrics["sharpe"], rel=1e-12)
    for dim in ("trend", "volatility", "regime"):
        part = m.loc[dim]
        assert part["n_days"].sum() == 300
        assert part["share"].sum() == pytest.approx(1.0)
        compounded = np.prod(1 + part["strategy_return"].fillna(0.0))
        assert compounded - 1 == pytest.approx(run.metrics["total_return"], rel=1e-9)
    assert (m["excess_return"] == m["strategy_return"] - m["buy_hold_return"]).all()
