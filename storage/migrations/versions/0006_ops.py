"""operators and crawl-health escalation: repeated reminders of one finding occurrence (`alerts.seq`,
part of the unique key), per-county crawl-health overrides (`counties.health`)

Revision ID: 0006_ops
Revises: 0005_review
Create Date: 2026-12-07 16:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_ops"
down_revision: str | None = "0005_review"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("counties", sa.Column("health", sa.JSON(), nullable=True))
    op.add_column("alerts", sa.Column("seq", sa.Integer(), nullable=False, server_default=sa.text("0")))
    with op.batch_alter_table("alerts", schema=None) as batch_op:  # nothing points at alerts
        batch_op.drop_constraint("uq_alerts_subscriber_id", type_="unique")
        batch_op.create_unique_constraint("uq_alerts_subscriber_id",
                                          ["subscriber_id", "finding_id", "occurrence", "kind", "seq"])


def downgrade() -> None:
    op.execute("DELETE FROM alerts WHERE seq <> 0")
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_constraint("uq_alerts_subscriber_id", type_="unique")
        batch_op.create_unique_constraint("uq_alerts_subscriber_id",
                                          ["subscriber_id", "finding_id", "occurrence", "kind"])
        batch_op.drop_column("seq")
    op.drop_column("counties", "health")
