"""Value objects returned by :class:`storage.Store`.

All are frozen dataclasses with value equality and a hash consistent with it, so they can be compared, put in sets
and used as dict keys. Mappings (metrics, parameters, search spaces) are :class:`FrozenMap`, which compares NaN
equal to NaN: a record read twice from the database is equal to itself even when a metric is NaN (plain ``dict``
equality says ``nan != nan``). Database rows are identified by their ``id`` (trials by ``study_id`` + ``index``).
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from core.config import StrategyConfig
from core.position_state import PositionState
from storage.errors import NameShortened

_NAN_KEY = ("__nan__",)
NAME_MAX_CHARS = 200  # the name columns of runs, datasets and studies (String(200) in storage/models.py)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # Unicode category Cc: C0, DEL and C1


def refuse_control_characters(label: str, text: str) -> None:
    """``ValueError`` when ``text`` holds a NUL or any other control character (tab and newline included).

    A NUL cannot be stored on PostgreSQL and ends a LIKE pattern on SQLite (it matched every run), and no control
    character belongs in a name a person reads: refused here, the same way on both backends.
    """
    found = _CONTROL.search(text)
    if found is None:
        return
    if found.group() == "\x00":
        raise ValueError(f"the {label} contains a NUL character (\\x00); remove it")
    raise ValueError(
        f"the {label} contains a control character ({found.group()!r} at position {found.start()}); remove it"
    )


def stored_name(text: str, what: str, *, strip: bool = True) -> str:
    """``text`` as the store keeps it for a ``what`` (run, dataset, study) name: control characters refused
    (``ValueError``), surrounding whitespace stripped (unless ``strip`` is false), and a name longer than
    ``NAME_MAX_CHARS`` cut to that with a :class:`~storage.errors.NameShortened` warning saying so."""
    refuse_control_characters(f"{what} name", text)
    name = text.strip() if strip else text
    if len(name) <= NAME_MAX_CHARS:
        return name
    kept = name[:NAME_MAX_CHARS]
    warnings.warn(
        NameShortened(
            f"the {what} name has {len(name)} characters, more than the {NAME_MAX_CHARS} the store keeps; it was "
            f"saved as its first {NAME_MAX_CHARS}: {kept!r}"
        ),
        stacklevel=3,  # the caller of the store method
    )
    return kept


def stored_label(text: str, what: str, max_chars: int) -> str:
    """A dataset's short label (symbol, source, interval, price basis) as the store keeps it: control characters and
    a label longer than its column are refused (``ValueError`` naming the limit), never cut silently — a cut symbol
    would find another stock's data."""
    refuse_control_characters(what, text)
    if len(text) > max_chars:
        raise ValueError(f"the {what} {text[:60]!r}{'…' if len(text) > 60 else ''} has {len(text)} characters; the "
                         f"store keeps at most {max_chars}: give a shorter one")
    return text


def _key(value: Any) -> Any:
    """A hashable, NaN-stable comparison key for a frozen value."""
    if isinstance(value, float) and math.isnan(value):
        return _NAN_KEY
    if isinstance(value, FrozenMap):
        return value._cmp_key
    if isinstance(value, tuple):
        return tuple(_key(v) for v in value)
    return value


def freeze(value: Any) -> Any:
    """Deep-freeze JSON-like data: dicts become :class:`FrozenMap`, lists become tuples."""
    if isinstance(value, FrozenMap):
        return value
    if isinstance(value, Mapping):
        return FrozenMap(value)
    if isinstance(value, (list, tuple)):
        return tuple(freeze(v) for v in value)
    return value


def thaw(value: Any) -> Any:
    """Inverse of :func:`freeze`: plain dicts and lists (for JSON or for editing)."""
    if isinstance(value, Mapping):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [thaw(v) for v in value]
    return value


