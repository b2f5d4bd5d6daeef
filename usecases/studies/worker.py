"""``python -m usecases.studies.worker --study ID``: run one study of ``$VBL_DATABASE_URL`` to its end in this process.

Started by :func:`usecases.studies.control.start_worker` (the app) or by hand. The database comes from the
environment only: a URL on the command line (with its password) would be visible to every local user in ``ps``.
Exit code 0 when the study completed, paused or was cancelled, 1 when it failed (the study records the error).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the arguments and run the study."""
    parser = argparse.ArgumentParser(prog="python -m usecases.studies.worker")
    parser.add_argument("--study", type=int, required=True)
    parser.add_argument("--executor", choices=("local", "dask"), default="local")
    parser.add_argument("--scheduler", default=None, help="Dask scheduler address (tcp://host:8786)")
    parser.add_argument("--batch-size", type=int, default=None)
    args = parser.parse_args(argv)

    from core.optimize.executors import make_executor
    from storage import Store
    from usecases.settings import SettingsError, load_settings

    try:
        load_settings("worker")
    except SettingsError as exc:
        print(f"study {args.study}: {exc}", file=sys.stderr)
        return 2
    from usecases.studies.study import DEFAULT_BATCH, run_study

    store = Store(None, actor="optimize-worker")  # $VBL_DATABASE_URL, or the default SQLite file
    try:
        record = run_study(store, args.study, executor=make_executor(args.executor, args.scheduler),
                           batch_size=args.batch_size or DEFAULT_BATCH)
    except Exception as exc:
        print(f"study {args.study} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(f"study {args.study}: {record.status}, {record.n_trials} trials", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
