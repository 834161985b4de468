"""superseded keys: events replaced by a finer source (an OpenClaw run recorded live, then read from
its transcript), so a late copy is not stored again

Revision ID: 0005_superseded
Revises: 0004_ts_cover
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_superseded"
down_revision = "0004_ts_cover"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "superseded_keys",
        sa.Column("source", sa.String(64), primary_key=True),
        sa.Column("dedupe_key", sa.String(512), primary_key=True),
        sa.Column("by_source", sa.String(64), nullable=False),
        sa.Column("ts_ms", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("superseded_keys")
