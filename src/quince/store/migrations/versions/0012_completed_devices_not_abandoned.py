"""completed devices are not abandoned placeholders

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 12:00:00

Data only. Before this release a placeholder superseded by a newer sign-in of the same person kept
its supersession mark when its device completed enrollment after all (an iPhone and an iPad
signing in at about the same time), so a working device showed "Enrolled" and "Abandoned —
replaced by #N" on the same row. A record that ever completed enrollment (no longer
EnrollmentInProgress, or with an enrollment date) is not a placeholder: its mark goes. Downgrading
keeps the repair.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    devices = sa.table(
        "devices",
        sa.column("superseded_by_device_id", sa.Integer),
        sa.column("superseded_at", sa.DateTime(timezone=True)),
        sa.column("enrollment_status", sa.String(32)),
        sa.column("enrolled_at", sa.DateTime(timezone=True)),
    )
    completed = sa.or_(devices.c.enrollment_status != "EnrollmentInProgress",
                       devices.c.enrolled_at.is_not(None))
    op.execute(
        devices.update()
        .where(devices.c.superseded_by_device_id.is_not(None), completed)
        .values(superseded_by_device_id=None, superseded_at=None)
    )


def downgrade() -> None:
    pass  # the repaired marks described records that were wrong: nothing to restore