class FrozenMap(Mapping[str, Any]):
    """An immutable, hashable mapping (keys kept in insertion order) whose equality treats NaN as equal to NaN."""

    __slots__ = ("_cmp_key", "_data", "_hash")

    def __init__(self, data: Mapping[str, Any] | None = None, /, **kwargs: Any) -> None:
        items = {**(data or {}), **kwargs}
        self._data: dict[str, Any] = {str(k): freeze(v) for k, v in items.items()}
        self._cmp_key = tuple(sorted((k, _key(v)) for k, v in self._data.items()))
        self._hash: int | None = None

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FrozenMap):
            return self._cmp_key == other._cmp_key
        if isinstance(other, Mapping):
            return self._cmp_key == FrozenMap(other)._cmp_key
        return NotImplemented

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(self._cmp_key)
        return self._hash

    def __repr__(self) -> str:
        return f"FrozenMap({self._data!r})"

    def to_dict(self) -> dict[str, Any]:
        """A plain, mutable deep copy (nested maps become dicts, tuples become lists)."""
        return thaw(self)


def _nan_safe_eq(a: Any, b: Any) -> bool:
    return _key(a) == _key(b)


@dataclass(frozen=True)
class DatasetInfo:
    """A stored dataset's description (the bars themselves come from ``Store.load_dataset``)."""

    id: int
    name: str
    source: str
    symbol: str
    interval: str
    price_basis: str
    timezone: str | None
    first_timestamp: datetime | None
    last_timestamp: datetime | None
    n_rows: int
    n_dividends: int
    sha256: str
    created_at: datetime


@dataclass(frozen=True)
class RunRecord:
    """A stored backtest run (trades via ``Store.get_run_trades``; the timeline via ``Store.rerun``)."""

    id: int
    dataset_id: int
    name: str
    tags: tuple[str, ...]
    notes: str
    config: StrategyConfig
    engine_version: str
    created_at: datetime
    metrics: FrozenMap
    n_trades: int | None


@dataclass(frozen=True)
class RunFilter:
    """Criteria for ``Store.list_runs``; every field that is set must match (``None`` means any)."""

    dataset_id: int | None = None
    name_contains: str | None = None
    tag: str | None = None
    engine_version: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    min_sharpe: float | None = None

    def __post_init__(self) -> None:
        # A NUL cannot be stored in a name or tag, and the databases treat it differently in a LIKE (SQLite matched
        # every run, PostgreSQL failed): refuse it (and every other control character) here, the same way on both.
        for label, text in (("name filter", self.name_contains), ("tag filter", self.tag),
                            ("engine version filter", self.engine_version)):
            if text is not None:
                refuse_control_characters(label, text)


@dataclass(frozen=True)
class StudyRecord:
    """A stored optimisation study. ``counts`` maps trial status to the number of stored trials."""

    id: int
    dataset_id: int
    name: str
    method: str
    objective: Any
    search_space: FrozenMap
    constraints: Any
    seed: int | None
    status: str
    n_planned: int | None
    base_config: StrategyConfig | None
    error: str | None
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    counts: FrozenMap = field(default_factory=FrozenMap)

    @property
    def n_trials(self) -> int:
        """Number of stored trials, any status."""
        return sum(self.counts.values())


@dataclass(frozen=True)
class TrialInput:
    """One trial to store with ``Store.save_trials`` (plain mappings with the same keys are accepted too)."""

    index: int
    params: Mapping[str, Any]
    metrics: Mapping[str, Any] = field(default_factory=dict)
    status: str = "completed"
    error: str | None = None
    duration_s: float | None = None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TrialInput):
            return NotImplemented
        return _nan_safe_eq(self._cmp(), other._cmp())

    def __hash__(self) -> int:
        return hash(_key(self._cmp()))

    def _cmp(self) -> tuple[Any, ...]:
        return (
            self.index,
            FrozenMap(self.params),
            FrozenMap(self.metrics),
            self.status,
            self.error,
            self.duration_s,
        )


@dataclass(frozen=True)
class TrialRecord:
    """A stored trial of a study, identified by ``(study_id, index)``."""

    study_id: int
    index: int
    params: FrozenMap
    metrics: FrozenMap
    status: str
    error: str | None
    duration_s: float | None
    created_at: datetime

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TrialRecord):
            return NotImplemented
        return _key(self._cmp()) == _key(other._cmp())

    def __hash__(self) -> int:
        return hash(_key(self._cmp()))

    def _cmp(self) -> tuple[Any, ...]:
        return (self.study_id, self.index, self.params, self.metrics, self.status, self.error, self.duration_s,
                self.created_at)


