"""The shared session state: active dataset, configuration and period survive reruns and drive one cached run."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest


def _script() -> None:
    from datetime import date

    import streamlit as st

    from app.state import (
        DatasetRef,
        active_config,
        active_data,
        active_result,
        set_active_config,
        set_active_dataset,
        set_active_period,
    )

    if st.button("switch"):
        set_active_dataset(DatasetRef("sample", "SP500"))
        set_active_config(active_config().replace(trigger_up=0.05))
        set_active_period((date(2005, 1, 1), date(2006, 12, 31)))
    data = active_data()
    st.write(f"{data.symbol}|{len(data.prices)}|{active_config().trigger_up}|{active_result().metrics['n_trades']}")


def test_defaults_then_switch_survives_reruns():
    at = AppTest.from_function(_script, default_timeout=60)
    at.run()
    assert not at.exception
    symbol, rows, trigger, _ = at.markdown[0].value.split("|")
    assert symbol == "GOOG" and int(rows) == 2148 and float(trigger) == 0.03
    at.button[0].click().run()
    at.run()  # a plain rerun keeps the choice
    symbol, rows, trigger, trades = at.markdown[0].value.split("|")
    assert symbol != "GOOG" and float(trigger) == 0.05
    assert 480 < int(rows) < 520  # two years of daily bars
    assert float(trades) >= 0
