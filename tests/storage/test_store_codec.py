"""Exact encodings: JSON floats and DataFrames round-trip bit for bit."""

from __future__ import annotations

import math
import struct

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from storage import codec

FLOATS = st.floats(allow_nan=True, allow_infinity=True, width=64)


def _bits(x: float) -> bytes:
    return struct.pack("<d", x)


@given(st.dictionaries(st.text(max_size=10), FLOATS | st.integers(-(2**62), 2**62) | st.none() | st.text()))
def test_json_roundtrip_exact(values: dict) -> None:
    back = codec.loads(codec.dumps(values))
    assert back.keys() == values.keys()
    for key, value in values.items():
        if isinstance(value, float):
            assert isinstance(back[key], float)
            assert _bits(back[key]) == _bits(value) or (math.isnan(value) and math.isnan(back[key]))
        else:
            assert back[key] == value


def test_loads_many_matches_loads() -> None:
    texts = [codec.dumps({"a": 1.5, "b": math.nan}), codec.dumps({"a": -math.inf}), codec.dumps({})]
    assert [codec.dumps(v) for v in codec.loads_many(texts)] == texts
    assert codec.loads_many([codec.dumps({"a": 0.1})]) == [{"a": 0.1}]


def test_unstorable_value_is_refused() -> None:
    with pytest.raises(TypeError, match="cannot store"):
        codec.dumps({"x": object()})


@settings(max_examples=60, deadline=None)
@given(
    st.lists(FLOATS, min_size=0, max_size=40),
    st.sampled_from([None, "UTC", "America/New_York"]),
    st.sampled_from(["D", "B", "h", None]),
)
def test_frame_roundtrip_exact(values: list[float], tz: str | None, freq: str | None) -> None:
    n = len(values)
    index = pd.date_range("2020-01-01", periods=n, freq=freq or "D", tz=tz, name="timestamp")
    if freq is None:
        index = pd.DatetimeIndex(list(index), name="timestamp")
    frame = pd.DataFrame(
        {
            "close": np.array(values, dtype="float64"),
            "n": np.arange(n, dtype="int32"),
            "flag": np.arange(n) % 2 == 0,
            "kind": pd.array([None if i % 5 == 0 else f"k{i}" for i in range(n)], dtype="str"),
            "when": pd.Series(index.tz_localize(None) if tz else index, dtype="datetime64[ns]").to_numpy(),
            "obj": pd.Series([{"i": i} if i % 2 else None for i in range(n)], dtype=object).to_numpy(),
        },
        index=index,
    )
    frame.attrs["timezone"] = "America/New_York"
    back = codec.decode_frame(codec.encode_frame(frame))
    pd.testing.assert_frame_equal(back, frame, check_exact=True, check_freq=True)
    assert back["close"].to_numpy().tobytes() == frame["close"].to_numpy().tobytes()  # NaN payloads, -0.0
    assert back.attrs == frame.attrs


def test_frame_edge_cases() -> None:
    for frame in (pd.DataFrame(), pd.DataFrame(columns=["a", "b"]), pd.DataFrame({"a": [1.0]}, index=[7])):
        pd.testing.assert_frame_equal(codec.decode_frame(codec.encode_frame(frame)), frame, check_exact=True)
    with pytest.raises(codec.StoreCorrupt):
        codec.decode_frame(b"garbage")
    with pytest.raises(ValueError, match="duplicate"):
        codec.encode_frame(pd.DataFrame([[1, 2]], columns=["a", "a"]))
