"""review: the audit trail of reviews names the finding it was made on, its rule and county, and
the state it replaced; reviews of one fingerprint are read in order by an index

Revision ID: 0005_review
Revises: 0003_service_layer
Create Date: 2026-12-07 16:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_review"
down_revision: str | None = "0003_service_layer"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # plain ADD COLUMN: existing rows keep their fingerprint, state, reason, by and at
    op.add_column("reviews", sa.Column("finding_id", sa.Integer(), nullable=True))
    op.add_column("reviews", sa.Column("rule_id", sa.String(length=20), nullable=True))
    op.add_column("reviews", sa.Column("county_code", sa.String(length=6), nullable=True))
    op.add_column("reviews", sa.Column("previous_state", sa.String(length=20), nullable=True))
    op.create_index("ix_reviews_fingerprint_id", "reviews", ["finding_fingerprint", "id"])
    op.create_index("ix_reviews_county_code", "reviews", ["county_code"])
    # the state written by older code for a person's undo
    op.execute("UPDATE reviews SET state = 'open' WHERE state = 'reopened'")


def downgrade() -> None:
    op.execute("UPDATE reviews SET state = 'reopened' WHERE state = 'open'")
    op.execute("DELETE FROM reviews WHERE state = 'fixed'")
    op.drop_index("ix_reviews_county_code", "reviews")
    op.drop_index("ix_reviews_fingerprint_id", "reviews")
    for column in ("previous_state", "county_code", "rule_id", "finding_id"):
        op.drop_column("reviews", column)  # SQLite ≥ 3.35 drops a plain column in place
