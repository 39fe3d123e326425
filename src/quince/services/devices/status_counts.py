"""Install-wide counts for monitoring (not scoped: the operator's view): devices by enrollment
status and background jobs by kind and status."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from quince.store.models import DeviceRow, JobRow


async def devices_by_status(db: AsyncSession) -> dict[str, int]:
    rows = await db.execute(
        select(DeviceRow.enrollment_status, func.count()).group_by(DeviceRow.enrollment_status))
    return {status: count for status, count in rows.tuples()}


async def jobs_by_kind_and_status(db: AsyncSession) -> dict[tuple[str, str], int]:
    rows = await db.execute(
        select(JobRow.kind, JobRow.status, func.count()).group_by(JobRow.kind, JobRow.status))
    return {(kind, status): count for kind, status, count in rows.tuples()}
