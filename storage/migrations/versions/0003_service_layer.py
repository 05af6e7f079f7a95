"""service layer: finding occurrences, alerts keyed on them, one running crawl per county, the
crawler's memory of list pages in the database, the process that runs a crawl

Revision ID: 0003_service_layer
Revises: 0002
Create Date: 2026-12-07 15:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_service_layer"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RUNNING = sa.text("status = 'running'")


def upgrade() -> None:
    # plain ADD COLUMN (no table copy on SQLite: other tables' foreign keys point at findings)
    op.add_column("findings", sa.Column("occurrence", sa.Integer(), nullable=False, server_default=sa.text("1")))
    op.add_column("alerts", sa.Column("occurrence", sa.Integer(), nullable=False, server_default=sa.text("1")))
    with op.batch_alter_table("alerts", schema=None) as batch_op:  # nothing points at alerts
        batch_op.drop_constraint("uq_alerts_subscriber_id", type_="unique")
        batch_op.create_unique_constraint("uq_alerts_subscriber_id",
                                          ["subscriber_id", "finding_id", "occurrence", "kind"])
    op.add_column("crawl_runs", sa.Column("host", sa.String(length=255), nullable=True))
    op.add_column("crawl_runs", sa.Column("pid", sa.Integer(), nullable=True))
    # Runs left `running` by an older version cannot be told apart from live ones: they would
    # block the county forever under the new index, so they are failed here.
    op.execute("UPDATE crawl_runs SET status = 'failed', error = 'left running before the upgrade' "
               "WHERE status = 'running'")
    op.create_index("uq_crawl_runs_running", "crawl_runs", ["county_code"], unique=True,
                    sqlite_where=RUNNING, postgresql_where=RUNNING)
    op.create_table(
        "crawl_pages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("root", sa.Text(), nullable=True),
        sa.Column("etag", sa.String(length=500), nullable=True),
        sa.Column("last_modified", sa.String(length=100), nullable=True),
        sa.Column("links", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["county_code"], ["counties.code"], name=op.f("fk_crawl_pages_county_code_counties")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crawl_pages")),
        sa.UniqueConstraint("county_code", "kind", "url", name=op.f("uq_crawl_pages_county_code")),
    )


def downgrade() -> None:
    op.drop_table("crawl_pages")
    op.drop_index("uq_crawl_runs_running", "crawl_runs")
    op.drop_column("crawl_runs", "pid")  # SQLite ≥ 3.35 drops a plain column in place
    op.drop_column("crawl_runs", "host")
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_constraint("uq_alerts_subscriber_id", type_="unique")
        batch_op.create_unique_constraint("uq_alerts_subscriber_id", ["subscriber_id", "finding_id", "kind"])
        batch_op.drop_column("occurrence")
    op.drop_column("findings", "occurrence")
