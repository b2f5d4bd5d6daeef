"""Datasets: metadata plus the bars and dividends themselves, so every run can be re-run from the database alone."""

from __future__ import annotations

import hashlib
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from storage import codec
from storage._base import StoreBase, aware, require, utcnow
from storage.errors import ConflictError, StoreError
from storage.models import dataset_data, datasets, runs, studies
from storage.values import DatasetFrames, DatasetInfo, stored_label, stored_name


def _market_data_class() -> Any:
    try:
        from core.data import MarketData
    except ImportError:
        from core.data.market_data import MarketData
    return MarketData


def bar_bounds(prices: pd.DataFrame) -> tuple[Any, Any]:
    """The first and last bar of ``prices`` as naive UTC datetimes (as datasets store them), or ``(None, None)``."""
    if len(prices) == 0 or not isinstance(prices.index, pd.DatetimeIndex):
        return None, None
    index = prices.index
    if index.tz is not None:
        index = index.tz_convert("UTC").tz_localize(None)
    return index[0].to_pydatetime(), index[-1].to_pydatetime()


def _digest(prices: pd.DataFrame, dividends: pd.DataFrame) -> str:
    """Fallback content hash when the data has no ``sha256()`` (a plain frame pair)."""
    digest = hashlib.sha256(b"vbl-store-frames-v1\n")
    digest.update(codec.encode_frame(prices))
    digest.update(codec.encode_frame(dividends))
    return digest.hexdigest()


def _empty_dividends() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "ex_date": pd.Series([], dtype="datetime64[ns]"),
            "amount": pd.Series([], dtype="float64"),
            "pay_date": pd.Series([], dtype="datetime64[ns]"),
        }
    )


def _info(row: Any) -> DatasetInfo:
    return DatasetInfo(
        id=row.id,
        name=row.name,
        source=row.source,
        symbol=row.symbol,
        interval=row.interval,
        price_basis=row.price_basis,
        timezone=row.timezone,
        first_timestamp=aware(row.first_ts),
        last_timestamp=aware(row.last_ts),
        n_rows=row.n_rows,
        n_dividends=row.n_dividends,
        sha256=row.sha256,
        created_at=aware(row.created_at),
    )


