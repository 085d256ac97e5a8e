"""The sessions kept under a subject (subjects/store.py) for progress against a person's own baseline, and each
owner's subject settings.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

from softskills.db.base import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "subject_sessions",
        sa.Column("id", sa.String(24), primary_key=True),
        sa.Column("owner", sa.String(128), nullable=False),
        sa.Column("subject", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False, index=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("params_version", sa.String(16), nullable=False),
        sa.Column("metrics", sa.Text, nullable=False),
        sa.Column("scores", sa.Text, nullable=False),
        sa.Column("transcript", sa.Text, nullable=True),
    )
    op.create_index(
        "ix_subject_sessions_owner_subject_created_at", "subject_sessions", ["owner", "subject", "created_at"]
    )
    op.create_table(
        "subject_settings",
        sa.Column("owner", sa.String(128), primary_key=True),
        sa.Column("keep_transcripts", sa.Boolean, nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("subject_settings")
    op.drop_index("ix_subject_sessions_owner_subject_created_at", table_name="subject_sessions")
    op.drop_table("subject_sessions")
