"""`quince vpp set-token | show | remove-token | sync`."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from quince.services.directory import org_groups
from quince.services.scope import Scope
from quince.store.models import AppRow
from tests.e2e.cli.conftest import Cli
from tests.support_vpp import VppDouble, make_token_file


def token_file(tmp_path: Path, text: str) -> str:
    path = tmp_path / "location.vpptoken"
    path.write_text(text)
    return str(path)


def secrets_of(text: str) -> list[str]:
    return [text, json.loads(base64.b64decode(text))["token"]]


async def test_set_token_show_and_remove(
    cli: Cli, session: AsyncSession, scope: Scope, vpp_server: VppDouble, tmp_path: Path
) -> None:
    acme = await org_groups.create(session, scope, scope.og_id, name="Acme", group_id="acme",
                                   og_type="Customer")
    await org_groups.create(session, scope, acme.id, name="Sales", group_id="sales")
    await session.commit()
    token = vpp_server.token_file_text

    out = await cli.ok("vpp", "set-token", "--group-id", "acme", token_file(tmp_path, token))
    assert "Example Corp" in out.stdout and "acme" in out.stdout

    shown = await cli.json("vpp", "show", "--group-id", "sales")
    assert shown["TokenSet"] is True
    assert shown["CurrentSetting"] == "Inherit" and shown["SourceGroupId"] == "acme"
    assert shown["OrganizationName"] == "Example Corp"
    assert shown["ExpiresAt"].startswith(f"{vpp_server.expires:%Y-%m-%d}")
    text = (await cli.ok("vpp", "show", "--group-id", "sales")).stdout
    assert "inherited from Acme (acme)" in text
    assert "No Apps and Books token" in (await cli.ok("vpp", "show")).stdout  # Global has none

    for output in (out.output, json.dumps(shown), text):
        for secret in secrets_of(token):
            assert secret not in output

    removed = await cli.json("vpp", "remove-token", "--group-id", "acme")
    assert removed["Removed"] is True
    assert (await cli.json("vpp", "show", "--group-id", "sales"))["TokenSet"] is False
    assert "was not found" in await cli.fails("vpp", "remove-token", "--group-id", "acme")


async def test_set_token_from_stdin(cli: Cli, vpp_server: VppDouble) -> None:
    await cli.ok("vpp", "set-token", "--group-id", "Global", "--stdin", input=vpp_server.token_file_text)
    assert (await cli.json("vpp", "show"))["OrganizationName"] == "Example Corp"


async def test_set_token_refuses_what_is_not_a_token(cli: Cli, tmp_path: Path) -> None:
    message = await cli.fails("vpp", "set-token", "--group-id", "Global", token_file(tmp_path, "hello"))
    assert "not an Apps and Books token file" in message
    assert "FILE or --stdin" in await cli.fails("vpp", "set-token", "--group-id", "Global")


async def test_sync_fetches_purchased_apps(
    cli: Cli, session: AsyncSession, vpp_server: VppDouble, tmp_path: Path
) -> None:
    await cli.ok("vpp", "set-token", "--group-id", "Global", token_file(tmp_path, vpp_server.token_file_text))
    vpp_server.add_asset("408709785", total=7, device_assignable=True)
    data = await cli.json("vpp", "sync", "--group-id", "Global")
    assert (data["Apps"], data["Created"], data["LocationName"]) == (1, 1, vpp_server.location_name)
    [app] = list(await session.scalars(select(AppRow)))
    assert (app.adam_id, app.kind, app.total_licenses, app.device_licensing_enabled) == (
        "408709785", "purchased", 7, True)
    assert vpp_server.invitations_requested == []


async def test_sync_reports_a_revoked_token(cli: Cli, vpp_server: VppDouble, tmp_path: Path) -> None:
    await cli.ok("vpp", "set-token", "--group-id", "Global", token_file(tmp_path, vpp_server.token_file_text))
    vpp_server.revoke_token()
    message = await cli.fails("vpp", "sync", "--group-id", "Global")
    assert "revoked" in message and "quince vpp set-token" in message
    for secret in secrets_of(vpp_server.token_file_text):
        assert secret not in message


async def test_sync_without_a_token_says_so(cli: Cli) -> None:
    assert "No Apps and Books token" in await cli.fails("vpp", "sync", "--group-id", "Global")


async def test_tokens_never_appear_in_output(cli: Cli) -> None:
    token = make_token_file("Quiet Corp")
    result = await cli.ok("vpp", "set-token", "--group-id", "Global", "--stdin", "--json", input=token)
    for secret in secrets_of(token):
        assert secret not in result.output
