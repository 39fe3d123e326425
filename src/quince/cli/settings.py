"""`quince settings`: per-OG settings, inherited or overridden, with child permissions."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table

from quince.cli.runtime import console, emit, plain, print_json, run
from quince.cli.views import JsonOption, setting_dict, value_text
from quince.services.directory import og_settings, org_groups
from quince.services.scope import Scope
from quince.store.database import Db

app = typer.Typer(
    no_args_is_help=True,
    help="Organization group settings: inherit from the parent or override, with child permissions.",
)

GroupRef = Annotated[str, typer.Argument(help="Group ID (or numeric id) of the organization group.")]
KeyArg = Annotated[str, typer.Argument(
    help="Setting: user_enrollment_enabled, group_id_assignment_mode or default_ownership."
)]


def _describe(data: dict[str, Any], group_id: str) -> str:
    here = data["CurrentSetting"] == "Override"
    where = (
        "overridden here" if here
        else f"inherited from {plain(data['SourceName'])} ({plain(data['SourceGroupId'])})"
    )
    return (
        f"{plain(data['Key'])} = [bold]{plain(value_text(data['Value']))}[/] at {plain(group_id)} ({where}); "
        f"child permission {plain(data['ChildPermission'])}."
    )


@app.command("show")
def show(ref: GroupRef, as_json: JsonOption = False) -> None:
    """Every setting at an OG: effective value, Inherit/Override, where it comes from, permissions."""

    async def work(session: Db, scope: Scope) -> dict[str, Any]:
        og = await org_groups.resolve_ref(session, scope, ref)
        views = await og_settings.read(session, scope, og.id)
        return {"GroupId": og.group_id, "Name": og.name, "Settings": [setting_dict(v) for v in views]}

    data = run(work)
    if as_json:
        print_json(data)
        return
    table = Table(title=f"Settings at {plain(data['Name'])} ({plain(data['GroupId'])})", box=box.SIMPLE)
    table.add_column("Setting", no_wrap=True)
    table.add_column("Value", no_wrap=True)
    table.add_column("Current setting")
    table.add_column("Child permission", no_wrap=True)
    for s in data["Settings"]:
        current = (
            "Override" if s["CurrentSetting"] == "Override"
            else f"Inherit from {plain(s['SourceName'])} ({plain(s['SourceGroupId'])})"
        )
        if s["PermissionFromParent"] not in (None, "InheritOrOverride"):
            current += f" [dim](parent allows {plain(s['PermissionFromParent'])})[/]"
        table.add_row(f"[bold]{plain(s['Key'])}[/]", plain(value_text(s["Value"])), current,
                      plain(s["ChildPermission"]))
    console.print(table)


@app.command("set")
def set_(
    ref: GroupRef,
    key: KeyArg,
    value: Annotated[str, typer.Argument(help="The value, e.g. true / false or a choice.")],
    child_permission: Annotated[str | None, typer.Option(
        "--child-permission",
        help="What OGs below may do: InheritOrOverride (default), InheritOnly or OverrideOnly.",
    )] = None,
    as_json: JsonOption = False,
) -> None:
    """Override a setting at an OG (its children inherit it unless they override it)."""

    async def work(session: Db, scope: Scope) -> tuple[str, dict[str, Any]]:
        og = await org_groups.resolve_ref(session, scope, ref)
        view = await og_settings.override(session, scope, og.id, key, value, child_permission)
        return og.group_id, setting_dict(view)

    group_id, data = run(work, commit=True)
    emit({"GroupId": group_id, **data}, as_json, _describe(data, group_id))


@app.command("inherit")
def inherit(ref: GroupRef, key: KeyArg, as_json: JsonOption = False) -> None:
    """Drop an OG's own value so it follows its parent again."""

    async def work(session: Db, scope: Scope) -> tuple[str, dict[str, Any]]:
        og = await org_groups.resolve_ref(session, scope, ref)
        view = await og_settings.inherit(session, scope, og.id, key)
        return og.group_id, setting_dict(view)

    group_id, data = run(work, commit=True)
    emit({"GroupId": group_id, **data}, as_json, _describe(data, group_id))
