"""Errors raised by the core.

Both are ``ValueError`` subclasses so callers that only know the standard library still catch them; the app and
the CLI turn them into one readable line. Messages name the problem and, for data, the first offending row.
"""

from __future__ import annotations


class DataError(ValueError):
    """Market data (prices or dividends) is missing, malformed or inconsistent."""


class ConfigError(ValueError):
    """A strategy configuration (or a parameter range built from one) is invalid."""
