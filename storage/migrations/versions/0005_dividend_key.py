"""two dividends of a position on one ex-date (a regular and a special one)

A position's dividend was unique by ex-date, so a special dividend paid with the regular one could not be booked
while the simulator books both (docs/strategy.md §2 keeps equal ex-dates in input order). The key becomes
(position, ex-date, amount per share): booking the same dividend twice is still refused.

Revision ID: 0005_dividend_key
Revises: 0004_portfolios
Create Date: 2026-12-07 10:10:00
"""

from __future__ import annotations

from alembic import op

revision = "0005_dividend_key"
down_revision = "0004_portfolios"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("position_dividends", schema=None) as batch_op:
        batch_op.drop_constraint("uq_position_dividends_position_id_ex_date", type_="unique")
        batch_op.create_unique_constraint(
            "uq_position_dividends_position_id_ex_date_amount_per_share", ["position_id", "ex_date", "amount_per_share"]
        )


def downgrade() -> None:
    with op.batch_alter_table("position_dividends", schema=None) as batch_op:
        batch_op.drop_constraint("uq_position_dividends_position_id_ex_date_amount_per_share", type_="unique")
        batch_op.create_unique_constraint("uq_position_dividends_position_id_ex_date", ["position_id", "ex_date"])
