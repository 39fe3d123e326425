"""Install-wide counts for monitoring (not scoped: the operator's view): devices by enrollment
status and background jobs by kind and status."""

from __future__ import annotations

from quince.store import dashboard_figures
from quince.store import jobs as stored_jobs
from quince.store.database import Db


async def devices_by_status(db: Db) -> dict[str, int]:
    return await dashboard_figures.devices_by_status(db)


async def jobs_by_kind_and_status(db: Db) -> dict[tuple[str, str], int]:
    return await stored_jobs.counts_by_kind_and_status(db)
