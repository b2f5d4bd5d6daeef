"""Values as JSON: NaN and infinities as ``null``, times as ISO text, frames as lists of records.

Shared by the JSON run bundle and the HTTP API, so a number reads the same in both.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from datetime import date, datetime, time
from typing import Any

import numpy as np
import pandas as pd

from core.config import StrategyConfig


def plain(value: Any) -> Any:
    """``value`` with only JSON types left (``allow_nan=False`` safe)."""
    if value is None or isinstance(value, (str, bool)):
        return value
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return v if math.isfinite(v) else None
    if isinstance(value, StrategyConfig):
        return plain(value.to_dict())
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.isoformat()
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, pd.Timedelta):
        return value.total_seconds()
    if isinstance(value, pd.DataFrame):
        return records(value)
    if isinstance(value, pd.Series):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset, np.ndarray)):
        return [plain(v) for v in (value.tolist() if isinstance(value, np.ndarray) else value)]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if value is pd.NaT or value is pd.NA:
        return None
    return str(value)


def records(frame: pd.DataFrame, *, index: bool | None = None) -> list[dict[str, Any]]:
    """One dict per row. A named or datetime index becomes a column (``index=True`` forces it)."""
    if frame is None:
        return []
    keep_index = index if index is not None else (
        frame.index.name is not None or isinstance(frame.index, pd.DatetimeIndex))
    if keep_index:
        frame = frame.reset_index()
    columns = [str(c) for c in frame.columns]
    return [{c: plain(v) for c, v in zip(columns, row, strict=True)} for row in frame.itertuples(index=False)]
