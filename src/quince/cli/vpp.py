"""`quince vpp`: Apps and Books location tokens (sTokens) per OG, and the purchased-app sync.

The token itself is never printed: only its organization, location, expiry, the OG it is set at
and the start of its SHA-256.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from quince.cli.runtime import console, emit, err_console, fail, plain, print_json, run, settings
from quince.cli.views import JsonOption, when
from quince.clients.vpp import VppClient
from quince.services.apps import vpp_sync, vpp_tokens
from quince.services.apps.vpp_tokens import TokenInfo
from quince.services.directory import org_groups
from quince.services.scope import Scope
from quince.store.database import Db

app = typer.Typer(no_args_is_help=True, help="Apps and Books (VPP): location tokens and purchased apps.")

GroupOption = Annotated[str, typer.Option("--group-id", help="Group ID (or numeric id) of the OG.")]
OptionalGroup = Annotated[str | None, typer.Option(
    "--group-id", help="Group ID (or numeric id) of the OG; Global when left out.")]


def _info_dict(group_id: str, info: TokenInfo | None) -> dict[str, Any]:
    if info is None:
        return {"GroupId": group_id, "TokenSet": False}
    return {
        "GroupId": group_id, "TokenSet": True, "OrganizationName": info.organization_name,
        "LocationName": info.location_name, "ExpiresAt": when(info.expires_at), "Expired": info.expired(),
        "SourceGroupId": info.source_group_id, "SourceName": info.source_name,
        "CurrentSetting": "Inherit" if info.inherited else "Override",
        "TokenSha256Prefix": info.token_sha256_prefix, "SetAt": when(info.created_at),
    }


def _line(text: str) -> None:
    console.print(text, highlight=False, markup=False, emoji=False, soft_wrap=True)


@app.command("set-token")
def set_token(
    group_id: GroupOption,
    file: Annotated[Path | None, typer.Argument(
        exists=True, dir_okay=False, readable=True,
        help="The location's server token file (.vpptoken) from Apple Business Manager.",
    )] = None,
    stdin: Annotated[bool, typer.Option("--stdin", help="Read the token file's content from stdin.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Set the Apps and Books token at an OG; the OGs below inherit it unless they set their own."""
    if (file is None) == (not stdin):
        fail("Give the token FILE or --stdin (one of them).")
    text = sys.stdin.read() if stdin else file.read_bytes().decode("utf-8", "replace")  # type: ignore[union-attr]
    var_dir = settings().var_dir

    async def work(session: Db, scope: Scope) -> dict[str, Any]:
        og = await org_groups.resolve_ref(session, scope, group_id)
        await vpp_tokens.set_token(session, scope, og.id, text, var_dir=var_dir)
        return _info_dict(og.group_id, await vpp_tokens.token_info(session, scope, og.id))

    data = run(work, commit=True)
    expires = plain(data["ExpiresAt"][:10] if data["ExpiresAt"] else "unknown")
    organization = plain(data["OrganizationName"] or "unknown organization")
    group = plain(data["GroupId"])
    emit(data, as_json, f"Apps and Books token of [bold]{organization}[/] "
                        f"set at {group} (expires {expires}). Run `quince vpp sync --group-id "
                        f"{group}` to fetch its purchased apps.")


@app.command("show")
def show(group_id: OptionalGroup = None, as_json: JsonOption = False) -> None:
    """The token an OG uses: organization, location, expiry, and the OG it comes from (never the
    token itself)."""

    async def work(session: Db, scope: Scope) -> dict[str, Any]:
        og = await org_groups.resolve_ref(session, scope, group_id if group_id is not None else scope.og_id)
        return _info_dict(og.group_id, await vpp_tokens.token_info(session, scope, og.id))

    data = run(work)
    if as_json:
        print_json(data)
        return
    if not data["TokenSet"]:
        _line(f"No Apps and Books token is set at {data['GroupId']} or above it: purchased apps cannot "
              "be licensed there. Set one with `quince vpp set-token --group-id G FILE`.")
        return
    where = "set here" if data["CurrentSetting"] == "Override" else \
        f"inherited from {data['SourceName']} ({data['SourceGroupId']})"
    _line(f"Group:         {data['GroupId']} ({where})")
    _line(f"Organization:  {data['OrganizationName'] or 'unknown'}")
    _line(f"Location:      {data['LocationName'] or 'unknown until the first sync'}")
    _line(f"Expires:       {data['ExpiresAt'] or 'unknown'}")
    _line(f"Token SHA-256: {data['TokenSha256Prefix']}...")
    if data["Expired"]:
        err_console.print("[bold red]The token has expired:[/] download a new one from Apple Business "
                          "Manager and set it again.", highlight=False)


@app.command("remove-token")
def remove_token(
    group_id: GroupOption,
    force: Annotated[bool, typer.Option(
        "--force", help="Remove it even though VPP users are registered under it (Quince forgets them).",
    )] = False,
    as_json: JsonOption = False,
) -> None:
    """Remove the token set at an OG; the OGs below then inherit from above, if anything."""

    async def work(session: Db, scope: Scope) -> dict[str, Any]:
        og = await org_groups.resolve_ref(session, scope, group_id)
        dropped = await vpp_tokens.remove_token(session, scope, og.id, force=force)
        return {"GroupId": og.group_id, "Removed": True, "VppUsersForgotten": dropped}

    data = run(work, commit=True)
    emit(data, as_json, f"Removed the Apps and Books token set at {plain(data['GroupId'])}.")


@app.command("sync")
def sync(group_id: GroupOption, as_json: JsonOption = False) -> None:
    """Fetch the purchased apps and licence counts of the OG's token from Apple into the catalog."""
    config = settings()

    async def work(session: Db, scope: Scope) -> dict[str, Any]:
        og = await org_groups.resolve_ref(session, scope, group_id)
        token = await vpp_tokens.effective_token(session, og.id, var_dir=config.var_dir)
        if token is None:
            fail(f"No Apps and Books token is set at {og.group_id} or above it: set one with "
                 "`quince vpp set-token`.")
        async with VppClient(token.token, base_url=config.vpp_url) as client:
            result = await vpp_sync.sync_assets(session, scope, og.id, client)
        source = await org_groups.get(session, scope, result.token_og_id)
        return {"GroupId": og.group_id, "TokenGroupId": source.group_id,
                "LocationName": result.location_name, "Apps": result.apps, "Created": result.created,
                "Updated": result.updated, "Gone": result.gone}

    data = run(work, commit=True)
    location = plain(data["LocationName"] or "the location")
    emit(data, as_json, f"Synced {data['Apps']} purchased app(s) of {location} "
                        f"into {plain(data['TokenGroupId'])}: {data['Created']} new, "
                        f"{data['Updated']} updated, {data['Gone']} no longer held.")
