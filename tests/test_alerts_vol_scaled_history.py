"""A held vol_scaled position is advised on the triggers in force (docs/strategy.md §5.4a), not its fixed ones:
the watch list, the Positions page and the API pass the stored price history to the advisor."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from core import StrategyConfig
from core.advisor import evaluate
from usecases.alerts import advise, history_for, price_history, watch
from usecases.ledger import ledger
from usecases.store import Store


@pytest.fixture
def store(tmp_path):
    s = Store(f"sqlite:///{tmp_path / 'alerts.sqlite3'}")
    yield s
    s.close()


def _history(n: int = 80) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    closes = 100 * np.exp(np.cumsum(rng.normal(0, 0.03, n)))  # about 48 % annualised
    return pd.DataFrame({"close": closes}, index=pd.bdate_range("2024-01-02", periods=n))


def test_a_vol_scaled_position_is_advised_with_the_stored_history(store):
    prices = _history()
    store.save_dataset(prices, name="ACME daily", symbol="ACME")
    cfg = StrategyConfig(threshold_mode="vol_scaled", vol_window_bars=20, vol_reference=0.2, trigger_up=0.03,
                         trigger_down=0.03, trigger_min=0.005, trigger_max=0.2)
    position = ledger(store).create("ACME", cfg, shares=50.0, cash=5_000.0, anchor=100.0, name="acme")
    at = prices.index[-1] + pd.Timedelta(days=1)
    history = history_for(store, position, at)
    assert history is not None and len(history) == len(prices)  # every close before the price
    decision = advise(store, position, 101.0, at)
    expected = evaluate(position.state, 101.0, cfg, pd.Timestamp(at), timezone=position.timezone,
                        history=prices["close"])
    assert decision.trigger_up == expected.trigger_up
    sigma = float(np.std(np.diff(np.log(prices["close"].to_numpy()))[-20:], ddof=1) * math.sqrt(252))
    assert decision.trigger_up == pytest.approx(min(max(0.03 * sigma / 0.2, 0.005), 0.2), rel=1e-12)
    assert decision.trigger_up != 0.03  # not the fixed trigger
    alerts = watch(store, typed={"ACME": _quote(101.0, at)}, now=at.to_pydatetime()).alerts
    assert alerts[0].sell_trigger_price == pytest.approx(decision.sell_trigger_price, rel=1e-12)
    assert alerts[0].sell_trigger_price != pytest.approx(100.0 * 1.03)


def test_history_stops_before_the_price_and_fixed_positions_read_none(store):
    prices = _history(30)
    store.save_dataset(prices, name="ACME", symbol="ACME")
    cut = price_history(store, "ACME", prices.index[10])
    assert list(cut.index) == list(prices.index[:10])
    fixed = ledger(store).create("ACME", StrategyConfig(), shares=50.0, cash=5_000.0, anchor=100.0, name="fixed")
    assert history_for(store, fixed, prices.index[-1]) is None
    assert price_history(store, "NOPE", prices.index[-1]) is None


def _quote(price, at):
    from usecases.alerts import Quote

    return Quote(price, at.to_pydatetime(), "typed")
