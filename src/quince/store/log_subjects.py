"""What a log filter may name by UUID, looked up within an OG subtree: a device record or an
enrollment session."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from quince.store.models import DeviceRow, EnrollmentSessionRow
from quince.store.org_groups import og_ids_within


async def device_by_uuid(db: AsyncSession, path: str, uuid: str) -> DeviceRow | None:
    found: DeviceRow | None = await db.scalar(
        select(DeviceRow).where(DeviceRow.uuid == uuid, DeviceRow.og_id.in_(og_ids_within(path)))
    )
    return found


async def enrollment_uuid(db: AsyncSession, path: str, uuid: str) -> str | None:
    found: str | None = await db.scalar(
        select(EnrollmentSessionRow.uuid)
        .where(EnrollmentSessionRow.uuid == uuid, EnrollmentSessionRow.og_id.in_(og_ids_within(path)))
    )
    return found
