"""Queries of placeholder device records (DESIGN.md rule 2): the ones that never completed, and
marking them superseded."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, and_, update
from sqlalchemy.ext.asyncio import AsyncSession

from quince.domain.devices import EnrollmentStatus
from quince.store.models import DeviceRow


def never_completed() -> ColumnElement[bool]:
    """Records whose device never completed enrollment: still EnrollmentInProgress and never
    enrolled (a completed record is Enrolled, or Unenrolled with its enrollment date kept)."""
    return and_(
        DeviceRow.enrollment_status == EnrollmentStatus.ENROLLMENT_IN_PROGRESS.value,
        DeviceRow.enrolled_at.is_(None),
    )


async def mark_superseded(db: AsyncSession, user_id: int, newer_id: int, now: datetime) -> tuple[int, ...]:
    """Mark the user's records other than `newer_id` that never completed and are not superseded
    yet as superseded by `newer_id`, in one guarded UPDATE; their ids."""
    return tuple(await db.scalars(
        update(DeviceRow)
        .where(
            DeviceRow.enrollment_user_id == user_id,
            DeviceRow.id != newer_id,
            never_completed(),
            DeviceRow.superseded_by_device_id.is_(None),
        )
        .values(superseded_by_device_id=newer_id, superseded_at=now)
        .returning(DeviceRow.id)
    ))
