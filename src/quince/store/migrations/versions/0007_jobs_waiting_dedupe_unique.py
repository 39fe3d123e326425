"""jobs: one waiting job per dedupe key

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 18:20:00

Two transactions enqueuing the same (kind, dedupe_key) at the same moment could each see no waiting
job and add one: a duplicate push. A partial unique index over waiting jobs makes the second insert
a no-op (INSERT ... ON CONFLICT DO NOTHING in services/jobs.enqueue). Waiting duplicates already
stored are coalesced into the oldest first, as enqueue would have done.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WAITING = sa.text("status = 'waiting'")


def upgrade() -> None:
    op.execute(
        "DELETE FROM jobs WHERE status = 'waiting' AND dedupe_key IS NOT NULL AND id NOT IN ("
        "SELECT MIN(id) FROM jobs WHERE status = 'waiting' AND dedupe_key IS NOT NULL "
        "GROUP BY kind, dedupe_key)"
    )
    op.create_index("uq_jobs_waiting_dedupe", "jobs", ["kind", "dedupe_key"], unique=True,
                    sqlite_where=WAITING, postgresql_where=WAITING)


def downgrade() -> None:
    op.drop_index("uq_jobs_waiting_dedupe", table_name="jobs")
