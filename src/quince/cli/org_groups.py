"""`quince og`: the organization group tree."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table
from rich.tree import Tree

from quince.cli.runtime import console, emit, plain, print_json, run
from quince.cli.views import GroupIds, JsonOption, all_pages, og_dict, when
from quince.services.directory import org_groups
from quince.services.scope import Scope
from quince.store.database import Db
from quince.store.models import OrgGroupRow

app = typer.Typer(no_args_is_help=True, help="Organization groups (OGs): the tree devices enroll into.")

GroupRef = Annotated[str, typer.Argument(help="Group ID (or numeric id) of the organization group.")]


def _line(row: OrgGroupRow) -> str:
    return f"[bold]{plain(row.name)}[/]  [cyan]{plain(row.group_id)}[/]  [dim]{plain(row.type)}[/]"


@app.command("tree")
def tree(
    group_id: Annotated[
        str | None, typer.Option("--group-id", help="Show only this OG and what is below it.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """The organization group tree with Group IDs and types."""

    async def work(session: Db, scope: Scope) -> tuple[list[tuple[OrgGroupRow, int]], GroupIds]:
        top = await org_groups.resolve_ref(session, scope, group_id) if group_id else None
        found = await org_groups.subtree(session, scope, top.id if top else scope.og_id)
        return found, await GroupIds.load(session)

    found, ids = run(work)
    if as_json:
        stack: list[dict[str, Any]] = []
        roots: list[dict[str, Any]] = []
        for row, level in found:
            entry: dict[str, Any] = {**og_dict(row, ids), "Children": []}
            del stack[level:]
            (stack[-1]["Children"] if stack else roots).append(entry)
            stack.append(entry)
        print_json(roots[0])
        return
    nodes: list[Tree] = []
    for row, level in found:
        del nodes[level:]
        node = nodes[-1].add(_line(row)) if nodes else Tree(_line(row))
        nodes.append(node)
    console.print(nodes[0])


@app.command("list")
def list_(
    name: Annotated[str | None, typer.Option("--name", help="Part of the name, any case.")] = None,
    og_type: Annotated[str | None, typer.Option("--type", help="Only OGs of this type.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Organization groups as a flat list, sorted by name."""

    async def work(session: Db, scope: Scope) -> tuple[list[OrgGroupRow], GroupIds]:
        rows = await all_pages(lambda page: org_groups.search(
            session, scope, page, name=name, og_type=og_type
        ))
        return rows, await GroupIds.load(session)

    rows, ids = run(work)
    if as_json:
        print_json([og_dict(r, ids) for r in rows])
        return
    table = Table("Id", "Group ID", "Name", "Type", "Parent")
    for r in rows:
        table.add_row(str(r.id), plain(r.group_id), plain(r.name), plain(r.type),
                      plain(ids.label(r.parent_id)) if r.parent_id else "")
    console.print(table)
    console.print(f"{len(rows)} organization group(s).")


@app.command("show")
def show(ref: GroupRef, as_json: JsonOption = False) -> None:
    """One organization group with what it holds."""

    async def work(session: Db, scope: Scope) -> dict[str, Any]:
        row = await org_groups.resolve_ref(session, scope, ref)
        counts = (await org_groups.counts(session, [row.id]))[row.id]
        held = await org_groups.holdings(session, row.id)
        return {
            **og_dict(row, await GroupIds.load(session)),
            "ChildGroups": held["child organization groups"],
            "Users": counts.users, "Admins": counts.admins, "Devices": counts.devices,
            "UserGroups": held["user groups"], "CreatedOn": when(row.created_at),
        }

    data = run(work)
    if as_json:
        print_json(data)
        return
    table = Table(show_header=False, box=None)
    for key in ("Name", "GroupId", "LocationGroupType", "ParentGroupId", "Id", "Uuid", "ChildGroups",
                "Users", "Admins", "Devices", "UserGroups", "CreatedOn"):
        table.add_row(f"[bold]{key}[/]", "" if data[key] is None else plain(data[key]))
    console.print(table)


@app.command("create")
def create(
    parent: Annotated[str, typer.Option("--parent", help="Group ID of the parent OG.")],
    name: Annotated[str, typer.Option("--name", help="Display name.")],
    group_id: Annotated[str, typer.Option(
        "--group-id",
        help="Group ID users type at enrollment: 1-64 letters, digits, - _ . (unique, any case).",
    )],
    og_type: Annotated[str, typer.Option(
        "--type", help="Customer, Container, Partner or Prospect."
    )] = "Container",
    as_json: JsonOption = False,
) -> None:
    """Create an organization group below another."""

    async def work(session: Db, scope: Scope) -> dict[str, Any]:
        above = await org_groups.resolve_ref(session, scope, parent)
        row = await org_groups.create(session, scope, above.id, name=name, group_id=group_id,
                                      og_type=og_type)
        return og_dict(row, await GroupIds.load(session))

    data = run(work, commit=True)
    emit(data, as_json, f"Created {plain(data['LocationGroupType'])} [bold]{plain(data['Name'])}[/] "
            f"(Group ID [cyan]{plain(data['GroupId'])}[/]) below {plain(data['ParentGroupId'])}.")


@app.command("update")
def update(
    ref: GroupRef,
    name: Annotated[str | None, typer.Option("--name", help="New display name.")] = None,
    new_group_id: Annotated[str | None, typer.Option("--new-group-id", help="New Group ID.")] = None,
    og_type: Annotated[str | None, typer.Option("--type", help="New type (only while empty).")] = None,
    parent: Annotated[str | None, typer.Option(
        "--parent", help="Move below this OG (only while it holds nothing)."
    )] = None,
    as_json: JsonOption = False,
) -> None:
    """Rename, change the Group ID or type of, or move an organization group."""

    async def work(session: Db, scope: Scope) -> dict[str, Any]:
        row = await org_groups.resolve_ref(session, scope, ref)
        parent_id = (await org_groups.resolve_ref(session, scope, parent)).id if parent else None
        row = await org_groups.update(session, scope, row.id, name=name, group_id=new_group_id,
                                      og_type=og_type, parent_id=parent_id)
        return og_dict(row, await GroupIds.load(session))

    data = run(work, commit=True)
    emit(data, as_json, f"Updated [bold]{plain(data['Name'])}[/] "
            f"(Group ID [cyan]{plain(data['GroupId'])}[/], "
            f"{plain(data['LocationGroupType'])}, below {plain(data['ParentGroupId'])}).")


@app.command("delete")
def delete(ref: GroupRef, as_json: JsonOption = False) -> None:
    """Delete an organization group that holds nothing (no children, users, admins, keys...)."""

    async def work(session: Db, scope: Scope) -> dict[str, Any]:
        row = await org_groups.resolve_ref(session, scope, ref)
        data = og_dict(row, await GroupIds.load(session))
        await org_groups.delete(session, scope, row.id)
        return data

    data = run(work, commit=True)
    emit({"Deleted": data}, as_json,
         f"Deleted [bold]{plain(data['Name'])}[/] (Group ID {plain(data['GroupId'])}).")
