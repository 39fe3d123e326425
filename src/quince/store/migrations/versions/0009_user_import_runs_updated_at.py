"""user import runs: updated_at

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25 18:00:00

When a run last wrote progress: a queued or running import that has not moved for five minutes
lost its process and is shown as interrupted (finished_at keeps meaning when a run ended).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("user_import_runs") as batch_op:
        batch_op.add_column(sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False,
                                      server_default=sa.func.current_timestamp()))
    with op.batch_alter_table("user_import_runs") as batch_op:
        batch_op.alter_column("updated_at", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("user_import_runs") as batch_op:
        batch_op.drop_column("updated_at")
