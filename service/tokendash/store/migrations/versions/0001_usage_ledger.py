"""usage ledger: events, file cursors, source state, snapshots, meta

Revision ID: 0001_usage_ledger
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001_usage_ledger"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "usage_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("host", sa.String(128), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("dedupe_key", sa.String(512), nullable=False),
        sa.Column("ts_ms", sa.BigInteger, nullable=False),
        sa.Column("provider", sa.String(128), nullable=False),
        sa.Column("model", sa.String(256), nullable=False),
        sa.Column("agent", sa.String(256)),
        sa.Column("project", sa.String(512)),
        sa.Column("session", sa.String(256)),
        sa.Column("channel", sa.String(128)),
        sa.Column("input", sa.BigInteger, nullable=False),
        sa.Column("output", sa.BigInteger, nullable=False),
        sa.Column("cache_read", sa.BigInteger, nullable=False),
        sa.Column("cache_write", sa.BigInteger, nullable=False),
        sa.Column("cache_write_1h", sa.BigInteger, nullable=False),
        sa.Column("reasoning", sa.BigInteger, nullable=False),
        sa.Column("rank", sa.BigInteger, nullable=False),
        sa.Column("cost_nusd", sa.BigInteger),
        sa.Column("cost_source", sa.String(16), nullable=False),
        sa.Column("model_fallback", sa.Boolean, nullable=False),
        sa.Column("ingested_ms", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("source", "dedupe_key", name="uq_usage_events_source_key"),
    )
    op.create_index("ix_usage_events_ts", "usage_events", ["ts_ms"])
    op.create_table(
        "file_cursors",
        sa.Column("source", sa.String(64), primary_key=True),
        sa.Column("path", sa.String(4096), primary_key=True),
        sa.Column("dev", sa.BigInteger, nullable=False),
        sa.Column("inode", sa.BigInteger, nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("mtime_ns", sa.BigInteger, nullable=False),
        sa.Column("offset", sa.BigInteger, nullable=False),
        sa.Column("parser_version", sa.Integer, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
    )
    op.create_table(
        "source_state",
        sa.Column("source", sa.String(64), primary_key=True),
        sa.Column("last_poll_ms", sa.BigInteger),
        sa.Column("last_success_ms", sa.BigInteger),
        sa.Column("error", sa.Text),
        sa.Column("items", sa.BigInteger, nullable=False),
        sa.Column("files", sa.BigInteger, nullable=False),
        sa.Column("malformed_lines", sa.BigInteger, nullable=False),
        sa.Column("problems", sa.Text, nullable=False),
    )
    op.create_table(
        "snapshots",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("host", sa.String(128), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("key", sa.String(256), nullable=False),
        sa.Column("ts_ms", sa.BigInteger, nullable=False),
        sa.Column("data", sa.Text, nullable=False),
        sa.UniqueConstraint("source", "kind", "key", "ts_ms", name="uq_snapshots"),
    )
    op.create_index("ix_snapshots_kind_ts", "snapshots", ["kind", "ts_ms"])
    op.create_table(
        "meta",
        sa.Column("key", sa.String(128), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )


def downgrade() -> None:
    for name in ("meta", "snapshots", "source_state", "file_cursors", "usage_events"):
        op.drop_table(name)
