"""stock shares named as shares: asset_pct → stock_share, pre_trade_asset_pct → pre_trade_stock_share,
asset_pct_after → stock_share_after, projected_asset_pct → projected_stock_share

The ledger's ``position_orders.projected_asset_pct`` column is renamed. The trade tables of runs and portfolios are
stored as frames (``storage.codec.encode_frame``: a magic prefix, then a zlib stream of a JSON header and the
column buffers); only the column names in the header change, the buffers are copied byte for byte, so every stored
number is unchanged and a stored run re-runs bit for bit. The format is decoded here, not through the codec, so
that this migration keeps working whatever the codec becomes.

Revision ID: 0007_stock_share_columns
Revises: 0006_share_names
Create Date: 2026-12-07 12:10:00
"""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Mapping

import sqlalchemy as sa
from alembic import op

revision = "0007_stock_share_columns"
down_revision = "0006_share_names"
branch_labels = None
depends_on = None

RENAMES: dict[str, str] = {
    "asset_pct": "stock_share",
    "pre_trade_asset_pct": "pre_trade_stock_share",
    "asset_pct_after": "stock_share_after",
}
# (table, key column, frame column) of every stored trade table.
FRAME_COLUMNS: tuple[tuple[str, str, str], ...] = (("run_trades", "run_id", "data"),
                                                   ("portfolio_trades", "portfolio_id", "data"))
_MAGIC = b"VBLF1"


def rename_frame_columns(blob: bytes, names: Mapping[str, str]) -> bytes | None:
    """The stored frame with its columns renamed, or None when none of ``names`` occurs (nothing to write)."""
    raw = zlib.decompress(bytes(blob)[len(_MAGIC):])
    (length,) = struct.unpack_from("<I", raw, 0)
    header = json.loads(raw[4 : 4 + length])
    if not any(spec["name"] in names for spec in header["columns"]):
        return None
    for spec in header["columns"]:
        spec["name"] = names.get(spec["name"], spec["name"])
    head = json.dumps(header, separators=(",", ":"), allow_nan=False).encode()
    return _MAGIC + zlib.compress(struct.pack("<I", len(head)) + head + raw[4 + length :], 1)


def _rename(names: Mapping[str, str], order_column: tuple[str, str]) -> None:
    conn = op.get_bind()
    for table, key, column in FRAME_COLUMNS:
        # One row at a time: a store with many long runs is never held in memory at once.
        for (row_key,) in conn.execute(sa.text(f"SELECT {key} FROM {table}")).all():
            blob = conn.execute(sa.text(f"SELECT {column} FROM {table} WHERE {key} = :k"), {"k": row_key}).scalar_one()
            renamed = rename_frame_columns(blob, names)
            if renamed is not None:
                conn.execute(sa.text(f"UPDATE {table} SET {column} = :blob WHERE {key} = :k")
                             .bindparams(sa.bindparam("blob", type_=sa.LargeBinary())), {"blob": renamed, "k": row_key})
    with op.batch_alter_table("position_orders", schema=None) as batch_op:
        batch_op.alter_column(order_column[0], new_column_name=order_column[1], existing_type=sa.Double(),
                              existing_nullable=True)


def upgrade() -> None:
    _rename(RENAMES, ("projected_asset_pct", "projected_stock_share"))


def downgrade() -> None:
    _rename({new: old for old, new in RENAMES.items()}, ("projected_stock_share", "projected_asset_pct"))
