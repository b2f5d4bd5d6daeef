"""Rebuild ``data/{intc,mmm,cost}.csv`` and ``data/*_dividends.csv`` from zipline-reloaded's test bundle.

Source: the sdist ``zipline_reloaded-3.2.1.tar.gz`` from PyPI; inside it ``tests/resources/example_data.tar.gz``, the
zipline data bundle "test" (ingested from Yahoo Finance on 2016-12-13) that zipline's example tests run on. It holds
nine US stocks, 2004-01-02 to 2014-12-31: daily bars in ``daily_equities.bcolz`` (one blosc-compressed chunk per
column) and corporate actions in ``adjustments.sqlite`` (tables ``splits`` and ``dividend_payouts``). Every input
is checked against a pinned SHA-256 before use.

What the script does, and nothing else:

* prices: the bar columns are uint32 thousandths of a dollar (zipline's daily-bar format). Every stored price ends
  in 0 or 9 thousandths: cent prices that carried float noise (Yahoo's CSVs carry e.g. 26.549999 for 26.55) and
  that the 2016 writer truncated to thousandths (26549; today's zipline writer rounds instead). The script checks
  that pattern for every value and restores the cents (rounds to the nearest 10 thousandths); volumes are copied as
  they are. Output: ``Date,Open,High,Low,Close,Volume``.
* the bars are Yahoo's raw closes of the time; the script refuses a symbol that has a split in ``splits`` (none of
  INTC, MMM, COST split in 2004-2014), so the raw closes are also split-adjusted for the whole period.
* dividends: ``dividend_payouts`` rows of the symbol, ex-date and cash amount per share as stored. The bundle has no
  declared, record or pay dates (all NaT), so the output has ``ex_date,amount`` only.

Run (the blosc package decompresses the bcolz chunks; install it anywhere, e.g. with ``--target``)::

    .venv/bin/pip download --no-deps --no-binary zipline-reloaded -d /tmp/zr zipline-reloaded==3.2.1
    .venv/bin/pip install --target /tmp/blosc blosc==1.11.4
    PYTHONPATH=/tmp/blosc .venv/bin/python data/tools/zipline_example_bundle.py /tmp/zr/zipline_reloaded-3.2.1.tar.gz

``--check`` compares with the files in ``data/`` instead of writing them (exit 1 on any difference).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import sqlite3
import sys
import tarfile
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import blosc
import numpy as np

SDIST_SHA256 = "f8e630985da613dff74800fda693bb926fe72b286c3e53fc747049f4a29fcd2a"
EXAMPLE_MEMBER = "zipline_reloaded-3.2.1/tests/resources/example_data.tar.gz"
EXAMPLE_SHA256 = "f74074c21a5de27b08ffaf5e3f298de7506ccec391db583995ec5286ab05a0a7"
BUNDLE = "example_data/root/data/test/2016-12-13T19;59;34.153449/"
COLUMNS = ("open", "high", "low", "close", "volume", "day", "id")
INPUT_SHA256 = {
    "adjustments.sqlite": "d0a3637128679e5de6e3e1a7a020a420c11b3fba56ef93a7d54eb10f2baa3dde",
    "assets-7.sqlite": "08cfefdf2a9e270d7a73a59b7259e3e5d88add54650d5e150f7314fb35ec58fe",
    "daily_equities.bcolz/open/data/__0.blp": "c0ba479352f62351941939c0536fd350bbda73079a958827afa92c3594009c84",
    "daily_equities.bcolz/high/data/__0.blp": "ab1c71e6ec88d314a035962eaf52ea3220b5fe056259bd39c752a6b679f7c8be",
    "daily_equities.bcolz/low/data/__0.blp": "ef3cc51e5fba4d3f33c59579e759b7767462c39c31994fccae2ea7e1416d4ddf",
    "daily_equities.bcolz/close/data/__0.blp": "e0b4d2aaeb32fb6caf8228294efa02dbd4b5e49246b4782d44fb8c032c9d8a47",
    "daily_equities.bcolz/volume/data/__0.blp": "a398f16c36c964a5fc74e1eddb3edecdef4a5d28723ccd4488b8c6b252c2217c",
    "daily_equities.bcolz/day/data/__0.blp": "badcea38e913e7378bb3ac820289bdeb9c8108073f112ab0e579fdb9ed97595a",
    "daily_equities.bcolz/id/data/__0.blp": "7a2e6f23b946dbaea7161ceb8b5771936912a31d7c813d7b4ad14951eb10a217",
}
SYMBOLS = ("INTC", "MMM", "COST")
DATA_DIR = Path(__file__).resolve().parents[1]


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _checked(name: str, data: bytes, expected: str) -> bytes:
    if _sha256(data) != expected:
        raise SystemExit(f"{name}: SHA-256 {_sha256(data)} is not the pinned {expected}")
    return data


def read_bundle(sdist: Path) -> dict[str, bytes]:
    """The bundle's files (path below ``BUNDLE`` -> bytes), each checked against its pinned hash."""
    outer = _checked(sdist.name, sdist.read_bytes(), SDIST_SHA256)
    with tarfile.open(fileobj=io.BytesIO(outer), mode="r:gz") as tar:
        member = tar.extractfile(EXAMPLE_MEMBER)
        assert member is not None
        example = _checked(EXAMPLE_MEMBER, member.read(), EXAMPLE_SHA256)
    wanted = {*INPUT_SHA256, "daily_equities.bcolz/__attrs__"}
    wanted |= {f"daily_equities.bcolz/{c}/meta/{m}" for c in COLUMNS for m in ("sizes", "storage")}
    files: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(example), mode="r:gz") as tar:
        for name in sorted(wanted):
            member = tar.extractfile(BUNDLE + name)
            assert member is not None, name
            files[name] = member.read()
    for name, expected in INPUT_SHA256.items():
        _checked(name, files[name], expected)
    return files


