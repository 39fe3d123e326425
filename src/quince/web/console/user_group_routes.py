"""User groups: the list at the chosen OG, a group's page with its members and its ranked OG
mappings, and the changes an administrator makes there (each through `services.directory.user_groups`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from quince.domain.errors import Conflict, InvalidInput, NotFound, QuinceError
from quince.domain.org_groups import NAME_MAX_LENGTH
from quince.domain.users import USERNAME_MAX_LENGTH
from quince.services.directory import group_links, user_groups, users
from quince.services.scope import Scope
from quince.store.models import OrgGroupRow, UserGroupMappingRow, UserGroupRow
from quince.store.paging import PageRequest
from quince.web.console.context import (
    Changer,
    Console,
    ConsoleRoute,
    SignedIn,
    log,
    not_found,
    open_with,
    parse_id,
    parse_page,
    posted,
    query,
    redirect,
    render,
    text,
)
from quince.web.deps import Db

router = APIRouter(route_class=ConsoleRoute)

PAGE_SIZE = 50
NAME_MAX = NAME_MAX_LENGTH
DESCRIPTION_MAX = 500
USERNAME_MAX = USERNAME_MAX_LENGTH
LOG = "console.user_groups"
# What a `?done=` after a change says; `{name}` and `{user}` come from the query (autoescaped).
NOTICES = {
    "created": "User group {name} was created.",
    "saved": "User group {name} was saved.",
    "deleted": "User group {name} was deleted.",
    "member-added": "User {user} was added to the group.",
    "member-removed": "User {user} was removed from the group.",
    "mapping-added": "The mapping to {name} was added.",
    "rank-changed": "The rank of the mapping to {name} was changed.",
    "mapping-removed": "The mapping to {name} was removed.",
}


def _notice(request: Request) -> str | None:
    q = request.query_params
    template = NOTICES.get(q.get("done", ""))
    if template is None:
        return None
    return template.format(name=q.get("name", "")[:NAME_MAX], user=q.get("user", "")[:USERNAME_MAX])


def _ogs_by_id(console: Console) -> dict[int, OrgGroupRow]:
    return {row.id: row for row, _ in console.ogs}


def _ogs_below(console: Console, top: OrgGroupRow) -> list[tuple[OrgGroupRow, int]]:
    """The selector's OGs at `top` or below it, with their depth (for indented options)."""
    return [(row, level) for row, level in console.ogs if row.path.startswith(top.path)]


async def _mapping_counts(db: Db, scope: Scope, group_ids: list[int]) -> dict[int, int]:
    return await group_links.mapping_counts(db, scope, group_ids)


def _status(exc: QuinceError) -> int:
    return 409 if isinstance(exc, Conflict) else 404 if isinstance(exc, NotFound) else 400


# -- The list ------------------------------------------------------------------------------------


