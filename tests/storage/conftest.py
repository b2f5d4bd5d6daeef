"""Fixtures of the storage tests: a store on each backend, SQLite and a real PostgreSQL server (defined in
:mod:`postgres_server`; the server itself is suite-wide, ``tests/conftest.py``)."""

from postgres_server import db_url, store  # noqa: F401 - pytest finds them here
