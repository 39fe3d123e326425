from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from quince.services.scope import Scope
from tests.integration.device_management.support import Org, build_org


@pytest.fixture
async def org(session: AsyncSession, scope: Scope) -> Org:
    return await build_org(session, scope)


@pytest.fixture
async def browser_client(live_server: str) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client that keeps cookies and does not follow redirects, like a careful browser."""
    async with httpx.AsyncClient(base_url=live_server, follow_redirects=False, timeout=30) as client:
        yield client
