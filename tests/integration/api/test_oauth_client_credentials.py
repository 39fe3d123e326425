"""OAuth 2.0 client credentials (RFC 6749 §4.4), as Workspace ONE scripts use them: a client's id
and secret get a token at /connect/token, and the token as `Authorization: Bearer` reaches the
client's OG subtree with the client's role, without an admin or an aw-tenant-code."""

from __future__ import annotations

import base64
import logging
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from quince.config import Settings
from quince.domain.oauth import ClientCredentials
from quince.services.access import oauth_clients, sign_in_throttle
from quince.services.access.admins import AuthenticationFailed
from quince.services.scope import Scope
from quince.store.models import utcnow
from tests.integration.api.support import World, assert_error

GROUPS = "/API/system/groups"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


async def _client(session: AsyncSession, scope: Scope, og_id: int, role: str = "administrator",
                  name: str = "importer") -> tuple[str, str]:
    row, secret = await oauth_clients.create_client(session, scope, og_id=og_id, name=name, role=role)
    await session.commit()
    return row.client_id, secret


def _grant(client_id: str, secret: str) -> dict[str, str]:
    return {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}


async def _token(http: httpx.AsyncClient, client_id: str, secret: str) -> str:
    response = await http.post("/connect/token", data=_grant(client_id, secret))
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Accept": "application/json"}


def _oauth_error(response: httpx.Response, status: int, error: str) -> dict[str, str]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "error_description"} and body["error"] == error, body
    return dict(body)


@pytest.fixture
async def http(live_server: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=live_server, timeout=30) as client:
        yield client


async def test_the_token_endpoint_answers_a_form_request_as_workspace_one_does(
    http: httpx.AsyncClient, session: AsyncSession, scope: Scope
) -> None:
    client_id, secret = await _client(session, scope, scope.og_id)
    for path in ("/connect/token", "/API/oauth/token"):
        response = await http.post(path, data=_grant(client_id, secret))
        assert response.status_code == 200, response.text
        assert response.headers["cache-control"] == "no-store"
        body = response.json()
        assert set(body) == {"access_token", "token_type", "expires_in"}
        assert (body["token_type"], body["expires_in"]) == ("Bearer", 3600)
        assert len(body["access_token"]) >= 40


async def test_a_client_may_authenticate_with_http_basic_instead_of_form_fields(
    http: httpx.AsyncClient, session: AsyncSession, scope: Scope
) -> None:
    client_id, secret = await _client(session, scope, scope.og_id)
    response = await http.post("/connect/token", data={"grant_type": "client_credentials"},
                               auth=(client_id, secret))
    assert response.status_code == 200, response.text
    token = response.json()["access_token"]
    assert (await http.get(f"{GROUPS}/{scope.og_id}", headers=_bearer(token))).status_code == 200


async def test_a_wrong_secret_an_unknown_client_and_a_missing_secret_are_401_invalid_client(
    http: httpx.AsyncClient, session: AsyncSession, scope: Scope
) -> None:
    client_id, secret = await _client(session, scope, scope.og_id)
    descriptions = set()
    for label, data in {
        "wrong secret": _grant(client_id, secret + "x"),
        "unknown client": _grant("0" * 32, secret),
        "no secret": {"grant_type": "client_credentials", "client_id": client_id},
        "nothing": {"grant_type": "client_credentials"},
    }.items():
        response = await http.post("/connect/token", data=data)
        body = _oauth_error(response, 401, "invalid_client")
        assert response.headers["www-authenticate"].startswith("Basic"), label
        descriptions.add(body["error_description"])
    assert len(descriptions) == 1  # never says which part was wrong


async def test_requests_that_are_not_client_credentials_requests_are_400(
    http: httpx.AsyncClient, session: AsyncSession, scope: Scope
) -> None:
    client_id, secret = await _client(session, scope, scope.og_id)
    good = _grant(client_id, secret)
    _oauth_error(await http.post("/connect/token", data={**good, "grant_type": "password"}), 400,
                 "unsupported_grant_type")
    _oauth_error(await http.post("/connect/token", data={k: v for k, v in good.items() if k != "grant_type"}),
                 400, "invalid_request")
    _oauth_error(await http.post("/connect/token", data={**good, "scope": "admin"}), 400, "invalid_scope")
    _oauth_error(await http.post("/connect/token", json=good), 400, "invalid_request")
    twice = "grant_type=client_credentials&grant_type=client_credentials"
    _oauth_error(await http.post("/connect/token", content=twice, headers=FORM), 400, "invalid_request")


async def test_a_token_from_client_credentials_reaches_only_the_clients_organization_group_subtree(
    http: httpx.AsyncClient, session: AsyncSession, scope: Scope, world: World
) -> None:
    token = await _token(http, *await _client(session, scope, world.eng))
    headers = _bearer(token)  # no aw-tenant-code, as Workspace ONE scripts send it
    found = (await http.get(f"{GROUPS}/search", headers=headers)).json()
    assert sorted(g["GroupId"] for g in found["LocationGroups"]) == ["eng", "eng-lab"]
    assert (await http.get(f"{GROUPS}/{world.eng_lab}", headers=headers)).status_code == 200
    assert_error(await http.get(f"{GROUPS}/{world.sales}", headers=headers), 404)
    assert_error(await http.get(f"{GROUPS}/{world.acme}", headers=headers), 404)