class DatasetsMixin(StoreBase):
    """Save, find, load and delete datasets."""

    def save_dataset(
        self,
        data: Any,
        dividends: pd.DataFrame | None = None,
        *,
        name: str | None = None,
        symbol: str | None = None,
        source: str | None = None,
        interval: str | None = None,
        price_basis: str | None = None,
        timezone: str | None = None,
        splits: pd.DataFrame | None = None,
    ) -> int:
        """Store a dataset (bars, dividends, splits and metadata) and return its id.

        ``data`` is a ``core.data.MarketData`` (its fields supply the metadata and its ``sha256()`` the content
        hash) or a prices DataFrame with ``dividends`` and the keyword metadata. Keyword arguments override the
        MarketData's fields. Saving the same bars under the same name again returns the existing id (idempotent,
        also when two processes save it at once).
        """
        prices = getattr(data, "prices", data)
        if not isinstance(prices, pd.DataFrame):
            raise TypeError(f"save_dataset needs a MarketData or a prices DataFrame, got {type(data).__name__}")
        divs = dividends if dividends is not None else getattr(data, "dividends", None)
        divs = _empty_dividends() if divs is None else divs
        splits = splits if splits is not None else getattr(data, "splits", None)
        symbol = symbol or getattr(data, "symbol", None) or prices.attrs.get("symbol") or "?"
        meta = {
            "name": stored_name(str(name or getattr(data, "name", None) or symbol), "dataset", strip=False),
            "symbol": stored_label(str(symbol), "symbol", 40),
            "source": stored_label(source or getattr(data, "source", None) or "csv", "source", 20),
            "interval": stored_label(interval or getattr(data, "interval", None) or "1d", "interval", 10),
            "price_basis": stored_label(price_basis or getattr(data, "price_basis", None) or "unknown",
                                        "price basis", 20),
            "timezone": timezone or getattr(data, "timezone", None) or prices.attrs.get("timezone"),
        }
        sha = data.sha256() if callable(getattr(data, "sha256", None)) else _digest(prices, divs)
        first, last = bar_bounds(prices)
        bars_blob = codec.encode_frame(prices)
        divs_blob = codec.encode_frame(divs)
        splits_blob = None if splits is None else codec.encode_frame(splits)

        def find(conn: Connection) -> int | None:
            return conn.execute(
                sa.select(datasets.c.id).where(datasets.c.name == meta["name"], datasets.c.sha256 == sha)
            ).scalar()

        def insert(conn: Connection) -> int:
            existing = find(conn)
            if existing is not None:
                return int(existing)
            dataset_id = conn.execute(
                sa.insert(datasets).values(
                    **meta,
                    first_ts=first,
                    last_ts=last,
                    n_rows=len(prices),
                    n_dividends=len(divs),
                    sha256=sha,
                    created_at=utcnow(),
                )
            ).inserted_primary_key[0]
            conn.execute(
                sa.insert(dataset_data).values(
                    dataset_id=dataset_id, bars=bars_blob, dividends=divs_blob, splits=splits_blob
                )
            )
            self._audit(conn, "create", "dataset", dataset_id, {**meta, "sha256": sha, "n_rows": len(prices)})
            return int(dataset_id)

        try:
            return self._write(insert)
        except ConflictError:  # another process inserted the same dataset between our check and insert
            existing = self._read(find)
            if existing is None:
                raise
            return int(existing)

    def get_dataset(self, dataset_id: int) -> DatasetInfo:
        """The dataset's description; :class:`~storage.errors.NotFound` if there is none with that id."""
        row = self._read(lambda conn: conn.execute(sa.select(datasets).where(datasets.c.id == dataset_id)).first())
        return _info(require(row, "dataset", dataset_id))

    def find_dataset(self, sha256: str, name: str | None = None) -> DatasetInfo | None:
        """The newest dataset with this content hash (and name, if given), or ``None``."""
        query = sa.select(datasets).where(datasets.c.sha256 == sha256)
        if name is not None:
            query = query.where(datasets.c.name == name)
        row = self._read(lambda conn: conn.execute(query.order_by(datasets.c.id.desc()).limit(1)).first())
        return None if row is None else _info(row)

    def list_datasets(self) -> list[DatasetInfo]:
        """Every stored dataset, newest first."""
        rows = self._read(lambda conn: conn.execute(sa.select(datasets).order_by(datasets.c.id.desc())).all())
        return [_info(r) for r in rows]

    def load_dataset(self, dataset_id: int) -> DatasetFrames:
        """The stored bars, dividends and splits, bit-for-bit as saved."""

        def load(conn: Connection) -> tuple[Any, Any]:
            meta = conn.execute(sa.select(datasets).where(datasets.c.id == dataset_id)).first()
            blobs = conn.execute(sa.select(dataset_data).where(dataset_data.c.dataset_id == dataset_id)).first()
            return meta, blobs

        meta, blobs = self._read(load)
        info = _info(require(meta, "dataset", dataset_id))
        if blobs is None:
            raise StoreError(
                f"dataset {dataset_id} ({info.name}) has lost its bars; delete it and load the data again"
            )
        return DatasetFrames(
            info=info,
            prices=codec.decode_frame(blobs.bars),
            dividends=codec.decode_frame(blobs.dividends),
            splits=None if blobs.splits is None else codec.decode_frame(blobs.splits),
        )

    def load_market_data(self, dataset_id: int) -> Any:
        """The stored dataset as a ``core.data.MarketData`` (works offline: nothing is downloaded)."""
        frames = self.load_dataset(dataset_id)
        info = frames.info
        kwargs: dict[str, Any] = {
            "prices": frames.prices,
            "dividends": frames.dividends,
            "symbol": info.symbol,
            "name": info.name,
            "interval": info.interval,
            "price_basis": info.price_basis,
            "source": info.source,
            "splits": frames.splits,
        }
        if info.timezone:
            kwargs["timezone"] = info.timezone
        return _market_data_class()(**kwargs)

    def delete_dataset(self, dataset_id: int) -> None:
        """Delete a dataset. Refused (:class:`ConflictError`) while runs or studies still use it."""

        def delete(conn: Connection) -> None:
            row = require(
                conn.execute(sa.select(datasets.c.name).where(datasets.c.id == dataset_id)).first(), "dataset",
                dataset_id,
            )
            n_runs = conn.execute(sa.select(sa.func.count()).where(runs.c.dataset_id == dataset_id)).scalar_one()
            n_studies = conn.execute(
                sa.select(sa.func.count()).where(studies.c.dataset_id == dataset_id)
            ).scalar_one()
            if n_runs or n_studies:
                raise ConflictError(
                    f"dataset {row.name!r} is used by {n_runs} run(s) and {n_studies} stud(ies); delete those first"
                )
            conn.execute(sa.delete(datasets).where(datasets.c.id == dataset_id))
            self._audit(conn, "delete", "dataset", dataset_id, {"name": row.name})

        self._write(delete)
