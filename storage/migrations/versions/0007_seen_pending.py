"""seen_urls: a partial index on the documents waiting to be ingested (`ix_seen_urls_pending`), read
by the deadline sweep's crawl states and the pipeline's pending list instead of the whole table

Revision ID: 0007_seen_pending
Revises: 0006_ops
Create Date: 2026-12-07 18:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_seen_pending"
down_revision: str | None = "0006_ops"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# the same text as storage.models.SEEN_PENDING (a migration does not import the live model)
PENDING = sa.text("document_id IS NOT NULL AND (ingested_document_id IS NULL "
                  "OR ingested_document_id <> document_id)")


def upgrade() -> None:
    op.create_index("ix_seen_urls_pending", "seen_urls", ["county_code"],
                    sqlite_where=PENDING, postgresql_where=PENDING)


def downgrade() -> None:
    op.drop_index("ix_seen_urls_pending", "seen_urls")
