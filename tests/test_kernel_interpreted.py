"""The compiled kernel and the same source run by the interpreter (the benchmark baseline) agree exactly."""

from __future__ import annotations

import numpy as np
from engine_helpers import random_config, random_path

from core import kernel as compiled
from core import kernel_interpreted
from core.engine import params_row, prepare, volatility_for


def test_compiled_and_interpreted_kernels_give_identical_metrics():
    py = kernel_interpreted.load()
    assert py is not compiled and py.run_one is not compiled.run_one
    rng = np.random.default_rng(5)
    for intraday in (False, True):
        prices, dividends = random_path(rng, intraday_bars=intraday)
        bars = prepare(prices, dividends)
        args = (bars.close, bars.day, bars.in_session, bars.div_ex_day, bars.div_amount, bars.div_pay_day)
        for _ in range(4):
            cfg = random_config(rng)
            if rng.random() < 0.5:  # volatility-scaled triggers too (docs/strategy.md §5.4a)
                cfg = cfg.replace(threshold_mode="vol_scaled", vol_window_bars=int(rng.integers(2, 30)),
                                  vol_reference=float(rng.uniform(0.05, 0.6)), trigger_min=0.001, trigger_max=0.2)
            p = params_row(cfg)
            sigma = volatility_for(bars.close, p)
            no_rec = np.empty((0, compiled.N_RECORD))
            no_div = np.empty((0, compiled.N_DIV_RECORD))
            a = compiled.run_one(*args, p, sigma, bars.n_days, no_rec, no_div)
            b = py.run_one(*args, p, sigma, bars.n_days, no_rec, no_div)
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15, equal_nan=True)
