"""Install-wide counts for monitoring (not scoped: the operator's view): devices by enrollment
status and background jobs by kind and status."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from quince.store import dashboard_figures
from quince.store import jobs as stored_jobs


async def devices_by_status(db: AsyncSession) -> dict[str, int]:
    return await dashboard_figures.devices_by_status(db)


async def jobs_by_kind_and_status(db: AsyncSession) -> dict[tuple[str, str], int]:
    return await stored_jobs.counts_by_kind_and_status(db)
