"""The command line: ``python -m cli <command> ...``.

Commands are argparse subparsers so that later ones (``optimize``, ``report``) slot in next to ``backtest``::

    python -m cli backtest --data GOOG
    python -m cli backtest --csv prices.csv --dividends divs.csv --start 2010-01-01 --end 2012-12-31 \\
        --set trigger_up=0.04 --set sizing=original --out runs/goog

Every expected failure (a bad argument, an unknown or invalid ``--set``, unreadable data) is ONE line on stderr,
``error: <what went wrong>``, and exit code 2; no traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import difflib
import importlib
import json
import math
import os
import sys
import tempfile
import urllib.parse
import warnings
from collections.abc import Iterator, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

import pandas as pd

from core.config import FIELD_KINDS, StrategyConfig
from core.config_registry import RENAMED_FIELDS
from core.data.period import select_period
from core.engine import ENGINE_VERSION, SimulationResult, simulate
from core.errors import ConfigError, DataError
from core.metric_table import COLUMN_TITLES, GROUP_ORDER, format_metric, metric_info, metrics_table

if TYPE_CHECKING:
    from core.data import MarketData

EXIT_OK = 0
EXIT_UNEXPECTED = 1
EXIT_USAGE = 2  # argparse's own code for bad arguments; used for every expected failure
PROG = "python -m cli"
DEFAULT_SAMPLE = "GOOG"
OUTPUT_FILES: tuple[str, ...] = ("trades.csv", "timeline.csv", "metrics.csv", "metrics.json")


# Further commands live in their own modules; each exposes ``register(subparsers)``, which adds its subparser and
# sets ``handler=fn(args, stdout, stderr) -> int``. Add a module here to add a command.
COMMAND_MODULES: tuple[str, ...] = ("cli.runs", "cli.optimize", "cli.report", "cli.delivery", "cli.alerts",
                                     "cli.operations", "cli.portfolio")


class CliError(Exception):
    """An expected failure of a command, reported as one ``error:`` line with exit code 2."""


def database_argument(value: str) -> str:
    """``--database URL`` (an argparse ``type``): refused when it carries a password.

    Everything on a command line is readable by every local user (``ps``, ``/proc/*/cmdline``) for as long as the
    command runs; a URL with a password belongs in ``VBL_DATABASE_URL``.
    """
    try:
        password = urllib.parse.urlsplit(value).password
    except ValueError:
        password = None
    if password:
        raise argparse.ArgumentTypeError(
            "this URL contains a password, which any local user could read on the command line; put the URL in "
            "the VBL_DATABASE_URL environment variable instead and leave --database out"
        )
    return value


def record_id(text: str) -> int:
    """An argparse ``type`` for the id of a stored record (run, dataset, study, position, portfolio): a whole
    number from 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an id (a whole number from 1), got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"ids start at 1, got {value}")
    return value


def render_metrics_table(table: pd.DataFrame) -> str:
    """The metrics table as aligned plain text, grouped by topic; empty benchmark cells stay blank."""
    label_width = max(len(metric_info(n).label) for n in table.index) + 2
    cells = {
        name: [format_metric(name, v) if (c == "strategy" or math.isfinite(v)) else "" for c, v in row.items()]
        for name, row in table.iterrows()
    }
    widths = [
        max(len(COLUMN_TITLES.get(c, c)), *(len(cells[n][i]) for n in table.index)) + 3
        for i, c in enumerate(table.columns)
    ]
    titles = "".join(COLUMN_TITLES.get(c, c).rjust(w) for c, w in zip(table.columns, widths, strict=True))
    lines = [" " * (label_width + 2) + titles]
    groups: dict[str, list[str]] = {group: [] for group in GROUP_ORDER}
    for name in table.index:
        groups.setdefault(metric_info(name).group, []).append(name)
    for group, names in groups.items():
        if names:
            lines.append(group)
        for name in names:
            row = "".join(text.rjust(w) for text, w in zip(cells[name], widths, strict=True))
            lines.append(f"  {metric_info(name).label.ljust(label_width)}{row}".rstrip())
    return "\n".join(lines)


# --- argument parsing ----------------------------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors become one ``error:`` line instead of usage text plus a message."""

    def error(self, message: str) -> NoReturn:
        raise CliError(f"{message} (see '{self.prog} --help')")


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, got {text!r}") from None


def add_timezone_argument(parser: argparse.ArgumentParser) -> None:
    """``--timezone ZONE`` for commands that load a CSV (docs/strategy.md §9)."""
    parser.add_argument(
        "--timezone",
        metavar="ZONE",
        help=(
            "with --csv: the exchange time zone, an IANA name such as America/New_York (the default), Europe/London "
            "or UTC; naive timestamps are read as its wall time, aware ones (Z, +hh:mm) are converted to it, and its "
            "calendar days and 09:30-16:00 session are the strategy's"
        ),
    )


def build_parser() -> argparse.ArgumentParser:
    """The ``python -m cli`` parser with one subparser per command."""
    parser = _Parser(prog=PROG, description="Volatility Balancing Lab: backtest the strategy from the command line.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    bt = commands.add_parser(
        "backtest",
        help="run one backtest and print its metrics next to buy-and-hold and the static mix",
        description=(
            "Run one backtest with the default settings (changed with --set) and print the metrics of the strategy, "
            "buy-and-hold and the static mix. All rates are fractions: 0.03 means 3 %."
        ),
    )
    source = bt.add_mutually_exclusive_group()
    source.add_argument(
        "--data", metavar="NAME",
        help=f"bundled dataset: GOOG, MSFT, SP500, INTC, MMM or COST (default {DEFAULT_SAMPLE})"
    )
    source.add_argument("--csv", metavar="FILE", type=Path, help="price CSV (Yahoo, Stooq, broker exports, ...)")
    bt.add_argument("--dividends", metavar="FILE", type=Path, help="dividends CSV (ex-date, amount, optional pay date)")
    bt.add_argument("--start", metavar="YYYY-MM-DD", type=_iso_date, help="first date to simulate (inclusive)")
    bt.add_argument("--end", metavar="YYYY-MM-DD", type=_iso_date, help="last date to simulate (inclusive)")
    add_timezone_argument(bt)
    bt.add_argument(
        "--set",
        dest="settings",
        metavar="FIELD=VALUE",
        action="append",
        default=[],
        help=(
            "change one setting, repeatable (e.g. trigger_up=0.04, sizing=original, auto_rebalance=false, "
            "max_trade_share=none); fractions, not percents"
        ),
    )
    bt.add_argument("--out", metavar="DIR", type=Path, help="write trades.csv, timeline.csv, metrics.csv/.json here")
    bt.add_argument(
        "--save",
        action="store_true",
        help="store the dataset and the run in the run store ($VBL_DATABASE_URL or var/vbl.sqlite3); prints the run id",
    )
    bt.add_argument("--name", metavar="NAME", help="name of the saved run (with --save; default: symbol and settings)")
    bt.add_argument(
        "--tag", dest="tags", metavar="TAG", action="append", default=[], help="tag the saved run, repeatable (--save)"
    )
    bt.add_argument("--notes", metavar="TEXT", default="", help="notes on the saved run (with --save)")
    bt.set_defaults(handler=run_backtest)
    for module in COMMAND_MODULES:
        importlib.import_module(module).register(commands)
    return parser


# --- --set values ---------------------------------------------------------------------------------------------------

_TRUE = frozenset({"true", "yes", "on", "1"})
_FALSE = frozenset({"false", "no", "off", "0"})
_NONE = frozenset({"none", "null", ""})


def _percent_hint(name: str, text: str) -> str:
    number = text.replace("%", "").strip()
    try:
        fraction = float(number) / 100
    except ValueError:
        return f"{name}={text}: a percent sign is not accepted; values are fractions (0.04 means 4 %)"
    return (
        f"{name}={text}: a percent sign is not accepted; values are fractions: use {name}={fraction:g} for {number} %"
    )


def parse_value(name: str, text: str, kinds: Mapping[str, str] = FIELD_KINDS) -> Any:
    """Parse one ``--set`` value by the field's kind (``core.config.FIELD_KINDS``).

    float and int fields take plain numbers (``1e-4`` and ``10_000`` work; a percent sign is refused with the
    fraction to use instead), bool fields ``true``/``false`` (also yes/no, on/off, 1/0), optional floats ``none``
    for no value, str fields the text as given. Range checks are left to :class:`StrategyConfig`.

    Raises:
        CliError: when the text is not a value of the field's kind.
    """
    kind = kinds[name]
    raw = text.strip()
    if "%" in raw:
        raise CliError(_percent_hint(name, raw))
    if kind == "choice":
        return raw
    if kind == "bool":
        if raw.lower() in _TRUE:
            return True
        if raw.lower() in _FALSE:
            return False
        raise CliError(f"{name} must be true or false, got {raw!r}")
    if kind == "optfloat" and raw.lower() in _NONE:
        return None
    try:
        number = float(raw)
    except ValueError:
        extra = " or none" if kind == "optfloat" else ""
        raise CliError(f"{name} must be a number{extra}, got {raw!r}") from None
    if kind == "int":
        if not number.is_integer():
            raise CliError(f"{name} must be a whole number, got {raw!r}")
        return int(number)
    return number


def parse_settings(
    items: Sequence[str], kinds: Mapping[str, str] = FIELD_KINDS, option: str = "--set"
) -> dict[str, Any]:
    """Turn ``["trigger_up=0.04", ...]`` into ``{"trigger_up": 0.04, ...}``; a later value for a field wins.

    ``kinds`` maps the accepted fields to their kinds (the configuration's by default; the portfolio rules' for
    ``--rule``); ``option`` names the flag in messages.

    Raises:
        CliError: for a missing ``=``, an unknown field (with close matches suggested) or a malformed value.
    """
    changes: dict[str, Any] = {}
    for item in items:
        name, sep, text = item.partition("=")
        name = name.strip().lower().replace("-", "_")
        name = RENAMED_FIELDS.get(name, name) if kinds is FIELD_KINDS else name
        if not sep or not name:
            raise CliError(f"{option} expects FIELD=VALUE, got {item!r}")
        if name not in kinds:
            close = difflib.get_close_matches(name, kinds, n=3, cutoff=0.6)
            hint = f"did you mean {' or '.join(close)}?" if close else f"fields: {', '.join(kinds)}"
            raise CliError(f"unknown setting {name!r}; {hint}")
        changes[name] = parse_value(name, text, kinds)
    return changes


# --- data -----------------------------------------------------------------------------------------------------------


def load_market_data(
    sample: str | None, csv: Path | None, dividends: Path | None, timezone: str | None = None
) -> MarketData:
    """Load the bundled sample or the CSV (in ``timezone``, default New York), with the dividends file when given.
    Raises ``DataError``; ``CliError`` for a time zone without a CSV (a bundled sample has its own)."""
    # Imported here so that `--help` and argument errors answer without loading the data stack.
    from core.data import load_csv, load_dividends_csv, load_sample

    if csv is not None:
        return load_csv(csv, dividends=dividends, **({"timezone": timezone} if timezone else {}))
    if timezone:
        raise CliError("--timezone applies to --csv files; a bundled dataset has its own time zone")
    data = load_sample(sample or DEFAULT_SAMPLE)
    if dividends is not None:
        data = dataclasses.replace(data, dividends=load_dividends_csv(dividends))
    return data


# --- output files ---------------------------------------------------------------------------------------------------


def _umask() -> int:
    # os.umask can only be read by setting it; the CLI is single-threaded when it writes files.
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8, line endings as given) to ``path`` atomically: see :func:`write_bytes_atomic`."""
    write_bytes_atomic(path, text.encode("utf-8"))


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same directory and a rename, so a reader never sees a
    half-written file and an interrupted run leaves the previous file intact."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp creates 0600; give the result ordinary file permissions
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None  # JSON has no NaN; null reads back as "undefined"
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, pd.Timestamp | date):
        return value.isoformat()
    return value


def write_outputs(
    out_dir: Path, result: SimulationResult, table: pd.DataFrame, run_info: Mapping[str, Any]
) -> list[Path]:
    """Write trades.csv, timeline.csv, metrics.csv and metrics.json into ``out_dir`` (created if missing).

    CSV floats are written with full precision, so ``metrics.csv`` reads back equal to ``result.metrics``;
    ``metrics.json`` also records the run (dataset, period, configuration, engine version) with NaN as null.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    payload = {
        "run": dict(run_info),
        "metrics": {column: table[column].dropna().to_dict() for column in table.columns},
    }
    contents = {
        "trades.csv": result.trades.to_csv(index=False),
        "timeline.csv": result.timeline.to_csv(),
        "metrics.csv": table.to_csv(),
        "metrics.json": json.dumps(_json_safe(payload), indent=2, allow_nan=False) + "\n",
    }
    written = []
    for name in OUTPUT_FILES:
        path = out_dir / name
        write_atomic(path, contents[name])
        written.append(path)
    return written


# --- commands -------------------------------------------------------------------------------------------------------


def _settings_text(changes: Mapping[str, Any]) -> str:
    if not changes:
        return "defaults"
    return "defaults with " + ", ".join(f"{k}={'none' if v is None else v}" for k, v in changes.items())


def run_backtest(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    """The ``backtest`` command: load, simulate, print the table, optionally write the files."""
    changes = parse_settings(args.settings)
    config = StrategyConfig().replace(**changes)
    if args.out is not None and args.out.exists() and not args.out.is_dir():
        # Checked before the run so a typo costs nothing and prints no table; the directory is created at the end.
        raise CliError(f"--out {args.out} is a file, not a directory")
    if not args.save and (args.name is not None or args.tags or args.notes):
        raise CliError("--name, --tag and --notes describe a saved run; add --save")
    store = None
    if args.save:
        from cli.runs import open_store

        store = open_store()  # before the run: a broken database is reported at once, and an old one upgraded
    data = load_market_data(args.data, args.csv, args.dividends, args.timezone)
    if args.dividends is not None and data.price_basis == "dividend_adjusted":
        print(
            f"warning: {data.symbol} prices are dividend-adjusted; the dividends in {args.dividends} are counted "
            "a second time",
            file=stderr,
        )
    prices, dividends = select_period(data.prices, data.dividends, args.start, args.end)
    result = simulate(prices, config, dividends if len(dividends) else None)
    table = metrics_table(result, data.timezone)

    first, last = prices.index[0], prices.index[-1]
    print(f"{data.name}", file=stdout)
    print(
        f"{first:%Y-%m-%d} to {last:%Y-%m-%d}, {len(prices):,} bars ({data.interval}, {data.price_basis} prices), "
        f"{len(result.dividends)} dividend(s); settings: {_settings_text(changes)}",
        file=stdout,
    )
    print(file=stdout)
    print(render_metrics_table(table), file=stdout)

    if args.out is not None:
        run_info = {
            "engine_version": ENGINE_VERSION,
            "dataset": {
                "symbol": data.symbol,
                "name": data.name,
                "source": data.source,
                "interval": data.interval,
                "price_basis": data.price_basis,
                "sha256": data.sha256(),
            },
            "period": {"start": first, "end": last, "bars": len(prices)},
            "config": config.to_dict(),
        }
        try:
            written = write_outputs(args.out, result, table, run_info)
        except OSError as exc:
            raise CliError(f"cannot write to {args.out}: {exc.strerror or exc}") from None
        print(file=stdout)
        print(f"wrote {', '.join(p.name for p in written)} to {args.out}", file=stdout)
    if store is not None:
        from cli.runs import save_backtest, store_location

        name = args.name if args.name is not None else f"{data.symbol}: {_settings_text(changes)}"
        try:
            run_id, dataset_id = save_backtest(
                store, data, prices, dividends, result, name=name, tags=args.tags, notes=args.notes
            )
        except ValueError as exc:  # a name the store refuses (a control character)
            raise CliError(str(exc)) from None
        print(file=stdout)
        print(f"saved as run {run_id} (dataset {dataset_id}) in {store_location(store)}", file=stdout)
    return EXIT_OK


def main(argv: Sequence[str] | None = None, *, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``) and return the exit code.

    0 on success; 2 for bad arguments, settings or data (one ``error:`` line on stderr); 1 for an unexpected
    failure (also one line: the CLI never prints a traceback).
    """
    out = stdout if stdout is not None else sys.stdout
    err = stderr if stderr is not None else sys.stderr
    try:
        if os.path.isfile(os.environ.get("VBL_ENV_FILE") or ".env"):  # only then: pydantic-settings costs start-up
            from usecases.settings import load_settings

            load_settings("cli")
        try:
            args = build_parser().parse_args(argv)
        except SystemExit as exc:  # --help and --version exit through argparse
            return int(exc.code or 0) if not isinstance(exc.code, str) else EXIT_USAGE
        with store_warnings_to(err):
            return args.handler(args, out, err)
    except _expected_errors() as exc:
        print(f"error: {_one_line(exc)}", file=err)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("error: interrupted", file=err)
        return 130
    except BrokenPipeError:
        # The reader (e.g. `| head`) went away; nothing left to say, and nowhere to say it.
        with contextlib.suppress(OSError):
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - keeps the interpreter's final flush quiet
        return EXIT_UNEXPECTED
    except Exception as exc:  # the promise is "never a traceback"; say what broke in one line instead
        print(f"error: unexpected {type(exc).__name__}: {_one_line(exc)} (please report this)", file=err)
        return EXIT_UNEXPECTED


@contextlib.contextmanager
def store_warnings_to(stderr: TextIO) -> Iterator[None]:
    """Print the store's warnings (a name shortened on save: ``NameShortened``) as ``warning: ...`` lines on
    ``stderr``; other warnings are shown as Python shows them."""
    shown = warnings.showwarning

    def show(message: Warning | str, category: type[Warning], filename: str, lineno: int, file: Any = None,
             line: str | None = None) -> None:
        # Looked up, not imported: the store (SQLAlchemy) loads only for commands that use it, and it is loaded
        # whenever it is the one warning.
        store = sys.modules.get("usecases.store")
        if store is not None and issubclass(category, store.NameShortened):
            print(f"warning: {_one_line(message)}", file=stderr)
        else:
            shown(message, category, filename, lineno, file, line)

    with warnings.catch_warnings():
        warnings.showwarning = show
        yield


def _expected_errors() -> tuple[type[BaseException], ...]:
    """Failures the user can fix: bad arguments, settings or data, and store problems (messages say what to do)."""
    from usecases.settings import SettingsError
    from usecases.store import StoreError  # the store (SQLAlchemy) loads only when a command needs it or fails

    return (CliError, ConfigError, DataError, StoreError, SettingsError)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__
