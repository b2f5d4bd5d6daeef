"""No database password on a command line: a study worker on PostgreSQL gets its URL from the environment, and
the CLI refuses ``--database`` URLs that carry one."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.config import StrategyConfig
from core.optimize import Objective, SearchSpace
from storage import Store
from storage.database import dispose_engine
from usecases.studies import create_study, start_worker

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "s3cr3t-Pa55word"
# The refusal test puts a password on a command line on purpose; a different one, so the scan above never sees it.
CLI_PASSWORD = "another-Pa55word"


def _all_command_lines() -> list[str]:
    lines = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                lines.append((entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"))
            except OSError:  # the process ended while we looked
                continue
    return lines


def _prices() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    index = pd.bdate_range("2020-01-02", periods=600)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.02, len(index))))
    return pd.DataFrame({"open": close, "high": close, "low": close, "close": close, "volume": 1e6}, index=index)


def test_a_worker_on_postgresql_never_shows_the_password(pg_server):
    # The test server trusts local connections, so any password works; it only has to be in the URL.
    url = pg_server.create_database().replace("postgresql+psycopg://vbl@", f"postgresql+psycopg://vbl:{PASSWORD}@")
    store = Store(url, actor="tester")
    try:
        dataset = store.save_dataset(_prices(), None, name="synthetic", symbol="SYN", source="csv", interval="1d",
                                     price_basis="split_adjusted", timezone="America/New_York")
        space = SearchSpace.parse({"trigger_up": "0.01:0.2:0.001", "trigger_down": "0.01:0.05:0.01"},
                                  StrategyConfig())
        study = create_study(store, dataset, space, Objective("sharpe"), method="grid")
        proc = start_worker(url, study)
        seen_worker = False
        while proc.poll() is None:
            lines = _all_command_lines()
            assert not [line for line in lines if PASSWORD in line]
            seen_worker = seen_worker or any("usecases.studies.worker" in line for line in lines)
            time.sleep(0.02)
        assert proc.returncode == 0
        assert seen_worker, "the worker ended before it could be looked at; the test proves nothing"
        record = store.get_study(study)
        assert record.status == "completed"
        assert record.n_trials == record.n_planned == 191 * 5
    finally:
        dispose_engine(url)


@pytest.mark.parametrize("command", [["optimize", "--data", "GOOG", "--param", "trigger_up=0.02,0.03"],
                                     ["report", "--run", "1", "--format", "json", "--out", "x.json"]])
def test_the_cli_refuses_a_password_in_database(command, tmp_path):
    url = f"postgresql+psycopg://vbl:{CLI_PASSWORD}@127.0.0.1:1/vbl"
    result = subprocess.run([sys.executable, "-m", "cli", *command, "--database", url], cwd=ROOT, capture_output=True,
                            text=True, timeout=120, env={**os.environ, "VBL_DATABASE_URL": f"sqlite:///{tmp_path}/x"})
    assert result.returncode == 2
    assert "VBL_DATABASE_URL" in result.stderr and "password" in result.stderr
    assert CLI_PASSWORD not in result.stderr + result.stdout
