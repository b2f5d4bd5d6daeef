"""``python -m cli runs ...``: the saved runs of the run store, from the command line.

::

    python -m cli backtest --data GOOG --save --name baseline --tag defaults   # prints the run id
    python -m cli runs list --sort -sharpe --tag defaults --limit 10
    python -m cli runs show 7
    python -m cli runs rerun 7        # exit 0 only if metrics and trades are reproduced bit for bit
    python -m cli runs delete 7

The database is ``$VBL_DATABASE_URL`` or the SQLite file ``var/vbl.sqlite3``; opening it upgrades an older schema.
Store problems (corrupt, read-only or full database, unknown run) are one ``error:`` line with exit code 2, like
every expected failure of the CLI. Everything goes through :class:`storage.Store`, never a database session.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TextIO

import pandas as pd

from cli.main import EXIT_OK, CliError, record_id, render_metrics_table
from core.config import StrategyConfig
from core.metric_table import format_metric
from usecases.runs import verify_run

if TYPE_CHECKING:
    from core.data import MarketData
    from core.engine import SimulationResult
    from usecases.store import DatasetInfo, RunRecord, Store

EXIT_NOT_REPRODUCED = 1  # `runs rerun`: the run ran, but its results differ from the stored ones (like diff(1))
DEFAULT_LIMIT = 20
# storage.RUN_SORT_KEYS, spelled out so that building the parser (every command, --help) does not load SQLAlchemy;
# the store itself validates the key.
SORT_KEYS_HELP: tuple[str, ...] = (
    "created_at",
    "id",
    "name",
    "total_return",
    "cagr",
    "sharpe",
    "max_drawdown",
    "n_trades",
)
NAME_WIDTH = 32
DATASET_WIDTH = 28
# Headline metrics of `runs list`: (metric, column title).
LIST_METRICS: tuple[tuple[str, str], ...] = (
    ("total_return", "Total return"),
    ("cagr", "CAGR"),
    ("sharpe", "Sharpe"),
    ("max_drawdown", "Max drawdown"),
    ("n_trades", "Trades"),
)


def open_store() -> Store:
    """The run store (``$VBL_DATABASE_URL`` or ``var/vbl.sqlite3``), its schema upgraded. Raises ``StoreError``."""
    # Imported here: storage builds on core, and commands that need no database should not load SQLAlchemy.
    from usecases.store import Store

    return Store()


def store_location(store: Store) -> str:
    """The store's database URL with any password masked, for messages."""
    from usecases.store import describe_url

    return describe_url(store.url)


def save_backtest(
    store: Store,
    data: MarketData,
    prices: pd.DataFrame,
    dividends: pd.DataFrame,
    result: SimulationResult,
    *,
    name: str,
    tags: Iterable[str] = (),
    notes: str = "",
) -> tuple[int, int]:
    """Store the simulated bars (only the selected period) as a dataset and the run; returns ``(run_id, dataset_id)``.

    Storing exactly the bars that were simulated is what lets ``runs rerun`` reproduce the run from the database
    alone. A period cut from a dataset is saved under its own name, so it does not masquerade as the whole history.
    """
    if len(prices) != len(data.prices) or len(dividends) != len(data.dividends):
        period = f"{prices.index[0]:%Y-%m-%d} to {prices.index[-1]:%Y-%m-%d}"
        data = dataclasses.replace(data, prices=prices, dividends=dividends, name=f"{data.name}, {period}")
    dataset_id = store.save_dataset(data)
    run_id = store.save_run(dataset_id, result, name=name, tags=tags, notes=notes)
    return run_id, dataset_id


# --- argument parsing ----------------------------------------------------------------------------------------------