async def test_an_aw_tenant_code_sent_beside_a_token_is_ignored(
    http: httpx.AsyncClient, session: AsyncSession, scope: Scope, world: World
) -> None:
    token = await _token(http, *await _client(session, scope, world.eng))
    response = await http.get(f"{GROUPS}/{world.eng}",
                              headers={**_bearer(token), "aw-tenant-code": "stale-key-of-the-old-server"})
    assert response.status_code == 200, response.text


async def test_a_read_only_client_reads_but_cannot_write(
    http: httpx.AsyncClient, session: AsyncSession, scope: Scope, world: World
) -> None:
    token = await _token(http, *await _client(session, scope, world.acme, role="read-only"))
    assert (await http.get(f"{GROUPS}/{world.sales}", headers=_bearer(token))).status_code == 200
    response = await http.post(f"{GROUPS}/{world.acme}", headers=_bearer(token),
                               json={"Name": "Support", "GroupId": "support"})
    body = assert_error(response, 403)
    assert "oauth:importer" in body["message"]


async def test_an_administrator_client_writes_within_its_subtree(
    http: httpx.AsyncClient, session: AsyncSession, scope: Scope, world: World
) -> None:
    token = await _token(http, *await _client(session, scope, world.acme))
    response = await http.post(f"{GROUPS}/{world.acme}", headers=_bearer(token),
                               json={"Name": "Support", "GroupId": "support"})
    assert response.status_code == 201, response.text


async def test_an_expired_or_unknown_token_is_the_same_401_as_any_failed_sign_in(
    http: httpx.AsyncClient, session: AsyncSession, scope: Scope, live_settings: Settings
) -> None:
    client_id, secret = await _client(session, scope, scope.og_id)
    expired = await oauth_clients.issue_token(
        session, ClientCredentials(client_id, secret), address="192.0.2.1",
        throttle=sign_in_throttle.from_settings(live_settings), lifetime=timedelta(hours=1),
        now=utcnow() - timedelta(hours=2))
    await session.commit()
    for token in (expired.access_token, "not-a-token", "a b"):
        response = await http.get(f"{GROUPS}/{scope.og_id}", headers=_bearer(token))
        body = assert_error(response, 401)
        assert body["message"] == AuthenticationFailed.MESSAGE


async def test_revoking_a_client_ends_its_tokens_at_once(
    http: httpx.AsyncClient, session: AsyncSession, scope: Scope
) -> None:
    client_id, secret = await _client(session, scope, scope.og_id)
    token = await _token(http, client_id, secret)
    assert (await http.get(f"{GROUPS}/{scope.og_id}", headers=_bearer(token))).status_code == 200
    await oauth_clients.revoke_client(session, scope, client_id)
    await session.commit()
    assert_error(await http.get(f"{GROUPS}/{scope.og_id}", headers=_bearer(token)), 401)
    _oauth_error(await http.post("/connect/token", data=_grant(client_id, secret)), 401, "invalid_client")


async def test_failed_client_authentication_makes_the_client_wait_even_with_the_right_secret(
    http: httpx.AsyncClient, session: AsyncSession, scope: Scope
) -> None:
    client_id, secret = await _client(session, scope, scope.og_id)
    for n in range(5):
        _oauth_error(await http.post("/connect/token", data=_grant(client_id, f"guess-{n}")), 401,
                     "invalid_client")
    paused = await http.post("/connect/token", data=_grant(client_id, secret))
    body = _oauth_error(paused, 429, "invalid_client")
    assert "Too many failed sign-ins" in body["error_description"]
    assert 0 < int(paused.headers["retry-after"]) <= 30


async def test_secrets_and_tokens_never_reach_the_logs(
    http: httpx.AsyncClient, session: AsyncSession, scope: Scope, caplog: pytest.LogCaptureFixture
) -> None:
    client_id, secret = await _client(session, scope, scope.og_id)
    with caplog.at_level(logging.DEBUG):
        token = await _token(http, client_id, secret)
        await http.get(f"{GROUPS}/search", headers=_bearer(token))
        await http.get(f"{GROUPS}/search", headers=_bearer(token + "x"))
        await http.post("/connect/token", data=_grant(client_id, secret + "-wrong"))
        await http.post("/connect/token", data=_grant(secret, secret))  # a secret in the id field
        basic = base64.b64encode(f"{client_id}:{secret}x".encode()).decode()
        await http.post("/connect/token", data={"grant_type": "client_credentials"},
                        headers={"Authorization": f"Basic {basic}"})
    # What the server logs (the test's own HTTP client logs the headers it sends at DEBUG).
    logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records
                       if r.name.startswith("quince") or r.name.startswith("uvicorn"))
    assert f"OAuth client {client_id!r}: wrong client_secret" in logged
    assert secret not in logged and token not in logged and basic not in logged
