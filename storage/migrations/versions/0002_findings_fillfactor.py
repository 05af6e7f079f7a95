"""findings: fillfactor 80 on PostgreSQL (HOT updates for the daily last_seen_at refresh)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 13:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE findings SET (fillfactor = 80)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE findings RESET (fillfactor)")
