"""rollups: raw usage events older than historyRetentionDays folded into 15-minute UTC buckets keyed by
every dimension reports group or filter on (``tokendash archive``), and the dedupe keys of the folded
events, so a re-read of the same log line is not counted again; the usage summary (15-minute buckets
without session and channel) that reports read instead of the events, and its dirty buckets

Revision ID: 0007_rollups
Revises: 0006_outbox
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_rollups"
down_revision = "0006_outbox"
branch_labels = None
depends_on = None

BUCKET_MS = 900_000
COVER = ["ts_ms", "input", "output", "cache_read", "cache_write", "reasoning", "cost_nusd", "cost_source", "requests"]


SUMMED = ("input", "output", "cache_read", "cache_write", "reasoning", "cost_nusd", "requests")


def _summary_columns() -> list[sa.Column]:
    return [
        sa.Column("ts_ms", sa.BigInteger, nullable=False),
        sa.Column("host", sa.String(128), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("provider", sa.String(128), nullable=False),
        sa.Column("model", sa.String(256), nullable=False),
        sa.Column("agent", sa.String(256)),
        sa.Column("project", sa.String(512)),
        sa.Column("cost_source", sa.String(16), nullable=False),
        sa.Column("input", sa.BigInteger, nullable=False),
        sa.Column("output", sa.BigInteger, nullable=False),
        sa.Column("cache_read", sa.BigInteger, nullable=False),
        sa.Column("cache_write", sa.BigInteger, nullable=False),
        sa.Column("reasoning", sa.BigInteger, nullable=False),
        sa.Column("cost_nusd", sa.BigInteger),
        sa.Column("requests", sa.BigInteger, nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "usage_rollups",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("ts_ms", sa.BigInteger, nullable=False),
        sa.Column("host", sa.String(128), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("provider", sa.String(128), nullable=False),
        sa.Column("model", sa.String(256), nullable=False),
        sa.Column("agent", sa.String(256)),
        sa.Column("project", sa.String(512)),
        sa.Column("session", sa.String(256)),
        sa.Column("channel", sa.String(128)),
        sa.Column("cost_source", sa.String(16), nullable=False),
        sa.Column("input", sa.BigInteger, nullable=False),
        sa.Column("output", sa.BigInteger, nullable=False),
        sa.Column("cache_read", sa.BigInteger, nullable=False),
        sa.Column("cache_write", sa.BigInteger, nullable=False),
        sa.Column("cache_write_1h", sa.BigInteger, nullable=False),
        sa.Column("reasoning", sa.BigInteger, nullable=False),
        sa.Column("cost_nusd", sa.BigInteger),
        sa.Column("requests", sa.BigInteger, nullable=False),
        sa.Column("archived_ms", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_usage_rollups_ts_cover", "usage_rollups", COVER)
    op.create_table(
        "archived_keys",
        sa.Column("source", sa.String(64), primary_key=True),
        sa.Column("dedupe_key", sa.String(512), primary_key=True),
    )
    op.create_table(
        "usage_summary",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        *_summary_columns(),
    )
    op.create_index("ix_usage_summary_ts", "usage_summary", ["ts_ms"])
    # The same by UTC day (whole days of a period: the dashboard, budgets, burn, /metrics) and, without
    # any dimension, by 15 minutes (reports by time alone, in any zone).
    op.create_table(
        "usage_summary_day",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        *_summary_columns(),
    )
    op.create_index("ix_usage_summary_day_ts", "usage_summary_day", ["ts_ms"])
    op.create_table(
        "usage_totals",
        sa.Column("ts_ms", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("cost_source", sa.String(16), primary_key=True),
        *[c for c in _summary_columns() if c.name in SUMMED],
    )
    op.create_table("dirty_buckets", sa.Column("ts_ms", sa.BigInteger, primary_key=True))
    # Every bucket of the events already stored is dirty: the first refresh builds the summary.
    op.execute(f"INSERT INTO dirty_buckets (ts_ms) SELECT DISTINCT (ts_ms / {BUCKET_MS}) * {BUCKET_MS} FROM usage_events")


def downgrade() -> None:
    op.drop_table("usage_totals")
    op.drop_index("ix_usage_summary_day_ts", table_name="usage_summary_day")
    op.drop_table("usage_summary_day")
    op.drop_table("dirty_buckets")
    op.drop_index("ix_usage_summary_ts", table_name="usage_summary")
    op.drop_table("usage_summary")
    op.drop_table("archived_keys")
    op.drop_index("ix_usage_rollups_ts_cover", table_name="usage_rollups")
    op.drop_table("usage_rollups")
