"""portfolios of position cells

Revision ID: 0004_portfolios
Revises: 0003_schedules
Create Date: 2026-12-07 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_portfolios"
down_revision = "0003_schedules"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "portfolios",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("rules", sa.Text(), nullable=False),
        sa.Column("cells", sa.Text(), nullable=False),
        sa.Column("engine_version", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("metrics", sa.Text(), nullable=False),
        sa.Column("total_return", sa.Double(), nullable=True),
        sa.Column("sharpe", sa.Double(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portfolios")),
    )
    with op.batch_alter_table("portfolios", schema=None) as batch_op:
        for column in ("name", "created_at", "total_return", "sharpe"):
            batch_op.create_index(batch_op.f(f"ix_portfolios_{column}"), [column], unique=False)
    op.create_table(
        "portfolio_trades",
        sa.Column("portfolio_id", sa.Integer(), nullable=False),
        sa.Column("n_rows", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["portfolio_id"], ["portfolios.id"],
                                name=op.f("fk_portfolio_trades_portfolio_id_portfolios"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("portfolio_id", name=op.f("pk_portfolio_trades")),
    )


def downgrade() -> None:
    op.drop_table("portfolio_trades")
    with op.batch_alter_table("portfolios", schema=None) as batch_op:
        for column in ("name", "created_at", "total_return", "sharpe"):
            batch_op.drop_index(batch_op.f(f"ix_portfolios_{column}"))
    op.drop_table("portfolios")
