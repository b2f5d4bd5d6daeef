"""``python -m cli report``: export a stored run or study to a file, for people and for cron jobs.

    python -m cli report --run 7 --format xlsx --out reports/run7.xlsx
    python -m cli report --run 7 --run 8 --format xlsx --out reports/both.xlsx      # several runs, one workbook
    python -m cli report --run 7 --format pdf --page-size letter --out run7.pdf
    python -m cli report --run 7 --format csv --table timeline --out run7_timeline.csv
    python -m cli report --run 7 --format json --out run7.json                      # re-importable bundle
    python -m cli report --run 7 --format png --chart drawdown --out dd.png
    python -m cli report --run 7 --run 8 --format png --chart all --out charts/    # a batch: one browser for all
    python -m cli report --study 3 --format xlsx --top-n 25 --heatmap trigger_up,trigger_down --out study3.xlsx

The database is ``--database`` (or ``--db``) or ``$VBL_DATABASE_URL`` (default ``var/vbl.sqlite3``). Files are
written atomically, so a scheduled job never leaves half a report; every export is recorded in the audit log.
"""

from __future__ import annotations

import argparse
import math
from datetime import date
from pathlib import Path
from typing import Any, TextIO

from cli.main import EXIT_OK, CliError, _iso_date, database_argument, write_bytes_atomic

RUN_FORMATS = ("xlsx", "pdf", "csv", "json", "png", "svg")
IMAGE_FORMATS = ("png", "svg")
TEMPLATE_ALIASES = {"full": "full_audit", "full_audit": "full_audit", "performance": "performance",
                    "trades": "trades_only", "trades_only": "trades_only"}  # fmt: skip


def _pixels(text: str) -> int:
    # An image size the renderer would silently replace by its default is refused instead. The limits are the
    # export path's own, imported here so that other commands do not load plotly.
    from core.report.images import MAX_PIXELS

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number of pixels, got {text!r}") from None
    if not 1 <= value <= MAX_PIXELS:
        raise argparse.ArgumentTypeError(f"must be between 1 and {MAX_PIXELS:,} pixels, got {value}")
    return value


def _scale(text: str) -> float:
    from core.report.images import MAX_SCALE

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
    if not (math.isfinite(value) and 0 < value <= MAX_SCALE):
        raise argparse.ArgumentTypeError(f"must be above 0 and at most {MAX_SCALE:g}, got {text}")
    return value


def register(subparsers: Any) -> None:
    """Add the ``report`` subcommand."""
    p = subparsers.add_parser(
        "report",
        help="export a stored run or study: xlsx, pdf, csv, json, png or svg",
        description="Export a stored run (or several runs, or a study) to one file. Suitable for cron jobs.",
    )
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--run", metavar="ID", type=int, action="append", help="run id (repeat for a multi-run xlsx)")
    what.add_argument("--study", metavar="ID", type=int, help="study id")
    p.add_argument("--format", required=True, choices=RUN_FORMATS, help="output format")
    p.add_argument("--out", required=True, metavar="FILE", type=Path, help="file to write (replaced atomically)")
    p.add_argument("--database", "--db", dest="database", metavar="URL", type=database_argument,
                   help="run store URL without a password (default $VBL_DATABASE_URL or var/vbl.sqlite3)")
    p.add_argument("--template", default="full", choices=sorted(TEMPLATE_ALIASES), help="xlsx template")
    p.add_argument("--rows", default="all", choices=("all", "trades"), help="Transaction Log rows (xlsx)")
    p.add_argument("--start", metavar="YYYY-MM-DD", type=_iso_date, help="first date of the rows shown")
    p.add_argument("--end", metavar="YYYY-MM-DD", type=_iso_date, help="last date of the rows shown")
    p.add_argument("--page-size", default="a4", choices=("a4", "letter"), help="PDF page size")
    p.add_argument("--table", default="trades", choices=("trades", "timeline", "transaction_log", "metrics"),
                   help="which table a run's CSV holds (a study's CSV is its trials)")  # fmt: skip
    p.add_argument("--headers", default="names", choices=("names", "labels"),
                   help="CSV column headers: engine names (stock_share_after), or labels with units for people "
                        "(Stock share after (fraction))")  # fmt: skip
    p.add_argument("--chart", default=None,
                   help="png/svg: equity, drawdown, stock_share, price_anchor, several as a comma list, or all "
                        "(several charts or runs write one file each into the --out directory); study: heatmap")
    p.add_argument("--width", type=_pixels, default=None, help="png/svg width in CSS pixels (1 to 20000)")
    p.add_argument("--height", type=_pixels, default=None, help="png/svg height in CSS pixels (1 to 20000)")
    p.add_argument("--scale", type=_scale, default=2.0, help="png pixel scale (above 0, at most 10; default 2)")
    p.add_argument("--top-n", type=int, default=20, help="study: rows of the Top N table")
    p.add_argument("--heatmap", metavar="X,Y", help="study: the two parameters of the heatmap")
    p.add_argument("--walk-forward", metavar="CSV", type=Path, help="study: walk-forward results to include")
    p.set_defaults(handler=run_report)


def _period(args: argparse.Namespace) -> tuple[date | None, date | None]:
    if args.start and args.end and args.start > args.end:
        raise CliError(f"--start {args.start} is after --end {args.end}")
    return args.start, args.end


def _run_output(store: Any, args: argparse.Namespace) -> bytes:
    from core.report.exports import run_export, runs_export
    from usecases.reports import run_report_from_store

    start, end = _period(args)
    template = TEMPLATE_ALIASES[args.template]
    if len(args.run) > 1 and args.format not in ("xlsx", *IMAGE_FORMATS):
        raise CliError("several --run ids go into one workbook (--format xlsx) or one image each (png, svg)")
    reports = [run_report_from_store(store, run_id, start=start, end=end) for run_id in args.run]
    if len(reports) > 1:
        return runs_export(reports, template=template, rows=args.rows).data
    export = run_export(
        reports[0], args.format, template=template, rows=args.rows, page_size=args.page_size, table=args.table,
        headers=args.headers, chart=args.chart or "equity", width=args.width, height=args.height, scale=args.scale,
    )  # fmt: skip
    return export.data


