"""Behind a reverse proxy (docs/security.md): X-Forwarded-For names the client only when it comes
from QUINCE_TRUSTED_PROXIES, and forwarding headers from any other peer are warned about."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from quince.config import Settings
from quince.services.access import admins
from quince.services.scope import Scope
from quince.web.app import create_app

SEARCH = "/API/system/groups/search"
PROXY = "10.20.0.5"


@pytest.fixture
async def key(session: AsyncSession, scope: Scope) -> str:
    await admins.add_admin(session, scope, username="ops", password="ops-password-1", og_id=scope.og_id,
                           role="administrator")
    _row, value = await admins.create_api_key(session, scope, og_id=scope.og_id)
    await session.commit()
    return value


def _client(settings: Settings, engine: AsyncEngine, peer: str) -> httpx.AsyncClient:
    app = create_app(settings.model_copy(update={"sign_in_first_wait_seconds": 30}), engine=engine)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(peer, 40000)),
                             base_url="http://quince.test")


@pytest.fixture
async def behind_proxy(live_settings: Settings, engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    """Quince with PROXY's network trusted, reached from PROXY."""
    settings = live_settings.model_copy(update={"trusted_proxies": "10.20.0.0/24"})
    async with _client(settings, engine, PROXY) as client:
        yield client


@pytest.fixture
async def unproxied(live_settings: Settings, engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    """Quince trusting no proxy, reached from PROXY (a proxy nobody configured)."""
    async with _client(live_settings, engine, PROXY) as client:
        yield client


async def _call(client: httpx.AsyncClient, key: str, password: str, forwarded_for: str) -> int:
    answer = await client.get(SEARCH, auth=("ops", password),
                              headers={"aw-tenant-code": key, "X-Forwarded-For": forwarded_for})
    return answer.status_code


async def test_a_trusted_proxys_x_forwarded_for_names_the_client_the_back_off_counts(
    behind_proxy: httpx.AsyncClient, key: str
) -> None:
    for n in range(5):
        assert await _call(behind_proxy, key, f"guess-{n}", "203.0.113.7") == 401
    assert await _call(behind_proxy, key, "ops-password-1", "203.0.113.7") == 429
    # The same admin from another client behind the same proxy is not slowed.
    assert await _call(behind_proxy, key, "ops-password-1", "198.51.100.20") == 200


async def test_x_forwarded_for_from_a_peer_that_is_not_trusted_changes_nothing_and_is_warned_about(
    unproxied: httpx.AsyncClient, key: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="quince.proxies"):
        for n in range(5):  # a client cannot pick a fresh address for each guess
            assert await _call(unproxied, key, f"guess-{n}", f"203.0.113.{n}") == 401
        assert await _call(unproxied, key, "ops-password-1", "198.51.100.20") == 429
    warnings = [r.getMessage() for r in caplog.records if r.name == "quince.proxies"]
    assert len(warnings) == 1  # once per peer, not once per request
    assert PROXY in warnings[0] and "QUINCE_TRUSTED_PROXIES" in warnings[0]
