"""Jobs (long analyses through the task queue, and the dashboard's reports), their webhook attempts, and each owner's
webhook signing secret.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

from softskills.db.base import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("owner", sa.String(128), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("analysis", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=True),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("expires_at", UTCDateTime(), nullable=True, index=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("heartbeat_at", UTCDateTime(), nullable=True),
        sa.Column("enqueued_at", UTCDateTime(), nullable=True),
        sa.Column("request", sa.Text, nullable=False),
        sa.Column("base_url", sa.String(2048), nullable=False),
        sa.Column("upload_object", sa.String(512), nullable=True),
        sa.Column("upload_reservation", sa.BigInteger, nullable=True),
        sa.Column("result", sa.Text, nullable=True),
        sa.Column("overall_score", sa.Float, nullable=True),
        sa.Column("category_scores", sa.Text, nullable=True),
        sa.Column("error_status", sa.Integer, nullable=True),
        sa.Column("error_detail", sa.Text, nullable=True),
        sa.Column("idempotency_key", sa.String(255), nullable=True),
        sa.Column("request_hash", sa.String(64), nullable=True),
        sa.Column("idempotency_expires_at", UTCDateTime(), nullable=True),
        sa.Column("webhook_url", sa.String(2048), nullable=True),
        sa.Column("webhook_state", sa.String(16), nullable=True),
        sa.Column("webhook_attempts", sa.Integer, nullable=False),
        sa.Column("webhook_next_at", UTCDateTime(), nullable=True),
        sa.Column("webhook_enqueued_at", UTCDateTime(), nullable=True),
        sa.UniqueConstraint("owner", "idempotency_key", name="uq_jobs_owner_idempotency_key"),
    )
    op.create_index("ix_jobs_owner_created_at", "jobs", ["owner", "created_at"])
    op.create_table(
        "webhook_attempts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("job_id", sa.String(40), sa.ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("status_code", sa.Integer, nullable=True),
        sa.Column("error", sa.String(300), nullable=True),
        sa.Column("duration_ms", sa.Integer, nullable=False),
    )
    op.create_table(
        "webhook_secrets",
        sa.Column("owner", sa.String(128), primary_key=True),
        sa.Column("ciphertext", sa.LargeBinary(128), nullable=False),
        sa.Column("pepper_version", sa.Integer, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("previous_ciphertext", sa.LargeBinary(128), nullable=True),
        sa.Column("previous_pepper_version", sa.Integer, nullable=True),
        sa.Column("previous_valid_until", UTCDateTime(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("webhook_secrets")
    op.drop_table("webhook_attempts")
    op.drop_index("ix_jobs_owner_created_at", table_name="jobs")
    op.drop_table("jobs")