def bcolz_column(files: dict[str, bytes], column: str) -> np.ndarray:
    """One bcolz column: its only chunk is the "leftover" file ``__0.blp``, a 16-byte header then one blosc buffer."""
    root = f"daily_equities.bcolz/{column}/"
    storage = json.loads(files[root + "meta/storage"])
    sizes = json.loads(files[root + "meta/sizes"])
    (n,) = sizes["shape"]
    raw = files[root + "data/__0.blp"]
    if raw[:4] != b"blpk" or n > storage["chunklen"]:
        raise SystemExit(f"{column}: not a single leftover bcolz chunk")
    dtype = np.dtype(storage["dtype"])
    values = np.frombuffer(blosc.decompress(raw[16:]), dtype=dtype)
    if values.shape != (n,) or sizes["nbytes"] != n * dtype.itemsize:
        raise SystemExit(f"{column}: decompressed {values.shape} values, expected {n}")
    return values


def _day(seconds: int) -> str:
    return datetime.fromtimestamp(int(seconds), UTC).strftime("%Y-%m-%d")


def _cents(thousandths: np.ndarray, what: str) -> np.ndarray:
    last = thousandths % 10
    if not np.isin(last, (0, 9)).all():
        raise SystemExit(f"{what}: a price not ending in 0 or 9 thousandths: not truncated cent prices")
    return (thousandths.astype(np.int64) + 5) // 10


def build(files: dict[str, bytes]) -> dict[str, bytes]:
    """Output file name -> bytes for every symbol in SYMBOLS."""
    cols = {c: bcolz_column(files, c) for c in COLUMNS}
    attrs = json.loads(files["daily_equities.bcolz/__attrs__"])
    with tempfile.TemporaryDirectory() as tmp:
        dbs = {}
        for name in ("assets-7.sqlite", "adjustments.sqlite"):
            (Path(tmp) / name).write_bytes(files[name])
            dbs[name] = sqlite3.connect(Path(tmp) / name)
        sids = dict(dbs["assets-7.sqlite"].execute("SELECT symbol, sid FROM equity_symbol_mappings"))
        adjustments = dbs["adjustments.sqlite"]
        out: dict[str, bytes] = {}
        for symbol in SYMBOLS:
            sid = sids[symbol]
            if adjustments.execute("SELECT COUNT(*) FROM splits WHERE sid = ?", (sid,)).fetchone()[0]:
                raise SystemExit(f"{symbol}: has splits; its raw closes would not be split-adjusted")
            rows = np.flatnonzero(cols["id"] == sid)
            first, last = attrs["first_row"][str(sid)], attrs["last_row"][str(sid)]
            if rows[0] != first or rows[-1] != last or len(rows) != last - first + 1:
                raise SystemExit(f"{symbol}: rows {rows[0]}..{rows[-1]} disagree with __attrs__ {first}..{last}")
            days = [_day(d) for d in cols["day"][rows]]
            if days != sorted(set(days)):
                raise SystemExit(f"{symbol}: dates not strictly increasing")
            px = {c: _cents(cols[c][rows], f"{symbol} {c}") for c in ("open", "high", "low", "close")}
            lines = ["Date,Open,High,Low,Close,Volume"]
            for i, day in enumerate(days):
                values = [f"{px[c][i] // 100}.{px[c][i] % 100:02d}" for c in ("open", "high", "low", "close")]
                lines.append(",".join([day, *values, str(int(cols["volume"][rows[i]]))]))
            out[f"{symbol.lower()}.csv"] = ("\n".join(lines) + "\n").encode("ascii")

            divs = adjustments.execute(
                "SELECT ex_date, amount, declared_date, record_date, pay_date FROM dividend_payouts WHERE sid = ? "
                "ORDER BY ex_date",
                (sid,),
            ).fetchall()
            nat = np.iinfo(np.int64).min
            if any(other != nat for *_, declared, record, pay in divs for other in (declared, record, pay)):
                raise SystemExit(f"{symbol}: the bundle now has declared/record/pay dates; write them too")
            day_set = set(days)
            lines = ["ex_date,amount"]
            for ex, amount, *_ in divs:
                if _day(ex) not in day_set or not amount > 0:
                    raise SystemExit(f"{symbol}: dividend {_day(ex)} {amount} is off the bars or not positive")
                lines.append(f"{_day(ex)},{float(amount)!r}")
            out[f"{symbol.lower()}_dividends.csv"] = ("\n".join(lines) + "\n").encode("ascii")
        for db in dbs.values():
            db.close()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("sdist", type=Path, help="zipline_reloaded-3.2.1.tar.gz as downloaded from PyPI")
    parser.add_argument("--out", type=Path, default=DATA_DIR, help="where to write (default: data/)")
    parser.add_argument("--check", action="store_true", help="compare with the files in --out, write nothing")
    args = parser.parse_args(argv)
    outputs = build(read_bundle(args.sdist))
    differ = False
    for name, data in outputs.items():
        path = args.out / name
        if args.check:
            same = path.is_file() and path.read_bytes() == data
            differ |= not same
            print(f"{'ok  ' if same else 'DIFF'} {name} {_sha256(data)}")
        else:
            path.write_bytes(data)
            rows = data.count(b"\n") - 1
            print(f"wrote {path} ({rows} rows) {_sha256(data)}")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
