"""/API/system/usergroups: user groups, their members, and their ranked mappings to target OGs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Query, Response

from quince.domain.errors import InvalidInContext
from quince.services.directory import org_groups, user_groups
from quince.services.scope import Scope
from quince.store.models import UserGroupMappingRow, UserGroupRow
from quince.web.api import errors
from quince.web.api import users as users_api
from quince.web.api.deps import Caller, IdPath, OgFilter, Paging
from quince.web.api.fields import Text
from quince.web.api.groups import reference
from quince.web.api.schemas import IdValue
from quince.web.api.user_schemas import (
    UserGroup,
    UserGroupCreate,
    UserGroupMapping,
    UserGroupMappingCreate,
    UserGroupMappingUpdate,
    UserGroupSearch,
    UserGroupUpdate,
    UserSearch,
)
from quince.web.deps import Db

router = APIRouter(prefix="/API/system/usergroups", tags=["User groups"], responses=errors.RESPONSES)


async def present(db: Db, caller: Scope, rows: Sequence[UserGroupRow]) -> list[UserGroup]:
    """Rows as the API's UserGroup; Members counts only the members the caller may see."""
    counts = await user_groups.member_counts(db, [r.id for r in rows], caller)
    return [
        UserGroup(
            id=IdValue(value=r.id), uuid=r.uuid, name=r.name, description=r.description,
            location_group_id=r.og_id, members=counts[r.id],
        )
        for r in rows
    ]


async def present_one(db: Db, caller: Scope, row: UserGroupRow) -> UserGroup:
    return (await present(db, caller, [row]))[0]


async def present_mapping(db: Db, caller: Scope, row: UserGroupMappingRow) -> UserGroupMapping:
    # A mapping's target lies at or below its user group's OG, so whoever sees the group sees it.
    og = await org_groups.get(db, caller, row.og_id)
    return UserGroupMapping(
        id=IdValue(value=row.id), user_group_id=row.user_group_id, location_group=reference(og),
        group_id=og.group_id, rank=row.rank,
    )


@router.get("/search", response_model=UserGroupSearch, responses=errors.UNPROCESSABLE)
async def search_user_groups(
    db: Db,
    caller: Caller,
    paging: Paging,
    og: OgFilter,
    name: Annotated[Text | None, Query(max_length=100)] = None,
    groupname: Annotated[Text | None, Query(max_length=100, description="Workspace ONE's name for "
                                            "name.")] = None,
) -> UserGroupSearch:
    """User groups in your organization groups; `name` (or `groupname`) matches part of the name."""
    if name is not None and groupname is not None and name != groupname:
        raise InvalidInContext("groupname", "name and groupname say different things: send one.")
    page = await user_groups.search(db, caller, paging, name=name or groupname, og_id=og)
    found = await present(db, caller, page.items)
    return UserGroupSearch(result_set=found, user_groups=found, page=page.page, page_size=page.page_size,
                           total=page.total)


@router.post("", response_model=UserGroup, status_code=201)
async def create_user_group(body: UserGroupCreate, db: Db, caller: Caller) -> UserGroup:
    row = await user_groups.create(
        db, caller, name=body.name, og_id=body.location_group_id, description=body.description
    )
    await db.commit()
    return await present_one(db, caller, row)


@router.get("/{group_id:int}", response_model=UserGroup)
async def get_user_group(group_id: IdPath, db: Db, caller: Caller) -> UserGroup:
    return await present_one(db, caller, await user_groups.get(db, caller, group_id))


@router.put("/{group_id:int}", response_model=UserGroup, responses=errors.UNPROCESSABLE)
async def update_user_group(group_id: IdPath, body: UserGroupUpdate, db: Db, caller: Caller) -> UserGroup:
    """Rename or describe the group. The group as read may be sent back: an Id, Uuid or
    LocationGroupId other than the group's own is refused with 422 (a group cannot move)."""
    current = await user_groups.get(db, caller, group_id)
    body.check_names(current.id, current.uuid)
    if body.location_group_id is not None and body.location_group_id != current.og_id:
        raise InvalidInContext("LocationGroupId", "A user group's organization group cannot be changed; "
                                              "create the group where it belongs instead.")
    row = await user_groups.update(db, caller, group_id, name=body.name, description=body.description)
    await db.commit()
    return await present_one(db, caller, row)


@router.delete("/{group_id:int}", status_code=204)
async def delete_user_group(group_id: IdPath, db: Db, caller: Caller) -> Response:
    """Delete the group with its memberships and mappings; the users stay."""
    await user_groups.delete_group(db, caller, group_id)
    await db.commit()
    return Response(status_code=204)


@router.get("/{group_id:int}/users", response_model=UserSearch)
async def list_members(group_id: IdPath, db: Db, caller: Caller, paging: Paging) -> UserSearch:
    page = await user_groups.members(db, caller, group_id, paging)
    return UserSearch(
        users=await users_api.present(db, page.items), page=page.page, page_size=page.page_size,
        total=page.total,
    )


@router.post("/{group_id:int}/users/{user_id:int}", response_model=UserGroup)
async def add_member(group_id: IdPath, user_id: IdPath, db: Db, caller: Caller) -> UserGroup:
    """Add the user to the group; adding a member again changes nothing."""
    await user_groups.add_member(db, caller, group_id, user_id)
    await db.commit()
    return await present_one(db, caller, await user_groups.get(db, caller, group_id))


@router.delete("/{group_id:int}/users/{user_id:int}", status_code=204)
async def remove_member(group_id: IdPath, user_id: IdPath, db: Db, caller: Caller) -> Response:
    await user_groups.remove_member(db, caller, group_id, user_id)
    await db.commit()
    return Response(status_code=204)


@router.get("/{group_id:int}/mappings", response_model=list[UserGroupMapping])
async def list_mappings(group_id: IdPath, db: Db, caller: Caller) -> list[UserGroupMapping]:
    """The group's target organization groups, best rank first."""
    return [
        await present_mapping(db, caller, row)
        for row in await user_groups.mappings(db, caller, group_id)
    ]


@router.post("/{group_id:int}/mappings", response_model=UserGroupMapping, status_code=201,
             responses=errors.UNPROCESSABLE)
async def add_mapping(
    group_id: IdPath, body: UserGroupMappingCreate, db: Db, caller: Caller
) -> UserGroupMapping:
    """Map the group to a target OG at or below the group's own OG (422 for any other OG)."""
    row = await user_groups.add_mapping(db, caller, group_id, body.location_group_id, body.rank)
    await db.commit()
    return await present_mapping(db, caller, row)


@router.put("/{group_id:int}/mappings/{mapping_id:int}", response_model=UserGroupMapping)
async def update_mapping(
    group_id: IdPath, mapping_id: IdPath, body: UserGroupMappingUpdate, db: Db, caller: Caller
) -> UserGroupMapping:
    row = await user_groups.update_mapping(db, caller, group_id, mapping_id, body.rank)
    await db.commit()
    return await present_mapping(db, caller, row)


@router.delete("/{group_id:int}/mappings/{mapping_id:int}", status_code=204)
async def remove_mapping(group_id: IdPath, mapping_id: IdPath, db: Db, caller: Caller) -> Response:
    await user_groups.remove_mapping(db, caller, group_id, mapping_id)
    await db.commit()
    return Response(status_code=204)