@dataclass(frozen=True)
class Preset:
    """A named strategy configuration. Default presets cannot be deleted, renamed or overwritten."""

    name: str
    config: StrategyConfig
    is_default: bool
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class AuditEntry:
    """One line of the audit log."""

    id: int
    at: datetime
    actor: str
    action: str
    entity: str
    entity_id: str | None
    details: FrozenMap


@dataclass(frozen=True)
class DatasetFrames:
    """A stored dataset's bars and dividends, exactly as saved (compared by value with ``DataFrame.equals``)."""

    info: DatasetInfo
    prices: Any
    dividends: Any
    splits: Any = None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DatasetFrames):
            return NotImplemented
        return self.info == other.info and all(
            _frames_equal(a, b)
            for a, b in ((self.prices, other.prices), (self.dividends, other.dividends), (self.splits, other.splits))
        )

    def __hash__(self) -> int:
        return hash(self.info)


def _frames_equal(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is b
    return bool(a.equals(b)) and list(a.columns) == list(b.columns) and list(a.dtypes) == list(b.dtypes)


# -- positions held for real ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PositionRecord:
    """A stored position: what it is, how it trades (``config``) and what it holds now (``state``)."""

    id: int
    ticker: str
    name: str
    config: StrategyConfig
    timezone: str
    state: PositionState
    status: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class OrderRecord:
    """An order proposed by the advisor (``qty`` unsigned, ``price`` the advised execution price)."""

    id: int
    position_id: int
    status: str
    side: str
    kind: str
    qty: float
    raw_qty: float
    price: float
    commission: float
    projected_stock_share: float | None
    reason: str
    decided_at: datetime
    note: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class FillRecord:
    """An execution as it really happened (``qty`` unsigned; ``filled_at`` exchange-local)."""

    id: int
    position_id: int
    order_id: int | None
    side: str
    qty: float
    price: float
    commission: float
    filled_at: datetime
    created_at: datetime


@dataclass(frozen=True)
class FillResult:
    """What :meth:`PositionsAPI.record_fill` returns; ``replayed`` is True when an idempotency key returned the
    first request's result instead of recording anything."""

    fill: FillRecord
    state: PositionState  # the position right after this fill
    replayed: bool = False


@dataclass(frozen=True)
class DividendRecord:
    """A dividend booked on its ex-date (receivable += net, anchor -= amount) and paid on its pay date."""

    id: int
    position_id: int
    ex_date: date
    pay_date: date
    amount_per_share: float
    shares: float
    gross: float
    net: float
    anchor_before: float
    anchor_after: float
    status: str
    paid_at: datetime | None
    created_at: datetime

    @property
    def badge(self) -> str:
        """E.g. ``"Ex-dividend $0.82/sh; receivable $61.50; anchor adjusted to $149.18"``."""
        text = (
            f"Ex-dividend ${self.amount_per_share:,.2f}/sh; receivable ${self.net:,.2f}; "
            f"anchor adjusted to ${self.anchor_after:,.2f}"
        )
        return text if self.status == "booked" else f"{text} (paid)"


@dataclass(frozen=True)
class CashFlowRecord:
    """A deposit (``amount`` > 0) or withdrawal (``amount`` < 0)."""

    id: int
    position_id: int
    amount: float
    note: str
    created_at: datetime


@dataclass(frozen=True)
class AnchorChangeRecord:
    """A manual anchor change (also in the audit log)."""

    id: int
    position_id: int
    old_anchor: float
    new_anchor: float
    reason: str
    actor: str
    created_at: datetime


@dataclass(frozen=True)
class EventRecord:
    """One entry of a position's timeline, with the state right after it."""

    id: int
    position_id: int
    at: datetime
    kind: str
    message: str
    details: Mapping[str, Any]
    actor: str
    shares: float
    cash: float
    receivable: float
    anchor: float


@dataclass(frozen=True)
class PositionHistory:
    """Everything stored about one position (for the page and the Excel/CSV export)."""

    position: PositionRecord
    events: tuple[EventRecord, ...]
    orders: tuple[OrderRecord, ...]
    fills: tuple[FillRecord, ...]
    dividends: tuple[DividendRecord, ...]
    cash_flows: tuple[CashFlowRecord, ...]
    anchor_changes: tuple[AnchorChangeRecord, ...]
