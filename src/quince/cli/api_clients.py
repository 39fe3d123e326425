"""`quince apiclient`: OAuth 2.0 clients of the REST API (client credentials, Bearer tokens)."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from quince.cli.runtime import console, emit, err_console, plain, print_json, run
from quince.cli.views import JsonOption, api_client_dict
from quince.services.access import oauth_clients
from quince.services.directory import org_groups
from quince.services.scope import Scope
from quince.store.database import Db

app = typer.Typer(
    no_args_is_help=True,
    help="OAuth clients of the REST API: a client id and secret get Bearer tokens at /connect/token, "
    "reaching one OG and everything below it with a role.",
)


@app.command("create")
def apiclient_create(
    group_id: Annotated[str, typer.Option(
        "--group-id", help="Group ID of the OG the client belongs to (it reaches that OG and below)."
    )],
    name: Annotated[str, typer.Option("--name", help="A label, e.g. what script uses the client.")],
    role: Annotated[str, typer.Option("--role", help="administrator or read-only.")] = "administrator",
    as_json: JsonOption = False,
) -> None:
    """Create an OAuth client; its secret is shown only this once."""

    async def work(session: Db, scope: Scope) -> dict[str, Any]:
        og = await org_groups.resolve_ref(session, scope, group_id)
        row, secret = await oauth_clients.create_client(session, scope, og_id=og.id, name=name, role=role)
        return {**api_client_dict(row, og), "ClientSecret": secret}

    data = run(work, commit=True)
    if as_json:
        print_json(data)
        return
    console.print(f"OAuth client {plain(data['Name'])} ({data['Role']}) for {plain(data['GroupId'])} "
                  "and below:", highlight=False)
    console.print(f"\n    client_id:     [bold]{plain(data['ClientId'])}[/]\n"
                  f"    client_secret: [bold]{plain(data['ClientSecret'])}[/]\n",
                  highlight=False, soft_wrap=True)
    err_console.print(
        "[yellow]Copy the secret now: it is stored only as a hash and will not be shown again.[/]\n"
        "Get a token with POST /connect/token (grant_type=client_credentials) and send it as "
        "Authorization: Bearer."
    )


@app.command("list")
def apiclient_list(as_json: JsonOption = False) -> None:
    """OAuth clients (never their secrets)."""

    async def work(session: Db, scope: Scope) -> list[dict[str, Any]]:
        return [api_client_dict(c, og) for c, og in await oauth_clients.list_clients(session, scope)]

    data = run(work)
    if as_json:
        print_json(data)
        return
    table = Table("Client id", "Name", "Role", "OG", "Created", "Status")
    for c in data:
        status = "active" if c["Active"] else f"revoked {plain(c['RevokedOn'])}"
        table.add_row(plain(c["ClientId"]), plain(c["Name"]), c["Role"], plain(c["GroupId"]),
                      plain(c["CreatedOn"]), status)
    console.print(table)


@app.command("revoke")
def apiclient_revoke(
    client_id: Annotated[str, typer.Argument(help="The client's id (see `quince apiclient list`).")],
    as_json: JsonOption = False,
) -> None:
    """Revoke an OAuth client: its tokens stop working now and it gets no new ones."""

    async def work(session: Db, scope: Scope) -> dict[str, Any]:
        row, og = await oauth_clients.revoke_client(session, scope, client_id)
        return api_client_dict(row, og)

    data = run(work, commit=True)
    emit(data, as_json, f"Revoked OAuth client {plain(data['Name'])} ({plain(data['ClientId'])}).")
