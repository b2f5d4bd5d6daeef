"""Which market data a request means: a stored dataset (by id) or a bundled sample (by key), cut to a period."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from api.problems import Problem
from core.data import MarketData, list_samples, load_sample, market_data_for_period
from usecases.store import Store


@dataclass(frozen=True)
class Resolved:
    """The data to use; ``dataset_id`` is the stored dataset holding exactly these bars (``None`` until stored)."""

    data: MarketData
    dataset_id: int | None


def sample_keys() -> list[str]:
    """The bundled datasets' keys (GOOG, MSFT, SP500)."""
    return [s.key for s in list_samples()]


def resolve(store: Store, ref: int | str, start: date | None = None, end: date | None = None) -> Resolved:
    """The market data of ``ref`` within ``start``..``end`` (a 404 problem for an unknown dataset)."""
    dataset_id: int | None = None
    if isinstance(ref, int) or (isinstance(ref, str) and ref.strip().isdigit()):
        dataset_id = int(ref)
        data = store.load_market_data(dataset_id)  # NotFound -> 404
    else:
        key = ref.strip().upper()
        if key not in sample_keys():
            raise Problem(404, f"no bundled dataset {ref!r}; give a stored dataset's id or one of "
                          f"{', '.join(sample_keys())}", kind="unknown-dataset",
                          errors=[{"field": "dataset", "location": ["body", "dataset"],
                                   "message": f"unknown dataset {ref!r}", "valid": sample_keys()}])
        data = load_sample(key)
    cut = market_data_for_period(data, start, end)
    return Resolved(cut, dataset_id if cut is data else None)


def stored_id(store: Store, resolved: Resolved) -> int:
    """The stored dataset of ``resolved``, saving it first when needed (idempotent by name and content)."""
    if resolved.dataset_id is not None:
        return resolved.dataset_id
    return store.save_dataset(resolved.data)
