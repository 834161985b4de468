"""alerts: one row per alert (kind and scope), open or resolved, with first and last seen

Revision ID: 0003_alerts
Revises: 0002_providers
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_alerts"
down_revision = "0002_providers"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", sa.String(256), primary_key=True),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("scope", sa.String(256), nullable=False),
        sa.Column("provider_id", sa.String(64)),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("first_seen_ms", sa.BigInteger, nullable=False),
        sa.Column("last_seen_ms", sa.BigInteger, nullable=False),
        sa.Column("resolved_ms", sa.BigInteger),
    )
    op.create_index("ix_alerts_state", "alerts", ["state"])


def downgrade() -> None:
    op.drop_index("ix_alerts_state", table_name="alerts")
    op.drop_table("alerts")
