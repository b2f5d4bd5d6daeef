"""``python -m cli portfolio ...``: portfolios of position cells (docs/strategy.md §12) from the command line.

::

    python -m cli portfolio run --sample INTC --sample MMM --sample COST --rule reallocation=quarterly --save
    python -m cli portfolio run --dataset 3 --dataset 4 --weight 0.45 --weight 0.45 --rule cash_pool=true
    python -m cli portfolio run --spec portfolio.json --save --name "three cells"
    python -m cli portfolio list
    python -m cli portfolio show 2
    python -m cli portfolio rerun 2          # exit 0 only if metrics and trades are reproduced bit for bit
    python -m cli portfolio export 2 --format xlsx --out three-cells.xlsx
    python -m cli portfolio delete 2

``--sample`` stores the bundled history in the run store first (once: saving it again reuses it), so a three-stock
portfolio runs offline out of the box. ``--set`` changes every cell's configuration, ``--rule`` the portfolio's
rules (``core.portfolio.PORTFOLIO_FIELDS``). A ``--spec`` file holds ``{"rules": {...}, "cells": [{"name",
"dataset_id", "weight", "config"}]}``, the API's body.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, TextIO

import pandas as pd

from cli.main import EXIT_OK, CliError, parse_settings, record_id, render_metrics_table, write_bytes_atomic
from cli.runs import config_changes, open_store, render_table
from core.config import StrategyConfig
from core.metric_table import format_metric
from core.portfolio.rules import PORTFOLIO_FIELDS

EXIT_NOT_REPRODUCED = 1
RULE_KINDS: dict[str, str] = {f.name: f.kind for f in PORTFOLIO_FIELDS}
EXPORT_FORMATS: tuple[str, ...] = ("xlsx", "pdf", "csv", "json")


def register(subparsers: Any) -> None:
    """Add ``portfolio`` and its actions."""
    portfolio = subparsers.add_parser("portfolio", help="backtest, store and export portfolios of position cells")
    actions = portfolio.add_subparsers(dest="action", metavar="ACTION", required=True)

    run = actions.add_parser("run", help="backtest a portfolio and print its metrics (and --save it)")
    run.add_argument("--dataset", dest="datasets", type=record_id, action="append", default=[], metavar="ID",
                     help="a stored dataset as a cell; repeat for each cell")
    run.add_argument("--sample", dest="samples", action="append", default=[], metavar="NAME",
                     help="a bundled history (GOOG, MSFT, SP500, INTC, MMM, COST) as a cell; repeat for each cell")
    run.add_argument("--weight", dest="weights", type=float, action="append", default=None, metavar="W",
                     help="each cell's weight as a fraction, in the order of the cells (default: equal weights)")
    run.add_argument("--set", dest="settings", action="append", default=[], metavar="FIELD=VALUE",
                     help="a configuration field for every cell, e.g. trigger_up=0.04")
    run.add_argument("--rule", dest="rules", action="append", default=[], metavar="FIELD=VALUE",
                     help="a portfolio rule: " + ", ".join(RULE_KINDS))
    run.add_argument("--spec", type=Path, metavar="FILE", help="the whole portfolio as JSON (instead of the above)")
    run.add_argument("--save", action="store_true", help="store the portfolio and print its id")
    run.add_argument("--name", default="", help="the stored portfolio's name")
    run.add_argument("--notes", default="")
    run.set_defaults(handler=run_portfolio_command)

    lst = actions.add_parser("list", help="the stored portfolios, newest first")
    lst.add_argument("--sort", default="-created_at", help="id, created_at, name, total_return or sharpe ('-' desc)")
    lst.set_defaults(handler=list_portfolios)
    for action, help_text, handler in (
        ("show", "one stored portfolio: rules, cells and every metric", show_portfolio),
        ("rerun", "re-run from the database alone; exit 0 only if identical", rerun_portfolio),
        ("delete", "delete a stored portfolio and its trades (the datasets stay)", delete_portfolio),
    ):
        p = actions.add_parser(action, help=help_text)
        p.add_argument("portfolio_id", type=record_id, metavar="ID")
        p.set_defaults(handler=handler)
    export = actions.add_parser("export", help="a stored portfolio as a workbook, PDF, CSV of trades or JSON")
    export.add_argument("portfolio_id", type=record_id, metavar="ID")
    export.add_argument("--format", choices=EXPORT_FORMATS, default="xlsx")
    export.add_argument("--out", type=Path, metavar="FILE", help="where to write (default: the report's own name)")
    export.set_defaults(handler=export_portfolio)


def _spec(args: argparse.Namespace, store: Any) -> Any:
    from usecases.portfolios import PortfolioSpec, cells_from_datasets, sample_datasets

    if args.spec is not None:
        if args.datasets or args.samples or args.weights or args.settings or args.rules:
            raise CliError("--spec holds the whole portfolio; leave out --dataset, --sample, --weight, --set, --rule")
        try:
            data = json.loads(args.spec.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CliError(f"--spec {args.spec}: cannot read it as JSON ({exc})") from None
        return PortfolioSpec.from_dict(data)
    ids = list(args.datasets) + sample_datasets(store, args.samples)
    if not ids:
        raise CliError("give the cells: --sample NAME or --dataset ID, once per cell (or --spec FILE)")
    config = StrategyConfig(**parse_settings(args.settings))
    cells = cells_from_datasets(store, ids, config, args.weights)
    rules = parse_settings(args.rules, RULE_KINDS, "--rule")
    return PortfolioSpec.from_dict({"rules": rules, "cells": [c.to_dict() for c in cells]})


def run_portfolio_command(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    """``portfolio run``: backtest, print the cells, contributions and metrics; ``--save`` prints the new id."""
    from usecases.portfolios import run_portfolio, save_portfolio

    store = open_store()
    spec = _spec(args, store)
    result = run_portfolio(store, spec)
    print(_cells_table(result), file=stdout)
    print(file=stdout)
    table = pd.DataFrame({"strategy": result.metrics})
    print(render_metrics_table(table), file=stdout)
    if args.save:
        pid = save_portfolio(store, spec, result, name=args.name, notes=args.notes)
        print(f"\nsaved portfolio {pid}", file=stdout)
    return EXIT_OK


def _cells_table(result: Any) -> str:
    rows = [
        [row.cell, f"{row.weight * 100:.2f} %", f"{row.start_value:,.2f}", f"{row.end_value:,.2f}",
         f"{row.profit:,.2f}", format_metric("total_return", result.cells[row.cell].metrics["total_return"])]
        for row in result.contributions.itertuples()
    ]
    return render_table(["Cell", "Weight", "Start", "End", "Profit", "Time-weighted return"], rows,
                        [False, True, True, True, True, True])


def list_portfolios(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    """``portfolio list``: the stored portfolios with their headline metrics."""
    store = open_store()
    try:
        records = store.list_portfolios(sort=args.sort, limit=None)
    except ValueError as exc:
        raise CliError(f"--sort: {exc}") from None
    if not records:
        print("no stored portfolios; store one with 'python -m cli portfolio run ... --save'", file=stdout)
        return EXIT_OK
    rows = [
        [str(r.id), r.name or "(unnamed)", ", ".join(c.name for c in r.cells), f"{r.created_at:%Y-%m-%d %H:%M}",
         format_metric("total_return", r.metrics.get("total_return", float("nan"))),
         format_metric("sharpe", r.metrics.get("sharpe", float("nan")))]
        for r in records
    ]
    print(render_table(["ID", "Name", "Cells", "Created (UTC)", "Total return", "Sharpe"], rows,
                       [True, False, False, False, True, True]), file=stdout)
    return EXIT_OK


def show_portfolio(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    """``portfolio show ID``: rules, cells (dataset, weight, settings) and every stored metric."""
    store = open_store()
    record = store.get_portfolio(args.portfolio_id)
    rules = ", ".join(f"{k}={v}" for k, v in record.rules.items())
    lines = [f"portfolio {record.id}: {record.name or '(unnamed)'}",
             f"created:  {record.created_at:%Y-%m-%d %H:%M:%S} UTC with engine {record.engine_version}",
             f"rules:    {rules}"]
    for c in record.cells:
        lines.append(f"cell:     {c.name} (dataset #{c.dataset_id}, weight {c.weight * 100:.2f} %): "
                     f"{config_changes(c.config)}")
    print("\n".join(lines), file=stdout)
    print(file=stdout)
    print(render_metrics_table(pd.DataFrame({"strategy": dict(record.metrics)})), file=stdout)
    return EXIT_OK


def rerun_portfolio(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    """``portfolio rerun ID``: re-run from the database alone and compare; exit 0 only if identical."""
    from usecases.portfolios import verify_portfolio

    check = verify_portfolio(open_store(), args.portfolio_id)
    if check.identical:
        print(f"portfolio {check.portfolio_id} reproduced exactly: metrics and trades are bit for bit the stored "
              "ones", file=stdout)
        return EXIT_OK
    print(f"portfolio {check.portfolio_id} NOT reproduced exactly ({len(check.differences)} difference(s)):",
          file=stdout)
    for difference in check.differences:
        print(f"  {difference}", file=stdout)
    return EXIT_NOT_REPRODUCED


def delete_portfolio(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    """``portfolio delete ID``."""
    store = open_store()
    record = store.get_portfolio(args.portfolio_id)
    store.delete_portfolio(record.id)
    print(f"deleted portfolio {record.id} ({record.name or 'unnamed'})", file=stdout)
    return EXIT_OK


def export_portfolio(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    """``portfolio export ID``: write the report file (atomically: a failed export leaves no partial file)."""
    from usecases.portfolio_reports import portfolio_report

    report = portfolio_report(open_store(), args.portfolio_id, args.format)
    out = args.out or Path(report.filename)
    try:
        write_bytes_atomic(out, report.data)
    except OSError as exc:
        raise CliError(f"cannot write {out}: {exc.strerror or exc}") from None
    print(f"wrote {out} ({len(report.data):,} bytes)", file=stdout)
    return EXIT_OK
