"""initial schema

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-24 05:09:39.882795
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("entity", sa.String(length=40), nullable=False),
        sa.Column("entity_id", sa.String(length=100), nullable=True),
        sa.Column("details", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_at"), "audit_log", ["at"], unique=False)

    op.create_table(
        "datasets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("symbol", sa.String(length=40), nullable=False),
        sa.Column("interval", sa.String(length=10), nullable=False),
        sa.Column("price_basis", sa.String(length=20), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=True),
        sa.Column("first_ts", sa.DateTime(), nullable=True),
        sa.Column("last_ts", sa.DateTime(), nullable=True),
        sa.Column("n_rows", sa.Integer(), nullable=False),
        sa.Column("n_dividends", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_datasets")),
        sa.UniqueConstraint("name", "sha256", name=op.f("uq_datasets_name_sha256")),
    )
    op.create_index(op.f("ix_datasets_name"), "datasets", ["name"], unique=False)
    op.create_index(op.f("ix_datasets_sha256"), "datasets", ["sha256"], unique=False)
    op.create_index(op.f("ix_datasets_symbol"), "datasets", ["symbol"], unique=False)

    op.create_table(
        "presets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("config", sa.Text(), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_presets")),
        sa.UniqueConstraint("name", name=op.f("uq_presets_name")),
    )
    op.create_table(
        "dataset_data",
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("bars", sa.LargeBinary(), nullable=False),
        sa.Column("dividends", sa.LargeBinary(), nullable=False),
        sa.Column("splits", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["datasets.id"], name=op.f("fk_dataset_data_dataset_id_datasets"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("dataset_id", name=op.f("pk_dataset_data")),
    )
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("tags", sa.Text(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("config", sa.Text(), nullable=False),
        sa.Column("engine_version", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("metrics", sa.Text(), nullable=False),
        sa.Column("total_return", sa.Double(), nullable=True),
        sa.Column("cagr", sa.Double(), nullable=True),
        sa.Column("sharpe", sa.Double(), nullable=True),
        sa.Column("max_drawdown", sa.Double(), nullable=True),
        sa.Column("n_trades", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["datasets.id"], name=op.f("fk_runs_dataset_id_datasets"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_runs")),
    )
    op.create_index(op.f("ix_runs_cagr"), "runs", ["cagr"], unique=False)
    op.create_index(op.f("ix_runs_created_at"), "runs", ["created_at"], unique=False)
    op.create_index(op.f("ix_runs_dataset_id"), "runs", ["dataset_id"], unique=False)
    op.create_index(op.f("ix_runs_max_drawdown"), "runs", ["max_drawdown"], unique=False)
    op.create_index(op.f("ix_runs_n_trades"), "runs", ["n_trades"], unique=False)
    op.create_index(op.f("ix_runs_name"), "runs", ["name"], unique=False)
    op.create_index(op.f("ix_runs_sharpe"), "runs", ["sharpe"], unique=False)
    op.create_index(op.f("ix_runs_total_return"), "runs", ["total_return"], unique=False)

    op.create_table(
        "studies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("method", sa.String(length=40), nullable=False),
        sa.Column("objective", sa.Text(), nullable=False),
        sa.Column("search_space", sa.Text(), nullable=False),
        sa.Column("constraints", sa.Text(), nullable=False),
        sa.Column("base_config", sa.Text(), nullable=True),
        sa.Column("seed", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("n_planned", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["datasets.id"], name=op.f("fk_studies_dataset_id_datasets"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_studies")),
    )
    op.create_index(op.f("ix_studies_dataset_id"), "studies", ["dataset_id"], unique=False)
    op.create_index(op.f("ix_studies_status"), "studies", ["status"], unique=False)

    op.create_table(
        "run_trades",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("n_rows", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name=op.f("fk_run_trades_run_id_runs"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_run_trades")),
    )
    op.create_table(
        "trials",
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("trial_index", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("metrics", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("duration_s", sa.Double(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("total_return", sa.Double(), nullable=True),
        sa.Column("cagr", sa.Double(), nullable=True),
        sa.Column("sharpe", sa.Double(), nullable=True),
        sa.Column("max_drawdown", sa.Double(), nullable=True),
        sa.Column("n_trades", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["study_id"], ["studies.id"], name=op.f("fk_trials_study_id_studies"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("study_id", "trial_index", name=op.f("pk_trials")),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_trials_study_id_cagr", "trials", ["study_id", "cagr"], unique=False)
    op.create_index("ix_trials_study_id_max_drawdown", "trials", ["study_id", "max_drawdown"], unique=False)
    op.create_index("ix_trials_study_id_n_trades", "trials", ["study_id", "n_trades"], unique=False)
    op.create_index("ix_trials_study_id_sharpe", "trials", ["study_id", "sharpe"], unique=False)
    op.create_index("ix_trials_study_id_status", "trials", ["study_id", "status"], unique=False)
    op.create_index("ix_trials_study_id_total_return", "trials", ["study_id", "total_return"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_trials_study_id_total_return", table_name="trials")
    op.drop_index("ix_trials_study_id_status", table_name="trials")
    op.drop_index("ix_trials_study_id_sharpe", table_name="trials")
    op.drop_index("ix_trials_study_id_n_trades", table_name="trials")
    op.drop_index("ix_trials_study_id_max_drawdown", table_name="trials")
    op.drop_index("ix_trials_study_id_cagr", table_name="trials")

    op.drop_table("trials")
    op.drop_table("run_trades")
    op.drop_index(op.f("ix_studies_status"), table_name="studies")
    op.drop_index(op.f("ix_studies_dataset_id"), table_name="studies")

    op.drop_table("studies")
    op.drop_index(op.f("ix_runs_total_return"), table_name="runs")
    op.drop_index(op.f("ix_runs_sharpe"), table_name="runs")
    op.drop_index(op.f("ix_runs_name"), table_name="runs")
    op.drop_index(op.f("ix_runs_n_trades"), table_name="runs")
    op.drop_index(op.f("ix_runs_max_drawdown"), table_name="runs")
    op.drop_index(op.f("ix_runs_dataset_id"), table_name="runs")
    op.drop_index(op.f("ix_runs_created_at"), table_name="runs")
    op.drop_index(op.f("ix_runs_cagr"), table_name="runs")

    op.drop_table("runs")
    op.drop_table("dataset_data")
    op.drop_table("presets")
    op.drop_index(op.f("ix_datasets_symbol"), table_name="datasets")
    op.drop_index(op.f("ix_datasets_sha256"), table_name="datasets")
    op.drop_index(op.f("ix_datasets_name"), table_name="datasets")

    op.drop_table("datasets")
    op.drop_index(op.f("ix_audit_log_at"), table_name="audit_log")

    op.drop_table("audit_log")
