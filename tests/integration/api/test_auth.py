"""REST API authentication: an admin's HTTP Basic credentials plus an aw-tenant-code API key,
which together decide the organization groups a caller reaches."""

from __future__ import annotations

import base64
import logging

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from quince.services.access import admins
from quince.services.access.admins import AuthenticationFailed
from quince.services.scope import Scope
from quince.store.models import AdminRow
from tests.fixtures.live_server import ApiClientFactory
from tests.integration.api.support import World, assert_error

GROUPS = "/API/system/groups"


def _basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


async def _admin_with_key(session: AsyncSession, scope: Scope, og_id: int) -> tuple[str, str]:
    await admins.add_admin(session, scope, username="ops", password="ops-password-1", og_id=og_id,
                           role="administrator")
    _row, key = await admins.create_api_key(session, scope, og_id=og_id)
    await session.commit()
    return "ops", key


async def test_valid_credentials_and_key_reach_the_api(
    live_server: str, session: AsyncSession, scope: Scope
) -> None:
    username, key = await _admin_with_key(session, scope, scope.og_id)
    async with httpx.AsyncClient(base_url=live_server) as client:
        response = await client.get(f"{GROUPS}/{scope.og_id}", headers={
            "Authorization": _basic(username, "ops-password-1"), "aw-tenant-code": key})
    assert response.status_code == 200, response.text
    assert response.json()["GroupId"] == "Global"


async def test_missing_or_wrong_credentials_are_401_with_the_error_body(
    live_server: str, session: AsyncSession, scope: Scope
) -> None:
    username, key = await _admin_with_key(session, scope, scope.og_id)
    good = _basic(username, "ops-password-1")
    attempts = {
        "no headers at all": {},
        "no Authorization": {"aw-tenant-code": key},
        "no aw-tenant-code": {"Authorization": good},
        "empty aw-tenant-code": {"Authorization": good, "aw-tenant-code": ""},
        "wrong password": {"Authorization": _basic(username, "wrong-password"), "aw-tenant-code": key},
        "unknown admin": {"Authorization": _basic("nobody", "ops-password-1"), "aw-tenant-code": key},
        "wrong tenant code": {"Authorization": good, "aw-tenant-code": key + "x"},
        "bearer instead of basic": {"Authorization": f"Bearer {key}", "aw-tenant-code": key},
        "Basic that is not base64": {"Authorization": "Basic !!!", "aw-tenant-code": key},
        "Basic without a colon": {
            "Authorization": "Basic " + base64.b64encode(b"ops").decode(), "aw-tenant-code": key},
        "Basic with a NUL": {"Authorization": _basic("ops\x00", "x"), "aw-tenant-code": key},
    }
    messages = set()
    async with httpx.AsyncClient(base_url=live_server) as client:
        for label, headers in attempts.items():
            response = await client.get(f"{GROUPS}/{scope.og_id}", headers=headers)
            body = assert_error(response, 401)
            assert body["errorCode"] == 1013, label
            assert response.headers["www-authenticate"].startswith("Basic"), label
            messages.add(body["message"])
    assert messages == {AuthenticationFailed.MESSAGE}  # one message: it never says which part


async def test_a_wrong_password_and_an_unknown_admin_get_the_same_answer(
    live_server: str, session: AsyncSession, scope: Scope
) -> None:
    username, key = await _admin_with_key(session, scope, scope.og_id)
    async with httpx.AsyncClient(base_url=live_server) as client:
        wrong = await client.get(GROUPS + "/search", headers={
            "Authorization": _basic(username, "not-it-at-all"), "aw-tenant-code": key})
        unknown = await client.get(GROUPS + "/search", headers={
            "Authorization": _basic("ghost", "not-it-at-all"), "aw-tenant-code": key})
    assert assert_error(wrong, 401)["message"] == assert_error(unknown, 401)["message"]


