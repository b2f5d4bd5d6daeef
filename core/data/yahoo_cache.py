"""On-disk cache of Yahoo Finance downloads, so a repeated request needs no network.

One JSON file per ``(symbol, start, end, interval)`` holds the raw frame yfinance returned (as CSV text, which
keeps every float exactly) and its exchange time zone. Files are written atomically; a damaged file is treated
as a miss and rewritten; a read-only disk only loses the cache, never the download.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

FORMAT = "vbl-yahoo-cache-v1"
REPO_ROOT = Path(__file__).resolve().parents[2]


def default_cache_dir() -> Path:
    """``$VBL_CACHE_DIR/yahoo`` when the variable is set, else ``var/cache/yahoo`` under the repository root."""
    env = os.environ.get("VBL_CACHE_DIR")
    return Path(env) / "yahoo" if env else REPO_ROOT / "var" / "cache" / "yahoo"


@dataclass(frozen=True)
class CacheKey:
    symbol: str
    start: str
    end: str
    interval: str

    def filename(self) -> str:
        readable = re.sub(r"[^A-Za-z0-9._-]+", "_", f"{self.symbol}_{self.interval}_{self.start}_{self.end}")
        # The readable part can collide after sanitising ("^GSPC" vs "_GSPC"); the digest cannot.
        digest = hashlib.sha256(json.dumps([self.symbol, self.start, self.end, self.interval]).encode()).hexdigest()
        return f"{readable}_{digest[:12]}.json"


class YahooCache:
    """Raw yfinance frames stored under ``directory``."""

    def __init__(self, directory: str | os.PathLike) -> None:
        self.directory = Path(directory)

    def path(self, key: CacheKey) -> Path:
        return self.directory / key.filename()

    def load(self, key: CacheKey) -> pd.DataFrame | None:
        """The cached raw frame (tz-aware index) or ``None`` when absent or unreadable."""
        path = self.path(key)
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            if doc.get("format") != FORMAT or doc.get("key") != [key.symbol, key.start, key.end, key.interval]:
                return None
            frame = pd.read_csv(io.StringIO(doc["csv"]), index_col=0)
            index = pd.to_datetime(frame.index, utc=True)
            tz = doc.get("timezone")
            frame.index = index.tz_convert(tz) if tz else index.tz_localize(None)
            frame.index.name = doc.get("index_name") or "Date"
            return frame
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def store(self, key: CacheKey, frame: pd.DataFrame) -> Path | None:
        """Write ``frame`` atomically; returns the path, or ``None`` when the disk refused."""
        tz = frame.index.tz
        doc = {
            "format": FORMAT,
            "key": [key.symbol, key.start, key.end, key.interval],
            "timezone": None if tz is None else str(tz),
            "index_name": frame.index.name,
            "fetched_at": pd.Timestamp.now(tz="UTC").isoformat(),
            "csv": frame.to_csv(lineterminator="\n"),
        }
        path = self.path(key)
        tmp: str | None = None
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=self.directory)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(doc, fh)
            os.replace(tmp, path)  # readers never see a half-written file
        except OSError:
            if tmp is not None:
                Path(tmp).unlink(missing_ok=True)
            return None
        return path
