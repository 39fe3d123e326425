"""`quince admin` and `quince apikey`: REST API accounts and keys."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.cli.conftest import Cli


@pytest.fixture
async def acme(cli: Cli) -> None:
    await cli.ok("og", "create", "--parent", "Global", "--name", "Acme Corp", "--group-id", "acme",
                 "--type", "Customer")
    await cli.ok("og", "create", "--parent", "acme", "--name", "Sales", "--group-id", "acme-sales")
    await cli.ok("og", "create", "--parent", "Global", "--name", "Beta", "--group-id", "beta",
                 "--type", "Customer")


async def test_admin_add_list_and_remove(cli: Cli, acme: None) -> None:
    added = await cli.json("admin", "add", "ops", "--password", "Ops-pass-123", "--group-id", "acme",
                           "--role", "read-only")
    assert (added["UserName"], added["Role"], added["GroupId"]) == ("ops", "read-only", "acme")
    await cli.ok("admin", "add", "root", "--password-stdin", "--group-id", "Global", input="Root-pass-123\n")
    assert [a["UserName"] for a in await cli.json("admin", "list")] == ["ops", "root"]
    await cli.ok("admin", "remove", "ops")
    assert [a["UserName"] for a in await cli.json("admin", "list")] == ["root"]


async def test_admin_add_refuses_an_unknown_role(cli: Cli, acme: None) -> None:
    message = await cli.fails("admin", "add", "ops", "--password", "Ops-pass-123", "--group-id", "acme",
                              "--role", "boss")
    assert "Role must be one of administrator, read-only" in message


async def test_apikey_create_json_prints_the_key(cli: Cli, acme: None) -> None:
    created = await cli.json("apikey", "create", "--group-id", "acme", "--name", "script")
    assert isinstance(created["Key"], str) and len(created["Key"]) >= 40
    assert created["GroupId"] == "acme"


async def test_apikey_create_human_output_warns_the_key_is_shown_once(cli: Cli, acme: None) -> None:
    result = await cli.ok("apikey", "create", "--group-id", "acme")
    assert "will not be shown again" in result.stderr
    [listed] = await cli.json("apikey", "list")
    assert listed["KeyPrefix"] in result.stdout


async def test_apikey_list_never_shows_the_key(cli: Cli, acme: None) -> None:
    key = (await cli.json("apikey", "create", "--group-id", "acme"))["Key"]
    listed = await cli.json("apikey", "list")
    assert [k["KeyPrefix"] for k in listed] == [key[:6]]
    assert key not in (await cli.ok("apikey", "list")).stdout
    assert key not in (await cli.ok("apikey", "list", "--json")).stdout


async def test_apikey_from_the_cli_works_against_the_rest_api_until_revoked(
    cli: Cli, acme: None, live_server: str
) -> None:
    await cli.ok("admin", "add", "acme-admin", "--password", "Admin-pass-1", "--group-id", "acme")
    created = await cli.json("apikey", "create", "--group-id", "acme")
    async with httpx.AsyncClient(
        base_url=live_server, auth=("acme-admin", "Admin-pass-1"),
        headers={"aw-tenant-code": created["Key"], "Accept": "application/json"}, timeout=30,
    ) as client:
        found = await client.get("/API/system/groups/search")
        assert found.status_code == 200, found.text
        assert {g["GroupId"] for g in found.json()["LocationGroups"]} == {"acme", "acme-sales"}
        revoked = await cli.json("apikey", "revoke", str(created["Id"]))
        assert revoked["Active"] is False
        refused = await client.get("/API/system/groups/search")
        assert refused.status_code == 401
