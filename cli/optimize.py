"""The ``optimize`` command: search strategy parameters, store the study, print the best trials.

::

    python -m cli optimize --data GOOG --param trigger_up=0.01:0.08:0.005 --param sizing=proportional,original \\
        --method grid --objective sharpe --constraint "max_drawdown>=-0.3"
    python -m cli optimize --data GOOG --param trigger_up=0.01:0.08:0.001 --param trigger_down=0.01:0.08:0.001 \\
        --method bayes --n-trials 200 --seed 7 --score "sharpe=1,calmar=0.5" --constraint "n_trades<=400"
    python -m cli optimize --resume 12          # finish a paused, failed or killed study
    python -m cli optimize ... --executor dask --scheduler tcp://10.0.0.5:8786

The study runs in this process (the command line is its own worker) and is stored in the run store
(``--database`` or ``$VBL_DATABASE_URL``; default ``var/vbl.sqlite3``), so the app can show it afterwards.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path
from typing import Any, TextIO

import pandas as pd

from cli.main import (
    PROG,
    CliError,
    _iso_date,
    add_timezone_argument,
    database_argument,
    load_market_data,
    parse_settings,
)
from core.config import StrategyConfig
from core.data import market_data_for_period

DEFAULT_TOP = 10
SHOWN_METRICS: tuple[str, ...] = ("total_return", "cagr", "sharpe", "max_drawdown", "n_trades")


def register(subparsers: Any) -> None:
    """Add the ``optimize`` subparser."""
    p = subparsers.add_parser(
        "optimize",
        help="search parameter ranges (grid, random or Bayesian) and print the best configurations",
        description=(
            "Run an optimisation study over ranges of strategy parameters, store every trial and print the top N. "
            "All rates are fractions: 0.03 means 3 %."
        ),
    )
    source = p.add_mutually_exclusive_group()
    source.add_argument("--data", metavar="NAME",
                        help="bundled dataset: GOOG, MSFT, SP500, INTC, MMM or COST (default GOOG)")
    source.add_argument("--csv", metavar="FILE", type=Path, help="price CSV")
    p.add_argument("--dividends", metavar="FILE", type=Path, help="dividends CSV")
    p.add_argument("--start", metavar="YYYY-MM-DD", type=_iso_date, help="first date (inclusive)")
    p.add_argument("--end", metavar="YYYY-MM-DD", type=_iso_date, help="last date (inclusive)")
    add_timezone_argument(p)
    p.add_argument("--set", dest="settings", metavar="FIELD=VALUE", action="append", default=[],
                   help="change a setting of the base configuration, repeatable")
    p.add_argument("--param", dest="params", metavar="FIELD=RANGE", action="append", default=[],
                   help="a parameter to search, repeatable: min:max:step (trigger_up=0.01:0.08:0.005), a list "
                        "(sizing=proportional,original) or bool (auto_rebalance=bool)")
    p.add_argument("--method", choices=("grid", "random", "bayes"), default="grid", help="search method (grid)")
    p.add_argument("--n-trials", type=int, metavar="N", help="trials for random and bayes")
    p.add_argument("--seed", type=int, default=0, help="seed for random and bayes (0)")
    p.add_argument("--objective", metavar="METRIC", default="sharpe",
                   help="metric to optimise in its natural direction (sharpe)")
    p.add_argument("--score", metavar="M=W,...",
                   help="weighted score instead of --objective, e.g. sharpe=1,calmar=0.5")
    p.add_argument("--penalty", type=float, default=1.0, help="score penalty per violated constraint (1)")
    p.add_argument("--constraint", dest="constraints", metavar="METRIC>=VALUE", action="append", default=[],
                   help='hard constraint, repeatable, e.g. "max_drawdown>=-0.3"')
    p.add_argument("--top", type=int, default=DEFAULT_TOP, metavar="N", help=f"rows to print ({DEFAULT_TOP})")
    p.add_argument("--max-grid", type=int, metavar="N", help="refuse larger grids (default 500,000)")
    p.add_argument("--executor", choices=("local", "dask"), default="local", help="where trials run (local)")
    p.add_argument("--scheduler", metavar="ADDR", help="Dask scheduler address, e.g. tcp://10.0.0.5:8786")
    p.add_argument("--database", metavar="URL", type=database_argument,
                   help="run store URL without a password (default $VBL_DATABASE_URL or var/vbl.sqlite3)")
    p.add_argument("--name", default="", help="study name")
    p.add_argument("--resume", type=int, metavar="STUDY_ID", help="resume a stored study instead of starting one")
    p.set_defaults(handler=run_optimize)


def _parse_params(items: list[str], base: StrategyConfig) -> Any:
    from core.optimize import SearchSpace

    specs: dict[str, str] = {}
    for item in items:
        name, sep, spec = item.partition("=")
        if not sep or not name.strip():
            raise CliError(f"--param expects FIELD=RANGE (e.g. trigger_up=0.01:0.08:0.005), got {item!r}")
        key = name.strip().lower().replace("-", "_")
        if key in specs:
            raise CliError(f"--param {key} is given twice")
        specs[key] = spec
    if not specs:
        raise CliError("nothing to search: give at least one --param FIELD=RANGE (e.g. trigger_up=0.01:0.08:0.005)")
    return SearchSpace.parse(specs, base)


def _objective(args: argparse.Namespace) -> Any:
    from core.optimize import Objective
    from core.optimize.objective import parse_weights

    weights = parse_weights(args.score) if args.score else {}
    return Objective(args.objective, weights=weights, constraints=tuple(args.constraints), penalty=args.penalty)


def _progress_printer(stderr: TextIO, every_s: float = 2.0) -> Any:
    last = [time.monotonic()]

    def show(p: Any) -> None:
        # At most one line every couple of seconds: a big grid reports hundreds of batches.
        now = time.monotonic()
        if now - last[0] < every_s and p.done < p.total:
            return
        last[0] = now
        rate = f", {p.rate:,.0f} trials/s" if p.rate else ""
        eta = f", ETA {p.eta_s:,.0f} s" if p.eta_s else ""
        print(f"  {p.done:,}/{p.total:,} trials ({p.fraction:.0%}){rate}{eta}", file=stderr)

    return show


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return "n/a" if not math.isfinite(value) else f"{value:g}"
    return str(value)


def render_top(top: pd.DataFrame, objective: Any, names: tuple[str, ...]) -> str:
    """The ranked trials as an aligned plain-text table."""
    from core.metric_table import format_metric

    metrics = list(dict.fromkeys(
        [*([objective.metric] if objective.metric else list(objective.weights)),
         *(c.metric for c in objective.constraints), *SHOWN_METRICS]
    ))
    header = ["rank", "trial", *names, *metrics] + (["score"] if objective.weights else [])
    rows = []
    for r, (_, t) in enumerate(top.iterrows(), start=1):
        row = [str(r), str(int(t["index"]))]
        row += [_cell(t.get(f"param.{n}")) for n in names]
        row += [format_metric(m, t.get(m)) for m in metrics]
        if objective.weights:
            row.append(f"{t['score']:.4f}")
        rows.append(row)
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(header)]
    lines = ["  ".join(h.rjust(w) for h, w in zip(header, widths, strict=True))]
    lines += ["  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join(lines)


def run_optimize(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    """The ``optimize`` command."""
    from core.optimize import make_executor
    from core.optimize.methods import DEFAULT_MAX_GRID, planned_trials
    from usecases.store import Store
    from usecases.studies import create_study, load_study, run_study, top_trials

    if args.executor == "dask" and not args.scheduler:
        raise CliError("--executor dask needs --scheduler ADDR (e.g. tcp://10.0.0.5:8786)")
    if args.top < 1:
        raise CliError(f"--top must be at least 1, got {args.top}")
    try:  # connect before anything is stored: an unreachable scheduler must not leave a draft study behind
        executor = make_executor(args.executor, args.scheduler)
    except (ConnectionError, ValueError) as exc:
        raise CliError(str(exc)) from None
    store = Store(args.database, actor="cli")
    if args.resume is not None:
        record, space, objective = load_study(store, args.resume)
        study_id = args.resume
        if record.status in ("completed", "cancelled"):
            print(f"study {study_id} is already {record.status}", file=stderr)
    else:
        base = StrategyConfig().replace(**parse_settings(args.settings))
        space = _parse_params(args.params, base)
        objective = _objective(args)
        max_grid = args.max_grid or DEFAULT_MAX_GRID
        planned_trials(space, args.method, args.n_trials, max_grid)  # refuse a bad plan before loading any data
        data = load_market_data(args.data, args.csv, args.dividends, args.timezone)
        dataset_id = store.save_dataset(market_data_for_period(data, args.start, args.end))
        try:
            study_id = create_study(store, dataset_id, space, objective, method=args.method,
                                    n_trials=args.n_trials, seed=args.seed, name=args.name, max_grid=max_grid)
        except ValueError as exc:  # a name the store refuses (a control character)
            raise CliError(str(exc)) from None
        record = store.get_study(study_id)
        print(f"study {study_id}: {args.method} search of {space.size:,} combinations "
              f"({', '.join(f'{r.name}×{len(r)}' for r in space.ranges)}), {record.n_planned:,} trials; "
              f"objective {objective.label}"
              + (f"; constraints {', '.join(str(c) for c in objective.constraints)}" if objective.constraints else ""),
              file=stdout)
        stdout.flush()
    try:
        record = run_study(store, study_id, executor=executor, on_progress=_progress_printer(stderr))
    except KeyboardInterrupt:
        raise CliError(f"interrupted: study {study_id} is paused; finish it with '{PROG} optimize --resume "
                       f"{study_id}'") from None
    counts = dict(record.counts)
    print(f"study {study_id} {record.status}: {counts.get('completed', 0):,} trials run, "
          f"{counts.get('pruned', 0):,} invalid combinations skipped"
          + (f", {counts['failed']:,} failed" if counts.get("failed") else ""), file=stdout)
    top = top_trials(store, study_id, args.top)
    if top.empty:
        print("no trial satisfies the constraints" if objective.constraints else "no completed trial", file=stdout)
    else:
        print(f"top {len(top)} by {objective.label}:", file=stdout)
        print(render_top(top, objective, space.names), file=stdout)
    return 0 if record.status in ("completed", "paused", "cancelled") else 1


if __name__ == "__main__":  # pragma: no cover
    from cli.main import main

    sys.exit(main(["optimize", *sys.argv[1:]]))
