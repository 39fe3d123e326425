"""Migration 0012 repairs the records older releases left marked as abandoned placeholders although
their devices completed enrollment, on SQLite and PostgreSQL; real placeholders keep their mark."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from quince.store import migrate

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)

# The columns as migration 0009 left them, spelled out so later migrations cannot change this test.
OGS = sa.table("organization_groups", *(sa.column(c) for c in (
    "id", "uuid", "name", "group_id", "group_id_key", "type", "parent_id", "path", "created_at")))
DEVICES = sa.table("devices", *(sa.column(c) for c in (
    "id", "uuid", "og_id", "enrollment_status", "ownership", "is_user_enrolled",
    "license_type_eligibility", "created_at", "superseded_by_device_id", "superseded_at",
    "enrolled_at")))


def _device(device_id: int, status: str, *, superseded_by: int | None = None,
            enrolled: bool = False) -> dict[str, object]:
    return {"id": device_id, "uuid": str(uuid.uuid4()), "og_id": 1, "enrollment_status": status,
            "ownership": "E", "is_user_enrolled": True, "license_type_eligibility": 2,
            "created_at": NOW, "superseded_by_device_id": superseded_by,
            "superseded_at": NOW if superseded_by else None, "enrolled_at": NOW if enrolled else None}


async def test_upgrading_clears_the_abandoned_mark_of_devices_that_completed_enrollment(
    blank_engine: AsyncEngine,
) -> None:
    await migrate.upgrade(blank_engine, "0011")
    async with blank_engine.begin() as conn:
        await conn.execute(OGS.insert().values(id=1, uuid=str(uuid.uuid4()), name="Global", group_id="global",
                                               group_id_key="global", type="Global", parent_id=None,
                                               path="/1/", created_at=NOW))
        await conn.execute(DEVICES.insert(), [
            _device(4, "EnrollmentInProgress"),                          # the newest sign-in
            _device(3, "Enrolled", superseded_by=4, enrolled=True),      # completed after all
            _device(2, "Unenrolled", superseded_by=4, enrolled=True),    # completed, later checked out
            _device(1, "EnrollmentInProgress", superseded_by=4),         # really abandoned
        ])

    await migrate.upgrade(blank_engine, "0012")

    async with blank_engine.connect() as conn:
        rows = (await conn.execute(
            sa.select(DEVICES.c.id, DEVICES.c.superseded_by_device_id, DEVICES.c.superseded_at)
            .order_by(DEVICES.c.id)
        )).all()
    assert [(r.id, r.superseded_by_device_id, r.superseded_at is not None) for r in rows] == [
        (1, 4, True), (2, None, False), (3, None, False), (4, None, False)]
