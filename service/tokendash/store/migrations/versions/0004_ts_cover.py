"""the time index carries the summed columns, so a report by day, week or month reads only the index

Revision ID: 0004_ts_cover
Revises: 0003_alerts
"""

from alembic import op

revision = "0004_ts_cover"
down_revision = "0003_alerts"
branch_labels = None
depends_on = None

COLUMNS = ["ts_ms", "input", "output", "cache_read", "cache_write", "reasoning", "cost_nusd", "cost_source"]


def upgrade() -> None:
    op.drop_index("ix_usage_events_ts", table_name="usage_events")
    op.create_index("ix_usage_events_ts_cover", "usage_events", COLUMNS)


def downgrade() -> None:
    op.drop_index("ix_usage_events_ts_cover", table_name="usage_events")
    op.create_index("ix_usage_events_ts", "usage_events", ["ts_ms"])
