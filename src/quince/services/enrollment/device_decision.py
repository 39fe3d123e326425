"""The enrollment decision that made a device record (its session, with the decision trace)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from quince.store.models import EnrollmentSessionRow


async def for_device(db: AsyncSession, device_id: int) -> EnrollmentSessionRow | None:
    """The enrollment session whose placeholder became device `device_id`, when there is one."""
    found: EnrollmentSessionRow | None = await db.scalar(
        select(EnrollmentSessionRow).where(EnrollmentSessionRow.device_id == device_id)
    )
    return found
