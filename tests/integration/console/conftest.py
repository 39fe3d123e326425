from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from quince.services.scope import Scope
from tests.integration.console.support import Fleet, build_fleet


@pytest.fixture
async def fleet(session: AsyncSession, scope: Scope) -> Fleet:
    return await build_fleet(session, scope)


@pytest.fixture
async def client(live_server: str) -> AsyncIterator[httpx.AsyncClient]:
    """A cookie-keeping client that does not follow redirects."""
    async with httpx.AsyncClient(base_url=live_server, follow_redirects=False, timeout=30) as c:
        yield c
