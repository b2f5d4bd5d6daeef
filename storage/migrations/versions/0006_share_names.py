"""fractions named as fractions: initial_stock_pct → initial_stock_share, max_trade_pct → max_trade_share,
pct_time_in_band → time_in_band_share

The stored configurations (runs, presets, positions, portfolio cells, studies' base configurations and search
spaces, trials' parameters) and metrics (runs, trials, portfolios, studies' objectives and constraints) are JSON
text; the old names are replaced in place, so stored runs re-run bit for bit under the new names. The numbers do not
change. Earlier names are still read from outside the store (core.config_registry.RENAMED_FIELDS).

Revision ID: 0006_share_names
Revises: 0005_dividend_key
Create Date: 2026-12-07 11:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_share_names"
down_revision = "0005_dividend_key"
branch_labels = None
depends_on = None

RENAMES = (("initial_stock_pct", "initial_stock_share"), ("max_trade_pct", "max_trade_share"),
           ("pct_time_in_band", "time_in_band_share"))
JSON_COLUMNS = {
    "runs": ("config", "metrics"),
    "trials": ("params", "metrics"),
    "studies": ("objective", "search_space", "constraints", "base_config"),
    "presets": ("config",),
    "positions": ("config",),
    "portfolios": ("cells", "metrics"),
}


def _rename(pairs: tuple[tuple[str, str], ...]) -> None:
    for table, columns in JSON_COLUMNS.items():
        for column in columns:
            for old, new in pairs:
                # REPLACE is the same function on SQLite and PostgreSQL; the names occur only as JSON keys and
                # metric names in these columns.
                op.execute(sa.text(f"UPDATE {table} SET {column} = REPLACE({column}, :old, :new) "
                                   f"WHERE {column} LIKE :pattern").bindparams(old=old, new=new, pattern=f"%{old}%"))


def upgrade() -> None:
    _rename(RENAMES)


def downgrade() -> None:
    _rename(tuple((new, old) for old, new in RENAMES))
