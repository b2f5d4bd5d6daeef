"""Fixed-threshold results pinned bit for bit (docs/strategy.md §5.4).

``tests/fixtures/engine_golden_fixed.json`` was written by the engine as it stood before volatility-scaled triggers
(§5.4a) existed: for real (GOOG) and random daily and intraday paths with dividends, and a spread of
configurations, it holds every metric of ``simulate`` and of ``simulate_many`` as exact hexadecimal floats and a
SHA-256 of the timeline columns, trades and events of that time. ``threshold_mode = "fixed"`` (the default) must
reproduce all of it exactly.

Regenerate (only for a deliberate change of results, with the reason in the commit):
``.venv/bin/python tests/test_engine_golden.py --write``.
"""

from __future__ import annotations

import hashlib
import json
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from engine_helpers import random_config, random_path

from core import METRIC_NAMES, StrategyConfig, simulate, simulate_many

FIXTURE = Path(__file__).parent / "fixtures" / "engine_golden_fixed.json"

# The timeline columns of the engine the fixture was written with (later columns are not part of the pin).
TIMELINE_COLUMNS = (
    "price", "anchor", "anchor_after", "sell_trigger_price", "buy_trigger_price", "shares", "cash", "receivable",
    "value", "stock_share", "pre_trade_stock_share", "action", "kind", "side", "trigger", "raw_qty", "qty",
    "exec_price", "notional", "commission", "skip_reason", "trimmed", "limit_flags", "status", "guardrail_bound",
    "dividend_gross", "dividend_net", "dividend_withholding", "dividend_cash", "orders_today", "reason",
)  # fmt: skip

# Hand-picked variants on real data: costs, whole shares, each sizing, a per-order cap, a tight band.
GOOG_CONFIGS: tuple[dict[str, Any], ...] = (
    {},
    {"trigger_up": 0.05, "trigger_down": 0.04, "sizing": "original", "commission_rate": 0.001, "slippage_bps": 5.0},
    {"sizing": "fixed_fraction", "trade_fraction": 0.3, "fractional_shares": False, "commission_min": 1.0},
    {"max_trade_share": 0.05, "guardrail_min": 0.45, "guardrail_max": 0.55, "min_notional": 0.0},
)
RANDOM_CONFIGS_PER_PATH = 4


def _cases() -> list[tuple[str, pd.DataFrame, pd.DataFrame | None, list[StrategyConfig]]]:
    from core.data import load_sample

    goog = load_sample("GOOG")
    cases = [("GOOG", goog.prices, None, [StrategyConfig(**c) for c in GOOG_CONFIGS])]
    for name, seed, intraday in (("random daily", 11, False), ("random intraday", 12, True)):
        rng = np.random.default_rng(seed)
        prices, dividends = random_path(rng, intraday_bars=intraday)
        cases.append((name, prices, dividends, [random_config(rng) for _ in range(RANDOM_CONFIGS_PER_PATH)]))
    return cases


def _hex(value: float) -> str:
    return "nan" if math.isnan(value) else float(value).hex()


def _digest(parts: list[bytes]) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(len(part).to_bytes(8, "little"))
        h.update(part)
    return h.hexdigest()


def _frame_digest(frame: pd.DataFrame, columns: tuple[str, ...] | list[str]) -> str:
    parts = [np.asarray(frame.index.astype("int64") if isinstance(frame.index, pd.DatetimeIndex) else frame.index)
             .tobytes()]
    for col in columns:
        values = frame[col]
        if pd.api.types.is_float_dtype(values):
            parts.append(np.ascontiguousarray(values.to_numpy(dtype=np.float64)).tobytes())
        else:
            parts.append("\x1f".join(map(str, values.tolist())).encode())
    return _digest(parts)


# Event keys renamed since the fixture was written (docs/strategy.md §9): digested under the fixture's names, so the
# pin still checks every value.
PINNED_EVENT_KEYS = {"stock_share": "asset_pct", "stock_share_after": "asset_pct_after"}


def _pinned_items(payload: dict[str, Any]) -> list[tuple[str, Any]]:
    return sorted((PINNED_EVENT_KEYS.get(k, k), v) for k, v in payload.items())


def _events_digest(events: list) -> str:
    rows = [f"{e.bar}|{e.type}|{e.message}|{_pinned_items(e.inputs)!r}|{_pinned_items(e.outputs)!r}" for e in events]
    return _digest([r.encode() for r in rows])


def snapshot() -> dict[str, Any]:
    """Every pinned figure of every case, as the fixture stores it."""
    out: dict[str, Any] = {}
    for name, prices, dividends, configs in _cases():
        many = simulate_many(prices, configs, dividends)
        runs = []
        for i, cfg in enumerate(configs):
            res = simulate(prices, cfg, dividends)
            runs.append({
                "config": cfg.to_dict(),
                "metrics": {m: _hex(res.metrics[m]) for m in METRIC_NAMES},
                "many": {m: _hex(float(many[m].iloc[i])) for m in METRIC_NAMES},
                "timeline": _frame_digest(res.timeline, TIMELINE_COLUMNS),
                "trades": _frame_digest(res.trades.set_index("timestamp"), [c for c in res.trades if c != "timestamp"]),
                "events": _events_digest(res.events),
            })
        closes = np.ascontiguousarray(prices["close"].to_numpy(dtype=np.float64)).tobytes()
        out[name] = {"closes": _digest([closes]), "runs": runs}
    return out


@pytest.fixture(scope="module")
def pinned() -> dict[str, Any]:
    return json.loads(FIXTURE.read_text())


@pytest.fixture(scope="module")
def current() -> dict[str, Any]:
    return snapshot()


def test_the_inputs_are_the_pinned_ones(pinned, current):
    assert set(current) == set(pinned)
    for name in pinned:
        assert current[name]["closes"] == pinned[name]["closes"], f"{name}: the price path changed, not the engine"
        # Configurations written before the new fields existed read back with their defaults: fixed thresholds.
        for run in pinned[name]["runs"]:
            assert StrategyConfig.from_dict(run["config"]).threshold_mode == "fixed"


@pytest.mark.parametrize("part", ["metrics", "many", "timeline", "trades", "events"])
def test_fixed_thresholds_reproduce_the_pinned_results_bit_for_bit(pinned, current, part):
    for name in pinned:
        for i, (old, new) in enumerate(zip(pinned[name]["runs"], current[name]["runs"], strict=True)):
            assert {k: new["config"][k] for k in old["config"]} == old["config"]
            assert new[part] == old[part], f"{name}, configuration {i}: {part} differ"


if __name__ == "__main__":
    if "--write" not in sys.argv:
        sys.exit("usage: python tests/test_engine_golden.py --write")
    FIXTURE.write_text(json.dumps(snapshot(), indent=1, sort_keys=True) + "\n")
    print(f"wrote {FIXTURE}")
