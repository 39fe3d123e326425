"""`quince apiclient`: OAuth clients of the REST API, their one-time secret and revocation."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.cli.conftest import Cli


@pytest.fixture
async def acme(cli: Cli) -> None:
    await cli.ok("og", "create", "--parent", "Global", "--name", "Acme Corp", "--group-id", "acme",
                 "--type", "Customer")


async def test_apiclient_create_prints_the_client_id_and_the_secret_once(cli: Cli, acme: None) -> None:
    created = await cli.json("apiclient", "create", "--group-id", "acme", "--name", "importer",
                             "--role", "read-only")
    assert (created["Name"], created["Role"], created["GroupId"]) == ("importer", "read-only", "acme")
    assert len(created["ClientId"]) == 32 and len(created["ClientSecret"]) >= 40
    listed = await cli.json("apiclient", "list")
    assert [c["ClientId"] for c in listed] == [created["ClientId"]] and "ClientSecret" not in listed[0]
    assert listed[0]["CreatedBy"] == "local operator"
    assert created["ClientSecret"] not in (await cli.ok("apiclient", "list")).stdout


async def test_apiclient_create_human_output_warns_the_secret_is_shown_once(cli: Cli, acme: None) -> None:
    result = await cli.ok("apiclient", "create", "--group-id", "acme", "--name", "importer")
    assert "will not be shown again" in result.stderr
    [listed] = await cli.json("apiclient", "list")
    assert listed["ClientId"] in result.stdout and listed["Role"] == "administrator"


async def test_apiclient_create_refuses_an_unknown_role(cli: Cli, acme: None) -> None:
    message = await cli.fails("apiclient", "create", "--group-id", "acme", "--name", "x", "--role", "boss")
    assert "Role must be one of administrator, read-only" in message


async def test_a_client_from_the_cli_gets_tokens_until_revoked(
    cli: Cli, acme: None, live_server: str
) -> None:
    created = await cli.json("apiclient", "create", "--group-id", "acme", "--name", "importer")
    grant = {"grant_type": "client_credentials", "client_id": created["ClientId"],
             "client_secret": created["ClientSecret"]}
    async with httpx.AsyncClient(base_url=live_server) as http:
        token = (await http.post("/connect/token", data=grant)).json()["access_token"]
        bearer = {"Authorization": f"Bearer {token}"}
        found = (await http.get("/API/system/groups/search", headers=bearer)).json()
        assert [g["GroupId"] for g in found["LocationGroups"]] == ["acme"]
        revoked = await cli.json("apiclient", "revoke", created["ClientId"])
        assert revoked["Active"] is False
        assert (await http.get("/API/system/groups/search", headers=bearer)).status_code == 401
        assert (await http.post("/connect/token", data=grant)).status_code == 401
    [listed] = await cli.json("apiclient", "list")
    assert listed["RevokedOn"] is not None


async def test_revoking_an_unknown_client_fails(cli: Cli, acme: None) -> None:
    assert "not found" in (await cli.fails("apiclient", "revoke", "0" * 32)).lower()
