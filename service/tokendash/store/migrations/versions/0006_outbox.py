"""outbox: alert transitions and digests waiting to be delivered to each webhook, written in the same
transaction as the alert change, sent (and marked delivered) by the sidecar's delivery thread

Revision ID: 0006_outbox
Revises: 0005_superseded
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_outbox"
down_revision = "0005_superseded"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("webhook", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("alert_id", sa.String(256)),
        sa.Column("transition", sa.String(16)),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
        sa.Column("next_attempt_ms", sa.BigInteger, nullable=False),
        sa.Column("delivered_ms", sa.BigInteger),
        sa.Column("last_error", sa.Text),
    )
    # The head of each webhook's queue (the oldest pending row) and the expiry sweep read this index.
    op.create_index("ix_outbox_state_webhook_created", "outbox", ["state", "webhook", "created_ms"])


def downgrade() -> None:
    op.drop_index("ix_outbox_state_webhook_created", table_name="outbox")
    op.drop_table("outbox")
