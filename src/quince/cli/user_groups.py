"""`quince usergroups`: user groups, their members and their ranked OG mappings."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from quince.cli.runtime import console, emit, plain, print_json, run
from quince.cli.views import GroupIds, JsonOption, all_pages, mapping_dict, user_dict, user_group_dict
from quince.domain.errors import NotFound
from quince.services.directory import org_groups, user_groups, users
from quince.services.scope import Scope
from quince.store.database import Db

app = typer.Typer(
    no_args_is_help=True,
    help="User groups: members, and mappings to the OG a member's device enrolls into.",
)
members_app = typer.Typer(no_args_is_help=True, help="Members of a user group.")
app.add_typer(members_app, name="members")

GroupRef = Annotated[str, typer.Argument(help="Name (or numeric id) of the user group.")]
Usernames = Annotated[list[str], typer.Argument(help="Usernames (or numeric ids).")]
TargetOption = Annotated[str, typer.Option("--group-id", help="Group ID of the target OG.")]


@app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="Name of the new user group.")],
    group_id: Annotated[str, typer.Option(
        "--group-id", help="Group ID of the OG the user group lives in (it maps to that OG or below)."
    )],
    description: Annotated[str, typer.Option("--description", help="What the group is for.")] = "",
    as_json: JsonOption = False,
) -> None:
    """Create a user group."""

    async def work(session: Db, scope: Scope) -> dict[str, Any]:
        og = await org_groups.resolve_ref(session, scope, group_id)
        row = await user_groups.create(session, scope, name=name, og_id=og.id, description=description)
        return user_group_dict(row, await GroupIds.load(session), 0)

    data = run(work, commit=True)
    emit(data, as_json, f"Created user group [bold]{plain(data['Name'])}[/] (id {data['Id']}) "
                        f"at {plain(data['GroupId'])}.")


@app.command("list")
def list_(
    group_id: Annotated[str | None, typer.Option(
        "--group-id", help="Only user groups living in this OG."
    )] = None,
    as_json: JsonOption = False,
) -> None:
    """User groups with their member counts."""

    async def work(session: Db, scope: Scope) -> list[dict[str, Any]]:
        og_id = (await org_groups.resolve_ref(session, scope, group_id)).id if group_id else None
        rows = await all_pages(lambda page: user_groups.search(session, scope, page, og_id=og_id))
        counts = await user_groups.member_counts(session, [r.id for r in rows])
        ids = await GroupIds.load(session)
        return [user_group_dict(r, ids, counts[r.id]) for r in rows]

    data = run(work)
    if as_json:
        print_json(data)
        return
    table = Table("Id", "Name", "Lives at", "Members", "Description")
    for g in data:
        table.add_row(str(g["Id"]), plain(g["Name"]), plain(g["GroupId"]), str(g["Members"]),
                      plain(g["Description"]))
    console.print(table)


@app.command("delete")
def delete(ref: GroupRef, as_json: JsonOption = False) -> None:
    """Delete a user group with its memberships and mappings (the users stay)."""

    async def work(session: Db, scope: Scope) -> dict[str, Any]:
        row = await user_groups.resolve_ref(session, scope, ref)
        data = user_group_dict(row, await GroupIds.load(session))
        await user_groups.delete_group(session, scope, row.id)
        return data

    data = run(work, commit=True)
    emit({"Deleted": data}, as_json, f"Deleted user group [bold]{plain(data['Name'])}[/].")


@members_app.command("add")
def members_add(ref: GroupRef, usernames: Usernames, as_json: JsonOption = False) -> None:
    """Add users to a user group (users already in it are left as they are)."""

    async def work(session: Db, scope: Scope) -> tuple[str, list[str], list[str]]:
        group = await user_groups.resolve_ref(session, scope, ref)
        added: list[str] = []
        already: list[str] = []
        for name in usernames:
            user = await users.resolve_ref(session, scope, name)
            (added if await user_groups.add_member(session, scope, group.id, user.id) else already).append(
                user.username
            )
        return group.name, added, already

    group, added, already = run(work, commit=True)
    if as_json:
        print_json({"UserGroup": group, "Added": added, "AlreadyMembers": already})
        return
    if added:
        console.print(f"Added to [bold]{plain(group)}[/]: {plain(', '.join(added))}.", highlight=False)
    if already:
        console.print(f"Already in [bold]{plain(group)}[/]: {plain(', '.join(already))}.", highlight=False)


@members_app.command("remove")
def members_remove(ref: GroupRef, usernames: Usernames, as_json: JsonOption = False) -> None:
    """Remove users from a user group."""

    async def work(session: Db, scope: Scope) -> tuple[str, list[str]]:
        group = await user_groups.resolve_ref(session, scope, ref)
        removed = []
        for name in usernames:
            user = await users.resolve_ref(session, scope, name)
            await user_groups.remove_member(session, scope, group.id, user.id)
            removed.append(user.username)
        return group.name, removed

    group, removed = run(work, commit=True)
    emit({"UserGroup": group, "Removed": removed}, as_json,
         f"Removed from [bold]{plain(group)}[/]: {plain(', '.join(removed))}.")


@members_app.command("list")
def members_list(ref: GroupRef, as_json: JsonOption = False) -> None:
    """The members of a user group."""

    async def work(session: Db, scope: Scope) -> tuple[str, list[dict[str, Any]]]:
        group = await user_groups.resolve_ref(session, scope, ref)
        rows = await all_pages(lambda page: user_groups.members(session, scope, group.id, page))
        ids = await GroupIds.load(session)
        return group.name, [user_dict(r, ids) for r in rows]

    group, data = run(work)
    if as_json:
        print_json(data)
        return
    table = Table("Username", "Email", "Enrollment OG", "Status", title=f"Members of {plain(group)}")
    for u in data:
        table.add_row(plain(u["UserName"]), plain(u["Email"]), plain(u["GroupId"]),
                      "active" if u["Status"] else "inactive")
    console.print(table)


@app.command("map")
def map_(
    ref: GroupRef,
    group_id: TargetOption,
    rank: Annotated[int, typer.Option("--rank", help="1 is best; the best-ranked matching mapping wins.")],
    as_json: JsonOption = False,
) -> None:
    """Map a user group to a target OG with a rank (or change the rank of an existing mapping)."""

    async def work(session: Db, scope: Scope) -> tuple[dict[str, Any], bool]:
        group = await user_groups.resolve_ref(session, scope, ref)
        og = await org_groups.resolve_ref(session, scope, group_id)
        existing = next((m for m in await user_groups.mappings(session, scope, group.id) if m.og_id == og.id),
                        None)
        if existing is None:
            row = await user_groups.add_mapping(session, scope, group.id, og.id, rank)
        else:
            row = await user_groups.update_mapping(session, scope, group.id, existing.id, rank)
        return mapping_dict(row, group, await GroupIds.load(session)), existing is None

    data, created = run(work, commit=True)
    if as_json:
        print_json(data)
    else:
        verb = "Mapped" if created else "Re-ranked mapping of"
        console.print(
            f"{verb} [bold]{plain(data['UserGroup'])}[/] -> {plain(data['Name'])} ({plain(data['GroupId'])}) "
            f"at rank {data['Rank']}.",
            highlight=False,
        )


@app.command("mappings")
def mappings(ref: GroupRef, as_json: JsonOption = False) -> None:
    """The OGs a user group maps to, best rank first."""

    async def work(session: Db, scope: Scope) -> tuple[str, list[dict[str, Any]]]:
        group = await user_groups.resolve_ref(session, scope, ref)
        rows = await user_groups.mappings(session, scope, group.id)
        ids = await GroupIds.load(session)
        return group.name, [mapping_dict(r, group, ids) for r in rows]

    group, data = run(work)
    if as_json:
        print_json(data)
        return
    table = Table("Rank", "Target OG", "Group ID", "Mapping id", title=f"Mappings of {plain(group)}")
    for m in data:
        table.add_row(str(m["Rank"]), plain(m["Name"]), plain(m["GroupId"]), str(m["Id"]))
    console.print(table)


@app.command("unmap")
def unmap(ref: GroupRef, group_id: TargetOption, as_json: JsonOption = False) -> None:
    """Remove a user group's mapping to an OG."""

    async def work(session: Db, scope: Scope) -> dict[str, Any]:
        group = await user_groups.resolve_ref(session, scope, ref)
        og = await org_groups.resolve_ref(session, scope, group_id)
        for m in await user_groups.mappings(session, scope, group.id):
            if m.og_id == og.id:
                data = mapping_dict(m, group, await GroupIds.load(session))
                await user_groups.remove_mapping(session, scope, group.id, m.id)
                return data
        raise NotFound(f"Mapping of user group {group.name!r} to", og.group_id)

    data = run(work, commit=True)
    emit({"Deleted": data}, as_json,
         f"Removed the mapping of [bold]{plain(data['UserGroup'])}[/] to {plain(data['Name'])} "
         f"({plain(data['GroupId'])}).")