def _study_output(store: Any, args: argparse.Namespace) -> bytes:
    import pandas as pd

    from core.report.exports import study_export
    from usecases.reports import study_report_from_store

    if args.format == "json":
        raise CliError("--format json is for runs; export a study as xlsx, pdf, csv, png or svg")
    if args.chart not in (None, "heatmap"):
        raise CliError(f"a study has one chart, the heatmap; got --chart {args.chart}")
    walk_forward = None
    if args.walk_forward is not None:
        try:
            walk_forward = pd.read_csv(args.walk_forward)
        except (OSError, ValueError) as exc:
            raise CliError(f"cannot read --walk-forward {args.walk_forward}: {exc}") from None
    study = study_report_from_store(store, args.study, walk_forward=walk_forward)
    heatmap = None
    if args.heatmap:
        parts = [p.strip() for p in args.heatmap.split(",")]
        if len(parts) != 2 or not all(parts):
            raise CliError(f"--heatmap expects two parameter names as X,Y, got {args.heatmap!r}")
        heatmap = (parts[0], parts[1])
    export = study_export(
        study, args.format, page_size=args.page_size, top_n=args.top_n, heatmap=heatmap, headers=args.headers,
        width=args.width, height=args.height, scale=args.scale,
    )  # fmt: skip
    return export.data


def _charts(args: argparse.Namespace) -> list[str]:
    from core.figures import RUN_CHARTS

    if args.chart == "all":
        return list(RUN_CHARTS)
    return [c.strip() for c in (args.chart or "equity").split(",") if c.strip()]


def _is_image_batch(args: argparse.Namespace) -> bool:
    """Several runs or charts as images: one file each, all drawn by the one export process."""
    return (args.study is None and args.format in IMAGE_FORMATS
            and (len(args.run) > 1 or len(_charts(args)) > 1))  # fmt: skip


def _image_batch(store: Any, args: argparse.Namespace) -> list[tuple[int, Any]]:
    """(run id, export) of every chart of every run, in order; each run is loaded while the last charts render."""
    from core.report.exports import run_chart_exports
    from usecases.reports import run_report_from_store

    start, end = _period(args)
    charts = _charts(args)
    run_ids = list(dict.fromkeys(args.run))

    def each_chart() -> Any:
        for run_id in run_ids:
            report = run_report_from_store(store, run_id, start=start, end=end)
            for chart in charts:
                yield report, chart

    exports = run_chart_exports(each_chart(), args.format, width=args.width, height=args.height, scale=args.scale)
    return list(zip([run_id for run_id in run_ids for _ in charts], exports, strict=True))


def _start_image_export() -> None:
    """Launch the browser now, without waiting: it starts while the runs are read and their charts built."""
    from core.report.images import ImageExportError, start

    try:
        start(wait=False)
    except ImageExportError as exc:
        raise CliError(str(exc)) from None


def _write(path: Path, data: bytes) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_bytes_atomic(path, data)
    except OSError as exc:
        raise CliError(f"cannot write {path}: {exc.strerror or exc}") from None


def run_image_batch(args: argparse.Namespace, stdout: TextIO) -> int:
    """Every chart of every run asked for, into the ``--out`` directory (built in memory first: a bad chart name
    or a missing browser writes nothing)."""
    from core.report.images import ImageExportError
    from usecases.store import Store

    if args.out.exists() and not args.out.is_dir():
        raise CliError(f"--out {args.out} is a file; several images need a directory")
    from core.figures import RUN_CHARTS

    unknown = [c for c in _charts(args) if c not in RUN_CHARTS]
    if unknown:  # before the browser starts or a run is read
        raise CliError(f"--chart must be 'all' or a list of {', '.join(RUN_CHARTS)}; got {', '.join(unknown)}")
    _start_image_export()
    with Store(args.database, actor="cli") as store:
        try:
            exports = _image_batch(store, args)
        except (ValueError, ImageExportError) as exc:
            raise CliError(str(exc)) from None
        for run_id, export in exports:
            path = args.out / export.filename
            _write(path, export.data)
            store.record_audit("export", "run", run_id, {"format": args.format, "file": str(path)})
            print(f"wrote {path} ({len(export.data):,} bytes)", file=stdout)
    return EXIT_OK


def run_report(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    """The ``report`` command: build the export in memory, then write it atomically and audit it."""
    from usecases.store import Store

    if _is_image_batch(args):
        return run_image_batch(args, stdout)
    if args.out.exists() and args.out.is_dir():
        raise CliError(f"--out {args.out} is a directory; give a file name")
    if args.top_n < 1:
        raise CliError("--top-n must be at least 1")
    from core.report.images import ImageExportError

    if args.format in IMAGE_FORMATS:
        _start_image_export()
    with Store(args.database, actor="cli") as store:
        try:
            data = _study_output(store, args) if args.study is not None else _run_output(store, args)
        except (ValueError, ImageExportError) as exc:  # bad chart/table/heatmap names, a missing browser
            raise CliError(str(exc)) from None
        _write(args.out, data)
        entity, ids = ("study", [args.study]) if args.study is not None else ("run", args.run)
        for entity_id in ids:
            store.record_audit("export", entity, entity_id, {"format": args.format, "file": str(args.out)})
    print(f"wrote {args.out} ({len(data):,} bytes)", file=stdout)
    return EXIT_OK
