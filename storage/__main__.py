"""``python -m storage [upgrade|current|check|revision -m MESSAGE] [--url URL]``: manage the run store's schema.

* ``upgrade``  migrate the database to the newest schema (the app and CLI also do this on start).
* ``current``  print the database's schema revision and the newest one.
* ``check``    exit 1 if the schema differs from the models (or tables are missing).
* ``revision`` write a new migration script from the model changes (developers).

Errors are printed as one line saying what to do; the exit code is 2.
"""

from __future__ import annotations

import argparse
import sys

from storage.database import default_database_url, describe_url, get_engine
from storage.errors import StoreError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m storage", description="Manage the run store's database schema.")
    parser.add_argument("command", choices=["upgrade", "current", "check", "revision"])
    parser.add_argument("--url", default=None, help="database URL (default: $VBL_DATABASE_URL or var/vbl.sqlite3)")
    parser.add_argument("-m", "--message", default="schema change", help="message of a new revision")
    args = parser.parse_args(argv)
    url = args.url or default_database_url()
    from storage import migrate

    try:
        engine = get_engine(url)
        if args.command == "upgrade":
            changed = migrate.upgrade(engine)
            print(f"{describe_url(url)}: {'migrated to' if changed else 'already at'} {migrate.head_revision()}")
        elif args.command == "current":
            current, newest = migrate.current_revision(engine), migrate.head_revision()
            print(f"{describe_url(url)}: revision {current} (newest {newest})")
        elif args.command == "check":
            missing = migrate.missing_tables(engine)
            diffs = migrate.schema_differences(engine) if not missing else []
            if missing or diffs:
                print(f"{describe_url(url)}: schema differs from the models: missing {missing}, differences {diffs}")
                return 1
            print(f"{describe_url(url)}: schema matches the models")
        else:
            from alembic import command

            with engine.begin() as conn:
                command.revision(migrate.alembic_config(conn), message=args.message, autogenerate=True)
    except StoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
