"""Names of runs, datasets and studies: shortened to 200 characters only with a ``NameShortened`` warning, and
control characters refused with the same ``ValueError`` on SQLite and PostgreSQL; the CLI prints the warning."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core import StrategyConfig, simulate
from storage import NameShortened, RunFilter, Store
from storage.database import ENV_VAR, dispose_engine

LIMIT = 200
CONTROL = ["\x00", "\x07", "\t", "\n", "\r", "\x1b", "\x7f", "\x85", "\x9f"]


@pytest.fixture
def prices() -> pd.DataFrame:
    idx = pd.date_range("2020-01-01", periods=30, freq="B", name="timestamp")
    return pd.DataFrame({"close": 100 + 5 * np.sin(np.arange(30) / 3)}, index=idx)


@pytest.fixture
def dataset_id(store: Store, prices: pd.DataFrame) -> int:
    return store.save_dataset(prices, name="names", symbol="NM")


def shortened_message(what: str, name: str) -> str:
    return (
        f"the {what} name has {len(name)} characters, more than the {LIMIT} the store keeps; it was saved as its "
        f"first {LIMIT}: {name[:LIMIT]!r}"
    )


def long_name(n: int = 250) -> str:
    return "".join("abcdefghij"[i % 10] for i in range(n))


def test_a_long_run_name_is_shortened_with_a_warning(store: Store, dataset_id: int, prices: pd.DataFrame) -> None:
    name = long_name(250)
    with pytest.warns(NameShortened) as caught:
        run_id = store.save_run(dataset_id, simulate(prices, StrategyConfig()), name=name)
    assert [str(w.message) for w in caught] == [shortened_message("run", name)]
    assert caught[0].filename == __file__  # points at the caller of the store, not at the store
    assert store.get_run(run_id).name == name[:LIMIT]


def test_renaming_a_run_to_a_long_name_warns(store: Store, dataset_id: int, prices: pd.DataFrame) -> None:
    run_id = store.save_run(dataset_id, simulate(prices, StrategyConfig()), name="short")
    name = long_name(201)
    with pytest.warns(NameShortened) as caught:
        record = store.update_run(run_id, name=name)
    assert [str(w.message) for w in caught] == [shortened_message("run", name)]
    assert record.name == name[:LIMIT]


def test_a_long_study_name_is_shortened_with_a_warning(store: Store, dataset_id: int) -> None:
    name = long_name(300)
    with pytest.warns(NameShortened) as caught:
        study_id = store.create_study(dataset_id, search_space={}, method="grid", objective="sharpe", name=name)
    assert [str(w.message) for w in caught] == [shortened_message("study", name)]
    assert store.get_study(study_id).name == name[:LIMIT]


def test_a_long_dataset_name_is_shortened_with_a_warning(store: Store, prices: pd.DataFrame) -> None:
    name = long_name(222)
    with pytest.warns(NameShortened) as caught:
        dataset_id = store.save_dataset(prices, name=name, symbol="NM")
    assert [str(w.message) for w in caught] == [shortened_message("dataset", name)]
    assert store.get_dataset(dataset_id).name == name[:LIMIT]


def test_names_within_the_limit_give_no_warning(store: Store, dataset_id: int, prices: pd.DataFrame) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", NameShortened)
        run_id = store.save_run(dataset_id, simulate(prices, StrategyConfig()), name=" " + long_name(LIMIT) + " ")
        store.create_study(dataset_id, search_space={}, method="grid", objective="sharpe", name=long_name(LIMIT))
    assert store.get_run(run_id).name == long_name(LIMIT)  # surrounding spaces are stripped first, as before


def expected_error(label: str, char: str, position: int) -> str:
    if char == "\x00":
        return f"the {label} contains a NUL character (\\x00); remove it"
    return f"the {label} contains a control character ({char!r} at position {position}); remove it"


@pytest.mark.parametrize("char", CONTROL)
def test_control_characters_in_names_are_refused(store: Store, dataset_id: int, prices: pd.DataFrame,
                                                 char: str) -> None:
    bad = f"GOOG{char}run"
    result = simulate(prices, StrategyConfig())
    with pytest.raises(ValueError) as err:
        store.save_run(dataset_id, result, name=bad)
    assert str(err.value) == expected_error("run name", char, 4)
    run_id = store.save_run(dataset_id, result, name="fine")
    with pytest.raises(ValueError) as err:
        store.update_run(run_id, name=bad)
    assert str(err.value) == expected_error("run name", char, 4)
    with pytest.raises(ValueError) as err:
        store.create_study(dataset_id, search_space={}, method="grid", objective="sharpe", name=bad)
    assert str(err.value) == expected_error("study name", char, 4)
    with pytest.raises(ValueError) as err:
        store.save_dataset(prices, name=bad, symbol="NM")
    assert str(err.value) == expected_error("dataset name", char, 4)
    assert [r.name for r in store.list_runs()] == ["fine"]  # nothing half-saved
    assert store.list_studies() == []
    assert len(store.list_datasets()) == 1


@pytest.mark.parametrize("char", CONTROL)
def test_control_characters_in_filters_are_refused(store: Store, char: str) -> None:
    for field, label in (("name_contains", "name filter"), ("tag", "tag filter"),
                         ("engine_version", "engine version filter")):
        with pytest.raises(ValueError) as err:
            store.list_runs({field: f"ab{char}c"})
        assert str(err.value) == expected_error(label, char, 2)
        with pytest.raises(ValueError):
            store.count_runs(RunFilter(**{field: char}))


# --- the command line ----------------------------------------------------------------------------------------------


@pytest.fixture
def cli_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv(ENV_VAR, url)
    yield url
    dispose_engine(url)


def test_the_cli_prints_a_shortened_name_as_a_warning(capsys: pytest.CaptureFixture[str], cli_db: str) -> None:
    from cli.main import main

    name = long_name(250)
    assert main(["backtest", "--data", "GOOG", "--end", "2005-12-31", "--save", "--name", name]) == 0
    out, err = capsys.readouterr()
    assert err == f"warning: {shortened_message('run', name)}\n"
    assert "saved as run 1" in out
    assert Store(cli_db).get_run(1).name == name[:LIMIT]


def test_the_cli_refuses_a_control_character_in_a_name(capsys: pytest.CaptureFixture[str], cli_db: str) -> None:
    from cli.main import EXIT_USAGE, main

    assert main(["backtest", "--data", "GOOG", "--end", "2005-12-31", "--save", "--name", "a\x1bb"]) == EXIT_USAGE
    assert capsys.readouterr().err == (
        "error: the run name contains a control character ('\\x1b' at position 1); remove it\n"
    )


@pytest.mark.parametrize(("field", "limit"), [("symbol", 40), ("source", 20), ("interval", 10),
                                              ("price_basis", 20)])
def test_a_dataset_label_longer_than_its_column_is_refused_not_cut(store, field, limit):
    prices = pd.DataFrame({"close": [1.0, 2.0]}, index=pd.bdate_range("2024-01-02", periods=2))
    with pytest.raises(ValueError, match=f"at most {limit}"):
        store.save_dataset(prices, name="long label", **{field: "X" * (limit + 1)})
    assert store.list_datasets() == []
    assert store.save_dataset(prices, name="fits", **{field: "X" * limit}) > 0
