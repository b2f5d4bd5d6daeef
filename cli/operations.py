"""``python -m cli config show | doctor | store backup FILE | store restore FILE``: operating the product.

::

    python -m cli config show        # every VBL_* setting in effect, secrets masked
    python -m cli config fields      # every strategy configuration field: unit, default, valid values
    python -m cli config metrics     # every metric: unit, which way is better, definition
    python -m cli doctor             # database reachable, schema at head, study workers alive; exit 1 if not
    python -m cli store backup var/backup-2026-12-07.sqlite3     # SQLite online backup / pg_dump
    python -m cli store restore var/backup-2026-12-07.sqlite3 --yes
"""

from __future__ import annotations

import argparse
import textwrap
from typing import Any, TextIO

from cli.main import EXIT_OK, CliError

EXIT_UNHEALTHY = 1


def config_show(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    from usecases.settings import load_settings

    settings = load_settings("cli")  # a SettingsError is one error line, like every expected failure
    shown = settings.shown()
    width = max(len(k) for k in shown)
    for key, value in shown.items():
        print(f"{key:<{width}}  {value}", file=stdout)
    return EXIT_OK


def config_definitions(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    # The definitions page's own tables (core.report.definitions, built from the registries).
    from core.report.definitions import config_definitions, metric_definitions

    if args.config_action == "fields":
        table, columns, meaning = config_definitions(), ("Field", "Unit", "Default", "Valid values"), "Meaning"
    else:
        table, columns, meaning = metric_definitions(), ("Metric", "Unit", "Better", "Group"), "Definition"
    widths = [max(len(c), *(len(str(v)) for v in table[c])) for c in columns]
    print("  ".join(f"{c:<{w}}" for c, w in zip(columns, widths, strict=True)).rstrip(), file=stdout)
    for values in table.to_dict("records"):
        cells = (str(values[c]) for c in columns)
        print("  ".join(f"{v:<{w}}" for v, w in zip(cells, widths, strict=True)).rstrip(), file=stdout)
        print(textwrap.fill(str(values[meaning]), width=100, initial_indent="    ", subsequent_indent="    "),
              file=stdout)
    return EXIT_OK


def doctor(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    from usecases.operations import FAIL, WARN, Check, health_checks, healthy
    from usecases.settings import load_settings

    settings = load_settings("cli")

    checks = health_checks(settings.store_url)
    checks += [Check("profile", FAIL if settings.env == "prod" else WARN, p) for p in settings.problems("app")]
    for check in checks:
        print(f"{check.status.upper():<4}  {check.name:<10} {check.detail}", file=stdout)
    return EXIT_OK if healthy(checks) else EXIT_UNHEALTHY


def store_backup(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    from usecases.operations import BackupError, backup_store
    from usecases.settings import load_settings
    from usecases.store import describe_url

    url = load_settings("cli").store_url
    try:
        path = backup_store(url, args.file)
    except BackupError as exc:
        raise CliError(str(exc)) from None
    print(f"backed up {describe_url(url)} to {path} ({path.stat().st_size:,} bytes)", file=stdout)
    return EXIT_OK


def store_restore(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    from usecases.operations import BackupError, restore_store
    from usecases.settings import load_settings
    from usecases.store import describe_url

    url = load_settings("cli").store_url
    if not args.yes:
        raise CliError(f"restoring replaces everything in {describe_url(url)}; stop the app, API, scheduler and "
                       "workers, then repeat with --yes")
    try:
        restore_store(url, args.file)
    except BackupError as exc:
        raise CliError(str(exc)) from None
    print(f"restored {describe_url(url)} from {args.file}", file=stdout)
    return EXIT_OK


def register(subparsers: Any) -> None:
    """Add ``config``, ``doctor`` and ``store``."""
    config = subparsers.add_parser("config", help="the settings in effect; the strategy's fields and metrics")
    config_actions = config.add_subparsers(dest="config_action", metavar="ACTION", required=True)
    config_actions.add_parser("show", help="every VBL_* setting in effect, secrets masked").set_defaults(
        handler=config_show)
    config_actions.add_parser("fields", help="every strategy configuration field: unit, default, valid values"
                              ).set_defaults(handler=config_definitions)
    config_actions.add_parser("metrics", help="every metric: unit, which way is better, definition"
                              ).set_defaults(handler=config_definitions)
    subparsers.add_parser("doctor", help="health: database, schema, study workers; exit 1 when unhealthy"
                          ).set_defaults(handler=doctor)
    store = subparsers.add_parser("store", help="back up and restore the run store")
    actions = store.add_subparsers(dest="store_action", metavar="ACTION", required=True)
    backup = actions.add_parser("backup", help="a consistent copy (SQLite online backup, or pg_dump)")
    backup.add_argument("file")
    backup.set_defaults(handler=store_backup)
    restore = actions.add_parser("restore", help="replace the store's contents with a backup")
    restore.add_argument("file")
    restore.add_argument("--yes", action="store_true", help="confirm: everything in the store is replaced")
    restore.set_defaults(handler=store_restore)
