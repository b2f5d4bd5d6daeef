"""The store as the interfaces see it: opening a :class:`Store`, its records and its errors.

The app, the CLI and the API reach the store only through the use-case layer (an import contract in ``make lint``
enforces it), so that everything that combines the store with the engine (re-runs, reports, studies, the ledger)
is written once, here, and the interfaces only wire widgets and arguments. This module hands them the store's own
public API unchanged.
"""

import storage
from storage import *  # noqa: F403 -- the store's public API, unchanged (its __all__ is the list)
from storage.database import describe_url

__all__ = [*storage.__all__, "describe_url"]
