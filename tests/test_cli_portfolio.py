"""``python -m cli portfolio``: a three-stock portfolio offline out of the box, stored, listed, shown, re-run
exactly, exported and deleted; bad arguments are one ``error:`` line."""

from __future__ import annotations

import json

import pytest

from cli.main import EXIT_USAGE, main
from core import StrategyConfig
from core.data.samples import load_sample
from core.metric_table import format_metric
from core.portfolio import PortfolioCell, PortfolioRules, simulate_portfolio


def run_cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_three_bundled_stocks_run_offline_and_store_reproducibly(capsys):
    code, out, err = run_cli(capsys, "portfolio", "run", "--sample", "INTC", "--sample", "MMM", "--sample", "COST",
                             "--rule", "reallocation=quarterly", "--set", "trigger_up=0.05", "--save",
                             "--name", "three")
    assert code == 0, err
    cells = [PortfolioCell(n, load_sample(n).prices, StrategyConfig(trigger_up=0.05), 1 / 3, load_sample(n).dividends)
             for n in ("INTC", "MMM", "COST")]
    expected = simulate_portfolio(cells, PortfolioRules(reallocation="quarterly"))
    assert format_metric("total_return", expected.metrics["total_return"]) in out
    assert "saved portfolio 1" in out
    code, out, _ = run_cli(capsys, "portfolio", "list")
    assert code == 0 and "three" in out and "INTC, MMM, COST" in out
    code, out, _ = run_cli(capsys, "portfolio", "show", "1")
    assert code == 0 and "reallocation=quarterly" in out and "trigger_up=0.05" in out
    code, out, _ = run_cli(capsys, "portfolio", "rerun", "1")
    assert code == 0 and "reproduced exactly" in out
    # Running the same samples again reuses the stored datasets instead of storing them twice.
    assert run_cli(capsys, "portfolio", "run", "--sample", "INTC")[0] == 0
    code, out, _ = run_cli(capsys, "portfolio", "delete", "1")
    assert code == 0 and "deleted portfolio 1" in out


def test_a_spec_file_is_the_apis_body(capsys, tmp_path):
    run_cli(capsys, "portfolio", "run", "--sample", "INTC", "--sample", "MMM")
    spec = {"rules": {"cash_pool": True}, "cells": [{"name": "I", "dataset_id": 1, "weight": 0.5},
                                                    {"name": "M", "dataset_id": 2, "weight": 0.4}]}
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(spec))
    code, out, err = run_cli(capsys, "portfolio", "run", "--spec", str(path))
    assert code == 0, err
    assert out.splitlines()[0].split() == ["Cell", "Weight", "Start", "End", "Profit", "Time-weighted", "return"]


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["portfolio", "run"], "give the cells"),
        (["portfolio", "run", "--sample", "NOPE"], "unknown sample dataset"),
        (["portfolio", "run", "--sample", "INTC", "--rule", "pool=1"], "did you mean"),
        (["portfolio", "run", "--sample", "INTC", "--sample", "MMM", "--weight", "0.5"], "one per dataset"),
        (["portfolio", "run", "--sample", "INTC", "--weight", "0.5"], "cash pool"),
        (["portfolio", "show", "7"], "portfolio"),
    ],
)
def test_bad_arguments_are_one_error_line(capsys, argv, needle):
    code, out, err = run_cli(capsys, *argv)
    assert out == ""
    assert code == EXIT_USAGE and "Traceback" not in err
    assert len(err.splitlines()) == 1 and err.startswith("error: ") and needle in err