def _limit(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 (all) or more, got {value}")
    return value


def _sort_value_parser(base: type[argparse.ArgumentParser]) -> type[argparse.ArgumentParser]:
    """A subclass of ``base`` that reads ``-sharpe`` (a descending sort key) as a value, not as an unknown option.

    argparse takes every word starting with ``-`` for an option, so ``--sort -sharpe`` would fail with "expected
    one argument" and only ``--sort=-sharpe`` would work.
    """

    class SortValueParser(base):  # type: ignore[misc, valid-type]
        def _parse_optional(self, arg_string: str) -> Any:
            # No option of these actions is a single dash plus a word, so such a word is a value (of --sort),
            # also when it is not a valid key: the store then names the valid ones.
            word = len(arg_string) > 2 and arg_string[0] == "-" and arg_string[1].isalpha() and "=" not in arg_string
            if word and arg_string not in self._option_string_actions:
                return None
            return super()._parse_optional(arg_string)

    return SortValueParser


def register(subparsers: Any) -> None:
    """Add the ``runs`` command with its ``list``, ``show``, ``rerun`` and ``delete`` actions."""
    runs = subparsers.add_parser(
        "runs",
        help="list, show, re-run and delete the runs saved with 'backtest --save'",
        description=(
            "The runs in the run store ($VBL_DATABASE_URL, default var/vbl.sqlite3). Save runs with "
            "'backtest --save'; opening the store upgrades an older database."
        ),
    )
    actions = runs.add_subparsers(
        dest="runs_action", metavar="ACTION", required=True, parser_class=_sort_value_parser(runs.__class__)
    )

    lst = actions.add_parser("list", help="the saved runs with their headline metrics, newest first")
    lst.add_argument(
        "--sort",
        default="-created_at",
        metavar="KEY",
        help=f"sort key, '-' in front for descending: {', '.join(SORT_KEYS_HELP)} (default -created_at)",
    )
    lst.add_argument("--tag", metavar="TAG", help="only runs with this tag")
    lst.add_argument("--dataset", metavar="ID", type=record_id, help="only runs on this dataset id")
    lst.add_argument("--name", metavar="TEXT", help="only runs whose name contains TEXT (any case)")
    lst.add_argument(
        "--limit", metavar="N", type=_limit, default=DEFAULT_LIMIT, help=f"at most N runs, 0 for all ({DEFAULT_LIMIT})"
    )
    lst.set_defaults(handler=list_runs)

    show = actions.add_parser("show", help="one run: dataset, settings, tags, notes and every stored metric")
    show.add_argument("run_id", metavar="ID", type=record_id)
    show.set_defaults(handler=show_run)

    rerun = actions.add_parser(
        "rerun",
        help="re-run a saved run from the database alone; exit 0 only if it reproduces exactly",
        description=(
            "Simulate the run again from the dataset and settings stored with it and compare the metrics and trades "
            f"with the stored ones. Exit 0 if identical, {EXIT_NOT_REPRODUCED} if they differ, 2 on a store error."
        ),
    )
    rerun.add_argument("run_id", metavar="ID", type=record_id)
    rerun.set_defaults(handler=rerun_run)

    delete = actions.add_parser("delete", help="delete a saved run and its trades (its dataset stays)")
    delete.add_argument("run_id", metavar="ID", type=record_id)
    delete.set_defaults(handler=delete_run)


# --- output ---------------------------------------------------------------------------------------------------------


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def render_table(headers: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[bool]) -> str:
    """Rows of text as aligned columns (numbers right-aligned), two spaces apart, without trailing blanks."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        parts = [c.rjust(w) if r else c.ljust(w) for c, w, r in zip(cells, widths, right, strict=True)]
        return "  ".join(parts).rstrip()

    return "\n".join([line(headers), *(line(r) for r in rows)])


def _metric(record: RunRecord, name: str) -> float:
    value = record.metrics.get(name)
    return math.nan if value is None else float(value)  # NaN is stored as null


def runs_table(records: Sequence[RunRecord], datasets: Mapping[int, DatasetInfo]) -> str:
    """The ``runs list`` table."""
    headers = ["ID", "Name", "Dataset", "Created (UTC)", "Tags", *(title for _, title in LIST_METRICS)]
    rows = []
    for r in records:
        info = datasets.get(r.dataset_id)
        dataset = f"#{r.dataset_id} {info.name}" if info is not None else f"#{r.dataset_id}"
        rows.append(
            [
                str(r.id),
                _clip(r.name, NAME_WIDTH),
                _clip(dataset, DATASET_WIDTH),
                f"{r.created_at:%Y-%m-%d %H:%M}",
                ", ".join(r.tags),
                *(format_metric(name, _metric(r, name)) for name, _ in LIST_METRICS),
            ]
        )
    right = [True, False, False, False, False, *(True for _ in LIST_METRICS)]
    return render_table(headers, rows, right)


def config_changes(config: StrategyConfig) -> str:
    """The settings that differ from the defaults, as ``--set`` would take them."""
    defaults = StrategyConfig().to_dict()
    changed = {k: v for k, v in config.to_dict().items() if defaults.get(k) != v}
    if not changed:
        return "defaults"
    return "defaults with " + ", ".join(f"{k}={'none' if v is None else v}" for k, v in changed.items())


# --- commands -------------------------------------------------------------------------------------------------------


def list_runs(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    """``runs list``: the matching runs as a table, or a note that there are none."""
    from usecases.store import RunFilter

    store = open_store()
    flt = RunFilter(dataset_id=args.dataset, tag=args.tag, name_contains=args.name)
    try:
        records = store.list_runs(flt, sort=args.sort, limit=args.limit or None)
    except ValueError as exc:  # an unknown sort key; the message lists the valid ones
        raise CliError(f"--sort: {exc}") from None
    if not records:
        filtered = any(v is not None for v in (args.dataset, args.tag, args.name))
        hint = "" if filtered else "; save one with 'python -m cli backtest --save'"
        print(f"no saved runs{' match' if filtered else ''} in {store_location(store)}{hint}", file=stdout)
        return EXIT_OK
    datasets = {info.id: info for info in store.list_datasets()}
    print(runs_table(records, datasets), file=stdout)
    total = store.count_runs(flt)
    if total > len(records):
        print(f"({len(records)} of {total} runs shown; --limit 0 lists all)", file=stdout)
    return EXIT_OK


def show_run(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    """``runs show ID``: where the run came from, how it was set up and every stored metric."""
    store = open_store()
    record = store.get_run(args.run_id)
    info = store.get_dataset(record.dataset_id)
    period = ""
    if info.first_timestamp is not None and info.last_timestamp is not None:
        period = f", {info.first_timestamp:%Y-%m-%d} to {info.last_timestamp:%Y-%m-%d}"
    lines = [
        f"run {record.id}: {record.name or '(unnamed)'}",
        f"dataset:  #{info.id} {info.name} ({info.symbol}, {info.interval}, {info.price_basis} prices{period}, "
        f"{info.n_rows:,} bars, {info.n_dividends} dividend(s))",
        f"created:  {record.created_at:%Y-%m-%d %H:%M:%S} UTC with engine {record.engine_version}",
        f"tags:     {', '.join(record.tags) or '-'}",
        f"settings: {config_changes(record.config)}",
    ]
    if record.notes:
        lines.append("notes:    " + record.notes.replace("\n", "\n          "))
    print("\n".join(lines), file=stdout)
    print(file=stdout)
    table = pd.DataFrame({"strategy": [_metric(record, name) for name in record.metrics]}, index=list(record.metrics))
    print(render_metrics_table(table), file=stdout)
    return EXIT_OK


def rerun_run(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    """``runs rerun ID``: re-simulate from the database alone and compare; exit 0 only if identical."""
    store = open_store()
    check = verify_run(store, args.run_id)
    if check.identical:
        print(
            f"run {check.run_id} reproduced exactly: metrics and trades are bit for bit the stored ones "
            f"(engine {check.current_engine_version})",
            file=stdout,
        )
        return EXIT_OK
    print(f"run {check.run_id} NOT reproduced exactly ({len(check.differences)} difference(s)):", file=stdout)
    for difference in check.differences:
        print(f"  {difference}", file=stdout)
    if check.stored_engine_version != check.current_engine_version:
        print(
            f"the run was saved with engine {check.stored_engine_version}; this is {check.current_engine_version}",
            file=stdout,
        )
    return EXIT_NOT_REPRODUCED


def delete_run(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    """``runs delete ID``: remove the run and its trades; the dataset stays for other runs."""
    store = open_store()
    record = store.get_run(args.run_id)  # NotFound (exit 2) before anything changes
    store.delete_run(record.id)
    print(f"deleted run {record.id} ({record.name or 'unnamed'})", file=stdout)
    return EXIT_OK
