"""positions: held positions, orders, fills, dividends, cash flows, anchor changes, events, idempotency keys

Revision ID: 0002_positions
Revises: 0001
Create Date: 2026-11-24 05:36:29.609965
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_positions"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "position_idempotency",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("operation", sa.String(length=40), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("result", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_position_idempotency")),
    )
    op.create_index(op.f("ix_position_idempotency_expires_at"), "position_idempotency", ["expires_at"], unique=False)

    op.create_table(
        "positions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticker", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("config", sa.Text(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("shares", sa.Double(), nullable=False),
        sa.Column("cash", sa.Double(), nullable=False),
        sa.Column("receivable", sa.Double(), nullable=False),
        sa.Column("anchor", sa.Double(), nullable=False),
        sa.Column("orders_today", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_positions")),
    )
    op.create_index(op.f("ix_positions_status"), "positions", ["status"], unique=False)
    op.create_index(op.f("ix_positions_ticker"), "positions", ["ticker"], unique=False)

    op.create_table(
        "position_anchor_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("position_id", sa.Integer(), nullable=False),
        sa.Column("old_anchor", sa.Double(), nullable=False),
        sa.Column("new_anchor", sa.Double(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["position_id"],
            ["positions.id"],
            name=op.f("fk_position_anchor_changes_position_id_positions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_position_anchor_changes")),
    )
    op.create_index(
        op.f("ix_position_anchor_changes_position_id"), "position_anchor_changes", ["position_id"], unique=False
    )

    op.create_table(
        "position_cash_flows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("position_id", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Double(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["position_id"],
            ["positions.id"],
            name=op.f("fk_position_cash_flows_position_id_positions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_position_cash_flows")),
    )
    op.create_index(op.f("ix_position_cash_flows_position_id"), "position_cash_flows", ["position_id"], unique=False)

    op.create_table(
        "position_dividends",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("position_id", sa.Integer(), nullable=False),
        sa.Column("ex_date", sa.Date(), nullable=False),
        sa.Column("pay_date", sa.Date(), nullable=False),
        sa.Column("amount_per_share", sa.Double(), nullable=False),
        sa.Column("shares", sa.Double(), nullable=False),
        sa.Column("gross", sa.Double(), nullable=False),
        sa.Column("net", sa.Double(), nullable=False),
        sa.Column("anchor_before", sa.Double(), nullable=False),
        sa.Column("anchor_after", sa.Double(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("paid_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["position_id"],
            ["positions.id"],
            name=op.f("fk_position_dividends_position_id_positions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_position_dividends")),
        sa.UniqueConstraint("position_id", "ex_date", name=op.f("uq_position_dividends_position_id_ex_date")),
    )
    op.create_index(op.f("ix_position_dividends_position_id"), "position_dividends", ["position_id"], unique=False)

    op.create_table(
        "position_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("position_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("shares", sa.Double(), nullable=False),
        sa.Column("cash", sa.Double(), nullable=False),
        sa.Column("receivable", sa.Double(), nullable=False),
        sa.Column("anchor", sa.Double(), nullable=False),
        sa.ForeignKeyConstraint(
            ["position_id"], ["positions.id"], name=op.f("fk_position_events_position_id_positions"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_position_events")),
    )
    op.create_index(op.f("ix_position_events_position_id"), "position_events", ["position_id"], unique=False)

    op.create_table(
        "position_orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("position_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("side", sa.String(length=4), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("qty", sa.Double(), nullable=False),
        sa.Column("raw_qty", sa.Double(), nullable=False),
        sa.Column("price", sa.Double(), nullable=False),
        sa.Column("commission", sa.Double(), nullable=False),
        sa.Column("projected_asset_pct", sa.Double(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["position_id"], ["positions.id"], name=op.f("fk_position_orders_position_id_positions"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_position_orders")),
    )
    op.create_index(op.f("ix_position_orders_position_id"), "position_orders", ["position_id"], unique=False)
    op.create_index(op.f("ix_position_orders_status"), "position_orders", ["status"], unique=False)

    op.create_table(
        "position_fills",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("position_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("side", sa.String(length=4), nullable=False),
        sa.Column("qty", sa.Double(), nullable=False),
        sa.Column("price", sa.Double(), nullable=False),
        sa.Column("commission", sa.Double(), nullable=False),
        sa.Column("filled_at", sa.DateTime(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["position_orders.id"],
            name=op.f("fk_position_fills_order_id_position_orders"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["position_id"], ["positions.id"], name=op.f("fk_position_fills_position_id_positions"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_position_fills")),
    )
    op.create_index(op.f("ix_position_fills_order_id"), "position_fills", ["order_id"], unique=False)
    op.create_index(op.f("ix_position_fills_position_id"), "position_fills", ["position_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_position_fills_position_id"), table_name="position_fills")
    op.drop_index(op.f("ix_position_fills_order_id"), table_name="position_fills")

    op.drop_table("position_fills")
    op.drop_index(op.f("ix_position_orders_status"), table_name="position_orders")
    op.drop_index(op.f("ix_position_orders_position_id"), table_name="position_orders")

    op.drop_table("position_orders")
    op.drop_index(op.f("ix_position_events_position_id"), table_name="position_events")

    op.drop_table("position_events")
    op.drop_index(op.f("ix_position_dividends_position_id"), table_name="position_dividends")

    op.drop_table("position_dividends")
    op.drop_index(op.f("ix_position_cash_flows_position_id"), table_name="position_cash_flows")

    op.drop_table("position_cash_flows")
    op.drop_index(op.f("ix_position_anchor_changes_position_id"), table_name="position_anchor_changes")

    op.drop_table("position_anchor_changes")
    op.drop_index(op.f("ix_positions_ticker"), table_name="positions")
    op.drop_index(op.f("ix_positions_status"), table_name="positions")

    op.drop_table("positions")
    op.drop_index(op.f("ix_position_idempotency_expires_at"), table_name="position_idempotency")

    op.drop_table("position_idempotency")
