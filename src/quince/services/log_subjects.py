"""What a log filter may name by UUID, looked up inside a scope: a device record or an enrollment."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from quince.services.scope import Scope
from quince.store.models import DeviceRow, EnrollmentSessionRow


async def device_by_uuid(db: AsyncSession, scope: Scope, raw: str) -> DeviceRow | None:
    """The device record whose UUID is `raw` (any case), when its OG is in `scope`."""
    found: DeviceRow | None = await db.scalar(
        select(DeviceRow).where(DeviceRow.uuid == raw.lower(), DeviceRow.og_id.in_(scope.og_ids()))
    )
    return found


async def enrollment_uuid(db: AsyncSession, scope: Scope, raw: str) -> str | None:
    """The UUID of the enrollment session `raw` names (any case), when its OG is in `scope`."""
    found: str | None = await db.scalar(
        select(EnrollmentSessionRow.uuid)
        .where(EnrollmentSessionRow.uuid == raw.lower(), EnrollmentSessionRow.og_id.in_(scope.og_ids()))
    )
    return found
