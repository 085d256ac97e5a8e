"""Cross-replica locks (atomic sign-in throttling, video quotas) and the stored-video quota ledger.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

from softskills.db.base import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("named_locks", sa.Column("name", sa.String(64), primary_key=True))
    op.create_table(
        "stored_videos",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("owner", sa.String(128), nullable=False, index=True),
        sa.Column("size_bytes", sa.BigInteger, nullable=False),
        sa.Column("object_id", sa.String(512), nullable=True),
        sa.Column("expires_at", UTCDateTime(), nullable=False, index=True),
    )


def downgrade() -> None:
    op.drop_table("stored_videos")
    op.drop_table("named_locks")
