"""`quince admin` and `quince apikey`: who may use the REST API, and with which keys."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from quince.cli.runtime import console, emit, err_console, plain, print_json, run
from quince.cli.views import JsonOption, PasswordStdinOption, admin_dict, api_key_dict, read_password
from quince.services.access import admins
from quince.services.directory import org_groups
from quince.services.scope import Scope
from quince.store.database import Db

admin_app = typer.Typer(
    no_args_is_help=True,
    help="Administrators: REST API accounts with a role, limited to one OG and everything below it.",
)
apikey_app = typer.Typer(
    no_args_is_help=True,
    help="REST API keys (the aw-tenant-code header), each belonging to one OG.",
)


@admin_app.command("add")
def admin_add(
    username: Annotated[str, typer.Argument(help="Username for HTTP Basic.")],
    group_id: Annotated[str, typer.Option(
        "--group-id", help="Group ID of the OG the admin manages (with everything below it)."
    )],
    role: Annotated[str, typer.Option("--role", help="administrator or read-only.")] = "administrator",
    password: Annotated[str | None, typer.Option(
        "--password", help="Password (at least 8 characters); prompted for when not given."
    )] = None,
    password_stdin: PasswordStdinOption = False,
    as_json: JsonOption = False,
) -> None:
    """Add an administrator."""
    secret = read_password(password, password_stdin, required=True)
    assert secret is not None

    async def work(session: Db, scope: Scope) -> dict[str, Any]:
        og = await org_groups.resolve_ref(session, scope, group_id)
        row = await admins.add_admin(session, scope, username=username, password=secret, og_id=og.id,
                                     role=role)
        return admin_dict(row, og)

    data = run(work, commit=True)
    emit(data, as_json, f"Added {plain(data['Role'])} [bold]{plain(data['UserName'])}[/] "
                        f"for {plain(data['GroupId'])} and below.")


@admin_app.command("list")
def admin_list(as_json: JsonOption = False) -> None:
    """Administrators and the OG each one manages."""

    async def work(session: Db, scope: Scope) -> list[dict[str, Any]]:
        return [admin_dict(a, og) for a, og in await admins.list_admins(session, scope)]

    data = run(work)
    if as_json:
        print_json(data)
        return
    table = Table("Username", "Role", "Manages", "Active", "Created")
    for a in data:
        table.add_row(plain(a["UserName"]), plain(a["Role"]), plain(a["GroupId"]),
                      "yes" if a["Active"] else "no", plain(a["CreatedOn"]))
    console.print(table)


@admin_app.command("update")
def admin_update(
    username: Annotated[str, typer.Argument(help="Username of the administrator.")],
    role: Annotated[str | None, typer.Option("--role", help="administrator or read-only.")] = None,
    active: Annotated[bool | None, typer.Option(
        "--active/--inactive", help="Allow or stop the admin's sign-ins (console and REST API)."
    )] = None,
    new_password: Annotated[bool, typer.Option(
        "--password", help="Set a new password (prompted for, or read with --password-stdin)."
    )] = False,
    password_stdin: PasswordStdinOption = False,
    as_json: JsonOption = False,
) -> None:
    """Change an administrator's role, activation or password; ends their console sessions."""
    secret = read_password(None, password_stdin, required=True) if new_password or password_stdin else None

    async def work(session: Db, scope: Scope) -> dict[str, Any]:
        row = await admins.update_admin(session, scope, username, password=secret, role=role,
                                        active=active)
        og = await org_groups.get(session, scope, row.og_id)
        return admin_dict(row, og)

    data = run(work, commit=True)
    emit(data, as_json, f"Updated administrator [bold]{plain(data['UserName'])}[/]: "
                        f"{plain(data['Role'])}, {'active' if data['Active'] else 'inactive'}.")


@admin_app.command("remove")
def admin_remove(
    username: Annotated[str, typer.Argument(help="Username of the administrator.")],
    as_json: JsonOption = False,
) -> None:
    """Remove an administrator."""

    async def work(session: Db, scope: Scope) -> None:
        await admins.remove_admin(session, scope, username)

    run(work, commit=True)
    emit({"Removed": username}, as_json, f"Removed administrator [bold]{plain(username)}[/].")


@apikey_app.command("create")
def apikey_create(
    group_id: Annotated[str, typer.Option(
        "--group-id", help="Group ID of the OG the key belongs to (it reaches that OG and below)."
    )],
    name: Annotated[str, typer.Option("--name", help="A label, e.g. what script uses the key.")] = "",
    as_json: JsonOption = False,
) -> None:
    """Create an API key; the key itself is shown only this once."""

    async def work(session: Db, scope: Scope) -> dict[str, Any]:
        og = await org_groups.resolve_ref(session, scope, group_id)
        row, key = await admins.create_api_key(session, scope, og_id=og.id, name=name)
        return {"Key": key, **api_key_dict(row, og)}

    data = run(work, commit=True)
    if as_json:
        print_json(data)
        return
    console.print(f"API key {data['Id']} for {plain(data['GroupId'])} and below:", highlight=False)
    console.print(f"\n    [bold]{plain(data['Key'])}[/]\n", highlight=False, soft_wrap=True)
    err_console.print(
        "[yellow]Copy it now: it is stored only as a hash and will not be shown again.[/]\n"
        "Send it in the aw-tenant-code header together with an administrator's HTTP Basic credentials."
    )


@apikey_app.command("list")
def apikey_list(as_json: JsonOption = False) -> None:
    """API keys (only their first characters; keys themselves are never shown again)."""

    async def work(session: Db, scope: Scope) -> list[dict[str, Any]]:
        return [api_key_dict(k, og) for k, og in await admins.list_api_keys(session, scope)]

    data = run(work)
    if as_json:
        print_json(data)
        return
    table = Table("Id", "Name", "Starts with", "OG", "Created", "Status")
    for k in data:
        status = "active" if k["Active"] else f"revoked {plain(k['RevokedOn'])}"
        table.add_row(str(k["Id"]), plain(k["Name"]), f"{plain(k['KeyPrefix'])}...", plain(k["GroupId"]),
                      plain(k["CreatedOn"]), status)
    console.print(table)


@apikey_app.command("revoke")
def apikey_revoke(
    key_id: Annotated[int, typer.Argument(help="Id of the key (see `quince apikey list`).")],
    as_json: JsonOption = False,
) -> None:
    """Revoke an API key: requests carrying it are refused from now on."""

    async def work(session: Db, scope: Scope) -> dict[str, Any]:
        row = await admins.revoke_api_key(session, scope, key_id)
        og = await org_groups.get(session, scope, row.og_id)
        return api_key_dict(row, og)

    data = run(work, commit=True)
    emit(data, as_json, f"Revoked API key {data['Id']} ({plain(data['KeyPrefix'])}...).")