async def _list_page(request: Request, db: Db, console: Console, *, status: int = 200,
                     error: str | None = None, entered: dict[str, str] | None = None) -> Response:
    q = request.query_params
    params = {"og": str(console.og.id), "q": q.get("q", "").strip()[:NAME_MAX]}
    page_number = parse_page(q.get("page"))
    found = await user_groups.search(db, console.here, PageRequest(page_number, PAGE_SIZE),
                                     name=params["q"] or None)
    ids = [row.id for row in found.items]
    members = await user_groups.member_counts(db, ids, console.scope)
    mappings = await _mapping_counts(db, console.scope, ids)
    ogs = _ogs_by_id(console)
    return render(
        request, console, "user_groups.html", status=status, title="User groups", nav="user-groups",
        groups=found.items, total=found.total, page=page_number,
        pages=max(1, -(-found.total // PAGE_SIZE)), params=params, members=members, mappings=mappings,
        owners={i: ogs[row.og_id] for i, row in zip(ids, found.items, strict=True) if row.og_id in ogs},
        owner_choices=_ogs_below(console, console.og), error=error,
        notice=None if error else _notice(request),
        entered=entered or {"name": "", "og": str(console.og.id), "description": ""},
        query=lambda **changes: query(params, **changes),
    )


@router.get("/user-groups")
async def user_group_list(request: Request, db: Db, console: SignedIn) -> Response:
    return await _list_page(request, db, console)


@router.post("/user-groups")
async def create_user_group(
    request: Request,
    form: Annotated[FormData, Depends(posted(max_fields=6))],
    db: Db,
    console: Changer,
) -> Response:
    entered = {"name": text(form, "name", NAME_MAX + 1), "og": text(form, "og_id", 16),
               "description": text(form, "description", DESCRIPTION_MAX + 1)}
    og_id = parse_id(entered["og"])
    if og_id is None or og_id not in {row.id for row, _ in _ogs_below(console, console.og)}:
        return not_found(request, console)
    try:
        if len(entered["description"]) > DESCRIPTION_MAX:
            raise InvalidInput("Description", f"Keep the description to {DESCRIPTION_MAX} characters.")
        row = await user_groups.create(db, console.here, name=entered["name"], og_id=og_id,
                                       description=entered["description"])
    # The service refuses before it adds anything; the session is never committed on refusal.
    except QuinceError as exc:
        log(request, LOG, "refused", warn=True, admin=console.admin.username, action="create",
            reason=exc.message)
        return await _list_page(request, db, console, status=_status(exc), error=exc.message,
                                entered=entered)
    await db.commit()
    log(request, LOG, "created", admin=console.admin.username, user_group=row.id, og=row.og_id)
    return redirect(f"/console/user-groups/{row.id}", console, done="created", name=row.name)


# -- One group -----------------------------------------------------------------------------------


@dataclass
class Entered:
    """What the person typed into the group page's forms, kept when one of them is refused."""

    name: str | None = None
    description: str | None = None
    username: str = ""
    map_og: str = ""
    map_rank: str = "1"
    ranks: dict[int, str] = field(default_factory=dict)


async def _console_and_group(
    console: Console, db: Db, group_ref: str, *, change: bool = False
) -> tuple[Console, UserGroupRow]:
    """The console and a user group of its chosen OG's subtree; else PageNotFound."""
    return console, await open_with(console, group_ref,
                           lambda console, group_id: user_groups.get(db, console.here, group_id),
                           change=change)


async def _group_page(request: Request, db: Db, console: Console, group: UserGroupRow, *,
                      status: int = 200, error: str | None = None, error_at: str = "",
                      entered: Entered | None = None) -> Response:
    entered = entered or Entered()
    ogs = _ogs_by_id(console)
    home = ogs[group.og_id]
    page_number = parse_page(request.query_params.get("page"))
    members = await user_groups.members(db, console.scope, group.id, PageRequest(page_number, PAGE_SIZE))
    mappings = await user_groups.mappings(db, console.scope, group.id)
    return render(
        request, console, "user_group.html", status=status, title=f"User group {group.name}",
        nav="user-groups", group=group, home=home, members=members, page=page_number,
        pages=max(1, -(-members.total // PAGE_SIZE)), mappings=mappings, og_by_id=ogs,
        targets=_ogs_below(console, home), min_rank=user_groups.MIN_RANK, max_rank=user_groups.MAX_RANK,
        error=error, error_at=error_at, notice=None if error else _notice(request), entered=entered,
    )


@router.get("/user-groups/{group_ref}")
async def user_group_detail(request: Request, db: Db, console: SignedIn, group_ref: str) -> Response:
    console, group = await _console_and_group(console, db, group_ref)
    return await _group_page(request, db, console, group)


def _parse_rank(raw: str) -> int:
    if not raw.isascii() or not raw.isdigit() or len(raw) > 6:
        raise InvalidInput("Rank", f"Rank must be a whole number from {user_groups.MIN_RANK} (best) "
                                   f"to {user_groups.MAX_RANK}.")
    return int(raw)


@router.post("/user-groups/{group_ref}/edit")
async def edit_user_group(
    request: Request,
    form: Annotated[FormData, Depends(posted(max_fields=4))],
    db: Db,
    console: SignedIn,
    group_ref: str,
) -> Response:
    console, group = await _console_and_group(console, db, group_ref, change=True)
    entered = Entered(name=text(form, "name", NAME_MAX + 1),
                      description=text(form, "description", DESCRIPTION_MAX + 1))
    try:
        if len(entered.description or "") > DESCRIPTION_MAX:
            raise InvalidInput("Description", f"Keep the description to {DESCRIPTION_MAX} characters.")
        await user_groups.update(db, console.here, group.id, name=entered.name,
                                 description=entered.description)
    except QuinceError as exc:
        log(request, LOG, "refused", warn=True, admin=console.admin.username, action="edit",
            user_group=group.id, reason=exc.message)
        return await _group_page(request, db, console, group, status=_status(exc), error=exc.message,
                                 error_at="edit", entered=entered)
    await db.commit()
    log(request, LOG, "saved", admin=console.admin.username, user_group=group.id)
    return redirect(f"/console/user-groups/{group.id}", console, done="saved", name=group.name)


@router.get("/user-groups/{group_ref}/delete")
async def confirm_delete(request: Request, db: Db, console: SignedIn, group_ref: str) -> Response:
    console, group = await _console_and_group(console, db, group_ref, change=True)
    members = (await user_groups.member_counts(db, [group.id], console.scope))[group.id]
    mappings = len(await user_groups.mappings(db, console.scope, group.id))
    return render(request, console, "user_group_delete.html", title=f"Delete user group {group.name}",
                  nav="user-groups", group=group, member_total=members, mapping_total=mappings)


@router.post("/user-groups/{group_ref}/delete")
async def delete_user_group(
    request: Request,
    form: Annotated[FormData, Depends(posted(max_fields=2))],
    db: Db,
    console: SignedIn,
    group_ref: str,
) -> Response:
    console, group = await _console_and_group(console, db, group_ref, change=True)
    name = group.name
    await user_groups.delete_group(db, console.here, group.id)
    await db.commit()
    log(request, LOG, "deleted", admin=console.admin.username, user_group=group.id)
    return redirect("/console/user-groups", console, done="deleted", name=name)


@router.post("/user-groups/{group_ref}/members")
async def add_member(
    request: Request,
    form: Annotated[FormData, Depends(posted(max_fields=2))],
    db: Db,
    console: SignedIn,
    group_ref: str,
) -> Response:
    console, group = await _console_and_group(console, db, group_ref, change=True)
    entered = Entered(username=text(form, "username", USERNAME_MAX))
    try:
        if not entered.username:
            raise InvalidInput("username", "Enter the username of the user to add.")
        try:
            user = await users.get_by_username(db, console.scope, entered.username)
        except NotFound:
            # The same answer for a user of another tenant as for no user at all.
            raise InvalidInput("username", f"There is no user named {entered.username!r} in the "
                                           "groups you manage.") from None
        if not await user_groups.add_member(db, console.scope, group.id, user.id):
            raise Conflict(f"{user.username} is already a member of {group.name}.")
    except QuinceError as exc:
        log(request, LOG, "refused", warn=True, admin=console.admin.username, action="add_member",
            user_group=group.id, reason=exc.message)
        return await _group_page(request, db, console, group, status=_status(exc), error=exc.message,
                                 error_at="members", entered=entered)
    await db.commit()
    log(request, LOG, "member_added", admin=console.admin.username, user_group=group.id,
        user=user.username)
    return redirect(f"/console/user-groups/{group.id}", console, done="member-added", user=user.username)


@router.post("/user-groups/{group_ref}/members/{user_ref}/remove")
async def remove_member(
    request: Request,
    form: Annotated[FormData, Depends(posted(max_fields=2))],
    db: Db,
    console: SignedIn,
    group_ref: str,
    user_ref: str,
) -> Response:
    console, group = await _console_and_group(console, db, group_ref, change=True)
    user_id = parse_id(user_ref)
    try:
        if user_id is None:
            raise NotFound("User", user_ref)
        user = await users.get(db, console.scope, user_id)
        await user_groups.remove_member(db, console.scope, group.id, user.id)
    except NotFound:
        return not_found(request, console)
    await db.commit()
    log(request, LOG, "member_removed", admin=console.admin.username, user_group=group.id,
        user=user.username)
    return redirect(f"/console/user-groups/{group.id}", console, done="member-removed",
                    user=user.username)


@router.post("/user-groups/{group_ref}/mappings")
async def add_mapping(
    request: Request,
    form: Annotated[FormData, Depends(posted(max_fields=3))],
    db: Db,
    console: SignedIn,
    group_ref: str,
) -> Response:
    console, group = await _console_and_group(console, db, group_ref, change=True)
    entered = Entered(map_og=text(form, "og_id", 16), map_rank=text(form, "rank", 16))
    og_id = parse_id(entered.map_og)
    if og_id is None or og_id not in _ogs_by_id(console):
        return not_found(request, console)
    try:
        rank = _parse_rank(entered.map_rank)
        row = await user_groups.add_mapping(db, console.scope, group.id, og_id, rank)
    except QuinceError as exc:
        log(request, LOG, "refused", warn=True, admin=console.admin.username, action="add_mapping",
            user_group=group.id, reason=exc.message)
        return await _group_page(request, db, console, group, status=_status(exc), error=exc.message,
                                 error_at="mappings", entered=entered)
    await db.commit()
    log(request, LOG, "mapping_added", admin=console.admin.username, user_group=group.id,
        og=row.og_id, rank=row.rank)
    return redirect(f"/console/user-groups/{group.id}", console, done="mapping-added",
                    name=_ogs_by_id(console)[og_id].name)


async def _mapping_of(db: Db, console: Console, group: UserGroupRow, mapping_ref: str) -> UserGroupMappingRow:
    """The mapping of `group` that `mapping_ref` names; else PageNotFound."""
    return await open_with(console, mapping_ref,
                           lambda console, mapping_id: user_groups.get_mapping(db, console.scope, group.id,
                                                                               mapping_id))


@router.post("/user-groups/{group_ref}/mappings/{mapping_ref}")
async def change_rank(
    request: Request,
    form: Annotated[FormData, Depends(posted(max_fields=2))],
    db: Db,
    console: SignedIn,
    group_ref: str,
    mapping_ref: str,
) -> Response:
    console, group = await _console_and_group(console, db, group_ref, change=True)
    mapping = await _mapping_of(db, console, group, mapping_ref)
    raw = text(form, "rank", 16)
    try:
        await user_groups.update_mapping(db, console.scope, group.id, mapping.id, _parse_rank(raw))
    except QuinceError as exc:
        log(request, LOG, "refused", warn=True, admin=console.admin.username, action="change_rank",
            user_group=group.id, mapping=mapping.id, reason=exc.message)
        return await _group_page(request, db, console, group, status=_status(exc),
                                 error=exc.message, error_at=f"rank-{mapping.id}",
                                 entered=Entered(ranks={mapping.id: raw}))
    await db.commit()
    log(request, LOG, "rank_changed", admin=console.admin.username, user_group=group.id,
        mapping=mapping.id, rank=mapping.rank)
    target = _ogs_by_id(console).get(mapping.og_id)
    return redirect(f"/console/user-groups/{group.id}", console, done="rank-changed",
                    name=target.name if target else "")


@router.post("/user-groups/{group_ref}/mappings/{mapping_ref}/remove")
async def remove_mapping(
    request: Request,
    form: Annotated[FormData, Depends(posted(max_fields=2))],
    db: Db,
    console: SignedIn,
    group_ref: str,
    mapping_ref: str,
) -> Response:
    console, group = await _console_and_group(console, db, group_ref, change=True)
    mapping = await _mapping_of(db, console, group, mapping_ref)
    target = _ogs_by_id(console).get(mapping.og_id)
    await user_groups.remove_mapping(db, console.scope, group.id, mapping.id)
    await db.commit()
    log(request, LOG, "mapping_removed", admin=console.admin.username, user_group=group.id,
        mapping=mapping.id)
    return redirect(f"/console/user-groups/{group.id}", console, done="mapping-removed",
                    name=target.name if target else "")