async def test_a_revoked_api_key_is_refused(
    api_client: ApiClientFactory, session: AsyncSession, scope: Scope
) -> None:
    client = await api_client()
    assert (await client.get(f"{GROUPS}/{scope.og_id}")).status_code == 200
    for key, _og in await admins.list_api_keys(session, scope):
        await admins.revoke_api_key(session, scope, key.id)
    await session.commit()
    body = assert_error(await client.get(f"{GROUPS}/{scope.og_id}"), 401)
    assert "API key" in body["message"]


async def test_a_deactivated_admin_is_refused(
    api_client: ApiClientFactory, session: AsyncSession, scope: Scope
) -> None:
    client = await api_client()
    assert (await client.get(f"{GROUPS}/{scope.og_id}")).status_code == 200
    await session.execute(update(AdminRow).values(active=False))
    await session.commit()
    assert_error(await client.get(f"{GROUPS}/{scope.og_id}"), 401)


async def test_an_api_key_of_an_og_outside_the_admins_subtree_is_refused(
    api_client: ApiClientFactory, world: World
) -> None:
    client = await api_client(og_id=world.sales, key_og_id=world.eng)
    body = assert_error(await client.get(f"{GROUPS}/{world.sales}"), 401)
    assert body["message"] == AuthenticationFailed.MESSAGE  # the right password reads as any failure
    assert_error(await client.get(f"{GROUPS}/{world.eng}"), 401)


async def test_an_api_key_below_the_admins_og_narrows_what_the_admin_reaches(
    api_client: ApiClientFactory, world: World
) -> None:
    client = await api_client(og_id=world.acme, key_og_id=world.sales)
    assert (await client.get(f"{GROUPS}/{world.sales}")).status_code == 200
    assert_error(await client.get(f"{GROUPS}/{world.eng}"), 404)
    assert_error(await client.get(f"{GROUPS}/{world.acme}"), 404)
    found = (await client.get(f"{GROUPS}/search")).json()
    assert [g["GroupId"] for g in found["LocationGroups"]] == ["sales"]


async def test_an_api_key_above_the_admins_og_does_not_widen_what_the_admin_reaches(
    api_client: ApiClientFactory, world: World
) -> None:
    client = await api_client(og_id=world.sales, key_og_id=world.root)
    assert (await client.get(f"{GROUPS}/{world.sales}")).status_code == 200
    assert_error(await client.get(f"{GROUPS}/{world.eng}"), 404)
    assert_error(await client.get(f"{GROUPS}/{world.root}"), 404)


async def test_each_401_logs_its_precise_reason(
    live_server: str, session: AsyncSession, scope: Scope, caplog: pytest.LogCaptureFixture
) -> None:
    username, key = await _admin_with_key(session, scope, scope.og_id)
    with caplog.at_level(logging.INFO, logger="quince.api"):
        async with httpx.AsyncClient(base_url=live_server) as client:
            await client.get(GROUPS + "/search", headers={
                "Authorization": _basic(username, "not-it-at-all"), "aw-tenant-code": key})
            await client.get(GROUPS + "/search", headers={
                "Authorization": _basic(username, "ops-password-1"), "aw-tenant-code": "guessed"})
    logged = " ".join(r.getMessage() for r in caplog.records if r.name == "quince.api")
    assert "admin 'ops': wrong password" in logged
    assert "admin 'ops': the aw-tenant-code is not an active API key" in logged
    assert "not-it-at-all" not in logged and "ops-password-1" not in logged


async def test_failed_basic_auth_makes_the_caller_wait_even_with_the_right_password(
    live_server: str, session: AsyncSession, scope: Scope
) -> None:
    username, key = await _admin_with_key(session, scope, scope.og_id)
    async with httpx.AsyncClient(base_url=live_server) as client:
        for n in range(5):
            assert_error(await client.get(GROUPS + "/search", headers={
                "Authorization": _basic(username, f"guess-{n}"), "aw-tenant-code": key}), 401)
        paused = await client.get(GROUPS + "/search", headers={
            "Authorization": _basic(username, "ops-password-1"), "aw-tenant-code": key})
    body = assert_error(paused, 429)
    assert "Too many failed sign-ins" in body["message"]
    assert 0 < int(paused.headers["retry-after"]) <= 30
