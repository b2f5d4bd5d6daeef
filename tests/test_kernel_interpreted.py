"""The compiled kernel and the same source run by the interpreter (the benchmark baseline) agree exactly."""

from __future__ import annotations

import numpy as np
from engine_helpers import random_config, random_path

from core import kernel as compiled
from core import kernel_interpreted
from core.engine import params_row, prepare


def test_compiled_and_interpreted_kernels_give_identical_metrics():
    py = kernel_interpreted.load()
    assert py is not compiled and py.run_one is not compiled.run_one
    rng = np.random.default_rng(5)
    for intraday in (False, True):
        prices, dividends = random_path(rng, intraday_bars=intraday)
        bars = prepare(prices, dividends)
        args = (bars.close, bars.day, bars.in_session, bars.div_ex_day, bars.div_amount, bars.div_pay_day)
        for _ in range(4):
            p = params_row(random_config(rng))
            no_rec = np.empty((0, compiled.N_RECORD))
            no_div = np.empty((0, compiled.N_DIV_RECORD))
            a = compiled.run_one(*args, p, bars.n_days, no_rec, no_div)
            b = py.run_one(*args, p, bars.n_days, no_rec, no_div)
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15, equal_nan=True)
