"""The API tests' small organization (see tests/integration/api/support.py), for app services."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from quince.services.scope import Scope
from quince.store.models import DeviceRow, OrgGroupRow
from tests.integration.api.support import World, build_world


@pytest.fixture
async def world(session: AsyncSession, scope: Scope) -> World:
    return await build_world(session, scope)


async def scope_at(session: AsyncSession, og_id: int, *, can_write: bool = True) -> Scope:
    row = await session.get(OrgGroupRow, og_id)
    assert row is not None
    return Scope(og_id=row.id, path=row.path, can_write=can_write, actor="admin 'test'")


async def add_device(
    session: AsyncSession, og_id: int, user_id: int | None, *, user_enrolled: bool = True
) -> DeviceRow:
    row = DeviceRow(
        og_id=og_id, enrollment_user_id=user_id, enrollment_status="Enrolled",
        ownership="E" if user_enrolled else "C", is_user_enrolled=user_enrolled,
        license_type_eligibility=2 if user_enrolled else 0,
    )
    session.add(row)
    await session.flush()
    return row
