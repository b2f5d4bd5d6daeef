"""Errors raised by the run store.

Every error is a :class:`StoreError`; its message says what went wrong *and what to do*, in one or two sentences a
person can act on, so the app and the CLI show ``str(error)`` and never a traceback. The database URL is named with
any password masked.
"""

from __future__ import annotations


class StoreError(RuntimeError):
    """Base class of every run-store error. ``str(error)`` is a complete, actionable message."""


class StoreUnavailable(StoreError):
    """The database cannot be reached (server down, wrong URL, file cannot be opened)."""


class StoreBusy(StoreError):
    """The database stayed locked by other writers for longer than the retry budget."""


class StoreReadOnly(StoreError):
    """The database (file, folder, server or transaction) refuses writes."""


class StoreFull(StoreError):
    """The disk (or the database's size limit) is full."""


class StoreCorrupt(StoreError):
    """The file is not a database or its contents are damaged."""


class StoreSchemaError(StoreError):
    """The database schema is missing tables or is newer/older than this version of the app."""


class NotFound(StoreError, LookupError):
    """The requested row (run, dataset, study, preset) does not exist."""


class ConflictError(StoreError):
    """The change clashes with what is stored (duplicate name, protected row, invalid status change)."""


class NameShortened(UserWarning):
    """A warning (not an error): a name longer than the store keeps was cut to its first characters. The message
    gives the original length, the limit and the kept prefix; the CLI prints it and the app shows it."""
