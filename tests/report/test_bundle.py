"""CSV exports and the JSON run bundle: read back, re-run, same metrics exactly; formula text inert in CSV."""

from __future__ import annotations

import dataclasses
import io
import json
import math

import pandas as pd
import pytest
from report_helpers import Seeded

from core.report.bundle import BundleError, read_bundle, rerun_bundle, run_bundle_json, run_csv, trials_csv
from core.report.safe_cells import safe_frame, safe_text
from storage import Store
from usecases.reports import import_bundle, run_report_from_store, study_report_from_store


def _same_metrics(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all((math.isnan(a[k]) and math.isnan(b[k])) or a[k] == b[k] for k in a)


def test_bundle_reimported_reproduces_the_metrics_exactly(seeded: Seeded, store: Store) -> None:
    report = run_report_from_store(store, seeded.run_id)
    text = run_bundle_json(report)
    raw = json.loads(text)
    assert raw["dataset"]["sha256"] == seeded.data.sha256()
    assert raw["config"]["commission_rate"] == 0.0005
    assert len(raw["trades"]) == len(report.result.trades)
    bundle = read_bundle(text)
    assert _same_metrics(dict(bundle.metrics), dict(report.result.metrics))
    rerun = rerun_bundle(bundle, seeded.data)
    assert _same_metrics(rerun.metrics, report.result.metrics)
    assert bundle.trades["qty"].tolist() == report.result.trades["qty"].tolist()
    new_id = import_bundle(store, bundle)
    assert _same_metrics(dict(store.get_run(new_id).metrics), dict(report.result.metrics))


def test_bundle_refuses_other_data_and_changed_metrics(seeded: Seeded, store: Store) -> None:
    bundle = read_bundle(run_bundle_json(run_report_from_store(store, seeded.run_id)))
    other = dataclasses.replace(seeded.data, prices=seeded.data.prices.iloc[:-5].copy())
    with pytest.raises(BundleError, match="SHA-256"):
        rerun_bundle(bundle, other)
    tampered = dataclasses.replace(bundle, metrics={**bundle.metrics, "sharpe": 9.0})
    with pytest.raises(BundleError, match="sharpe"):
        rerun_bundle(tampered, seeded.data)
    with pytest.raises(BundleError):
        read_bundle('{"format": "something else"}')


def test_run_csv_tables_read_back(seeded: Seeded, store: Store) -> None:
    report = run_report_from_store(store, seeded.run_id)
    trades = pd.read_csv(io.StringIO(run_csv(report, "trades")))
    assert trades["qty"].tolist() == report.result.trades["qty"].tolist()  # full precision
    timeline = pd.read_csv(io.StringIO(run_csv(report, "timeline")), index_col=0)
    assert len(timeline) == len(report.result.timeline)
    assert timeline["value"].tolist() == report.result.timeline["value"].tolist()
    metrics = pd.read_csv(io.StringIO(run_csv(report, "metrics")), index_col=0)
    assert metrics.at["sharpe", "strategy"] == report.result.metrics["sharpe"]
    log = pd.read_csv(io.StringIO(run_csv(report, "transaction_log")))
    assert len(log) == len(report.result.timeline)
    with pytest.raises(ValueError):
        run_csv(report, "nothing")


def test_trials_csv(seeded: Seeded, store: Store) -> None:
    study = study_report_from_store(store, seeded.study_id)
    trials = pd.read_csv(io.StringIO(trials_csv(study)))
    assert len(trials) == 6
    assert trials["sharpe"].tolist() == study.trials["sharpe"].tolist()


def test_labelled_csv_headers_come_from_the_registries_and_keep_every_value(seeded: Seeded, store: Store) -> None:
    report = run_report_from_store(store, seeded.run_id)
    names = pd.read_csv(io.StringIO(run_csv(report, "trades")))
    labels = pd.read_csv(io.StringIO(run_csv(report, "trades", headers="labels")))
    assert list(labels.columns) == ["Time", "Kind", "Side", "Shares", "Price", "Notional", "Commission",
                                    "Anchor before", "Anchor after", "Shares after", "Cash after",
                                    "Stock share after (fraction)", "Why"]
    assert labels["Stock share after (fraction)"].tolist() == names["stock_share_after"].tolist()
    pd.testing.assert_frame_equal(labels.set_axis(names.columns, axis=1), names)  # only the headers differ
    timeline = pd.read_csv(io.StringIO(run_csv(report, "timeline", headers="labels")), index_col=0)
    assert timeline.index.name == "Time" and timeline.columns[:2].tolist() == ["Close", "Anchor tested"]
    assert timeline["Account value"].tolist() == report.result.timeline["value"].tolist()
    metrics = pd.read_csv(io.StringIO(run_csv(report, "metrics", headers="labels")), index_col=0)
    assert metrics.columns.tolist() == ["Unit", "Strategy", "Buy & hold", "Static mix"]
    assert metrics.loc["Total return", "Unit"] == "fraction"  # the cell holds 1.54, not 154 %
    assert metrics.loc["Sharpe ratio", "Strategy"] == report.result.metrics["sharpe"]
    assert metrics.loc["Trades", "Unit"] == "count"
    assert run_csv(report, "transaction_log", headers="labels") == run_csv(report, "transaction_log")
    with pytest.raises(ValueError, match="headers must be one of names, labels"):
        run_csv(report, "trades", headers="pretty")


def test_labelled_trials_csv(seeded: Seeded, store: Store) -> None:
    study = study_report_from_store(store, seeded.study_id)
    trials = pd.read_csv(io.StringIO(trials_csv(study, headers="labels")))
    assert {"Trial", "Status", "Sell trigger (fraction)", "Sharpe ratio", "Total return (fraction)"} <= set(trials)
    assert trials["Sharpe ratio"].tolist() == study.trials["sharpe"].tolist()
    assert trials["Sell trigger (fraction)"].tolist() == study.trials["param.trigger_up"].tolist()


def test_formula_text_is_neutralised() -> None:
    assert safe_text('=HYPERLINK("x")') == "'=HYPERLINK(\"x\")"
    for text in ("+1", "-1", "@A1", "\t=1"):
        assert safe_text(text).startswith("'")
    assert safe_text("Price 96.90") == "Price 96.90"
    frame = safe_frame(pd.DataFrame({"name": ['=HYPERLINK("x")', "ok"], "value": [-1.0, 2.0]}))
    assert frame["name"].tolist() == ["'=HYPERLINK(\"x\")", "ok"]
    assert frame["value"].tolist() == [-1.0, 2.0]  # numbers stay numbers
