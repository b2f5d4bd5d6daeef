"""``python -m cli optimize``: prints the top N, stores the study, one-line errors with exit code 2."""

from __future__ import annotations

import io

import pytest

from cli.main import main


def _run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_grid_prints_top_and_stores(db_url, store) -> None:
    code, out, err = _run(
        "optimize", "--data", "GOOG", "--start", "2010-01-01", "--database", db_url,
        "--param", "trigger_up=0.01:0.08:0.005", "--param", "sizing=proportional,original",
        "--method", "grid", "--objective", "sharpe", "--constraint", "max_drawdown>=-0.3", "--top", "3",
    )
    assert code == 0, err
    assert "grid search of 30 combinations" in out and "top 3 by sharpe (max)" in out
    table = out.splitlines()[-4:]
    assert table[0].split()[:4] == ["rank", "trial", "trigger_up", "sizing"]
    studies = store.list_studies()
    assert len(studies) == 1 and studies[0].status == "completed" and studies[0].n_trials == 30

    code, out, _ = _run("optimize", "--resume", str(studies[0].id), "--database", db_url, "--top", "2")
    assert code == 0 and "top 2" in out


def test_bayes_with_weighted_score(db_url) -> None:
    code, out, err = _run(
        "optimize", "--data", "GOOG", "--start", "2011-01-01", "--database", db_url,
        "--param", "trigger_up=0.01:0.08:0.001", "--param", "trigger_down=0.01:0.08:0.001",
        "--method", "bayes", "--n-trials", "30", "--seed", "2", "--score", "sharpe=1,calmar=0.5", "--top", "2",
    )
    assert code == 0, err
    assert "30 trials run" in out and "score" in out.splitlines()[-3]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--param", "trigger_up=0.01:0.08:0"], "step must be greater than 0"),
        (["--param", "trigger_upp=0.01:0.08:0.01"], "unknown parameter 'trigger_upp'"),
        ([], "nothing to search"),
        (["--param", "trigger_up=0.001:0.5:0.0001", "--param", "trigger_down=0.001:0.5:0.0001"],
         "24,910,081 combinations"),
        (["--param", "trigger_up=0.01:0.02:0.01", "--method", "random"], "number of trials"),
        (["--param", "trigger_up=0.01:0.02:0.01", "--constraint", "sharpe>1"], "metric>=value"),
        (["--param", "trigger_up=0.01:0.02:0.01", "--executor", "dask"], "--scheduler"),
    ],
)
def test_errors_are_one_line(db_url, args: list[str], needle: str) -> None:
    code, _, err = _run("optimize", "--database", db_url, *args)
    assert code == 2
    assert err.startswith("error: ") and err.count("\n") == 1 and needle in err, err
