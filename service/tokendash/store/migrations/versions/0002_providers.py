"""provider billing: reported usage/cost buckets, balance history, provider poll state

Revision ID: 0002_providers
Revises: 0001_usage_ledger
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_providers"
down_revision = "0001_usage_ledger"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "provider_buckets",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("host", sa.String(128), nullable=False),
        sa.Column("provider", sa.String(64), nullable=False),
        sa.Column("endpoint", sa.String(64), nullable=False),
        sa.Column("start_ms", sa.BigInteger, nullable=False),
        sa.Column("end_ms", sa.BigInteger, nullable=False),
        sa.Column("dim", sa.String(512), nullable=False),
        sa.Column("model", sa.String(256)),
        sa.Column("input", sa.BigInteger, nullable=False),
        sa.Column("output", sa.BigInteger, nullable=False),
        sa.Column("cache_read", sa.BigInteger, nullable=False),
        sa.Column("cache_write", sa.BigInteger, nullable=False),
        sa.Column("reasoning", sa.BigInteger, nullable=False),
        sa.Column("requests", sa.BigInteger, nullable=False),
        sa.Column("cost_nano", sa.BigInteger),
        sa.Column("currency", sa.String(8)),
        sa.Column("cost_nusd", sa.BigInteger),
        sa.Column("updated_ms", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("provider", "endpoint", "start_ms", "dim", name="uq_provider_buckets"),
    )
    op.create_index("ix_provider_buckets_provider_start", "provider_buckets", ["provider", "start_ms"])
    op.create_table(
        "provider_balances",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("host", sa.String(128), nullable=False),
        sa.Column("provider", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("key", sa.String(128), nullable=False),
        sa.Column("ts_ms", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(8), nullable=False),
        sa.Column("amount_nano", sa.BigInteger),
        sa.Column("limit_nano", sa.BigInteger),
        sa.Column("amount_nusd", sa.BigInteger),
        sa.Column("extra", sa.Text, nullable=False),
        sa.UniqueConstraint("provider", "kind", "key", "ts_ms", name="uq_provider_balances"),
    )
    op.create_index("ix_provider_balances_provider_ts", "provider_balances", ["provider", "ts_ms"])
    op.create_table(
        "provider_state",
        sa.Column("provider", sa.String(64), primary_key=True),
        sa.Column("last_poll_ms", sa.BigInteger),
        sa.Column("last_success_ms", sa.BigInteger),
        sa.Column("error", sa.Text),
        sa.Column("endpoints", sa.Text, nullable=False),
        sa.Column("items", sa.BigInteger, nullable=False),
        sa.Column("requests", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    for name in ("provider_state", "provider_balances", "provider_buckets"):
        op.drop_table(name)
