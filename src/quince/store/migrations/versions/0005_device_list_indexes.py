"""device list indexes

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 16:45:00

The device list sorted by last seen, newest first (the console's usual sort), is
`ORDER BY last_seen_at DESC NULLS LAST, id`. On PostgreSQL the plain index on last_seen_at scanned
backwards gives NULLS FIRST, so every search read and sorted all devices: 70 ms of query at
100,000 devices, p95 245 ms over HTTP on a busy 2-core machine (docs/performance.md). This index
matches the order, so a page reads 50 index entries. SQLite already sorts NULLs first, so its
backward scan of ix_devices_last_seen_at gives that order, and it has no NULLS LAST in indexes.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.create_index("ix_devices_last_seen_desc", "devices",
                        [sa.text("last_seen_at DESC NULLS LAST"), "id"])


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_devices_last_seen_desc", table_name="devices")
