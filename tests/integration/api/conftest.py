from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from quince.services.scope import Scope
from tests.integration.api.support import World, build_world


@pytest.fixture
async def world(session: AsyncSession, scope: Scope) -> World:
    return await build_world(session, scope)
