"""/API/system/groups: organization groups."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from quince.domain.org_groups import GROUP_ID_MAX_LENGTH, NAME_MAX_LENGTH
from quince.services.directory import org_groups
from quince.store.models import OrgGroupRow
from quince.web.api import errors
from quince.web.api.deps import Caller, IdPath, Paging, SortOrder, sort_descending
from quince.web.api.fields import AnyCase, Text
from quince.web.api.schemas import (
    MAX_ID,
    IdValue,
    LocationGroup,
    LocationGroupCreate,
    LocationGroupCreated,
    LocationGroupSearch,
    LocationGroupUpdate,
    OgType,
    OrganizationGroupSearchV2,
    OrganizationGroupV2,
    Reference,
    wire_time,
)
from quince.web.deps import Db

router = APIRouter(prefix="/API/system/groups", tags=["Organization groups"], responses=errors.RESPONSES)


def reference(row: OrgGroupRow) -> Reference:
    return Reference(id=IdValue(value=row.id), name=row.name, uuid=row.uuid)


async def present(
    db: Db, rows: list[OrgGroupRow], levels: dict[int, int] | None = None
) -> list[LocationGroup]:
    """Rows as the API's LocationGroup, with parents and user/admin/device counts."""
    counts = await org_groups.counts(db, [r.id for r in rows])
    out = []
    for row in rows:
        parent = await org_groups.parent_of(db, row)
        c = counts[row.id]
        out.append(LocationGroup(
            id=IdValue(value=row.id), uuid=row.uuid, name=row.name, group_id=row.group_id,
            location_group_type=row.type, country=row.country, locale=row.locale,
            parent_location_group=reference(parent) if parent else None,
            lg_level=(levels or {}).get(row.id), created_on=wire_time(row.created_at),
            users=str(c.users), admins=str(c.admins), devices=str(c.devices),
        ))
    return out


@router.get("/search", response_model=LocationGroupSearch | OrganizationGroupSearchV2,
            response_model_exclude_none=True)
async def search_groups(
    request: Request,
    db: Db,
    caller: Caller,
    paging: Paging,
    name: Annotated[Text | None, Query(max_length=NAME_MAX_LENGTH)] = None,
    type: Annotated[OgType | None, Query()] = None,
    groupid: Annotated[Text | None, Query(max_length=GROUP_ID_MAX_LENGTH)] = None,
    orderby: Annotated[Annotated[str, AnyCase(org_groups.ORDER_BY, "orderby")], Query()] = "name",
    sortorder: SortOrder = None,
) -> LocationGroupSearch | OrganizationGroupSearchV2:
    """Organization groups in your subtree; `name` matches part of the name, `groupid` exactly.
    With `Accept: application/json;version=2`, v2's `OrganizationGroups` and `TotalResults`."""
    page = await org_groups.search(
        db, caller, paging, name=name, og_type=type, group_id=groupid, order_by=orderby,
        descending=sort_descending(sortorder),
    )
    found = await present(db, list(page.items))
    if getattr(request.state, "api_version", None) == 2:
        return OrganizationGroupSearchV2(
            organization_groups=[_v2(og) for og in found], total_results=page.total, page=page.page,
            page_size=page.page_size)
    return LocationGroupSearch(location_groups=found, page=page.page, page_size=page.page_size,
                               total=page.total)


def _v2(og: LocationGroup) -> OrganizationGroupV2:
    parent = og.parent_location_group
    return OrganizationGroupV2(
        id=og.id.value, uuid=og.uuid, name=og.name, group_id=og.group_id,
        location_group_type=og.location_group_type, country=og.country, locale=og.locale,
        parent_location_group_uuid=parent.uuid if parent else None, created_on=og.created_on,
        users=og.users, admins=og.admins, devices=og.devices)


@router.get("/{og_id:int}", response_model=LocationGroup, response_model_exclude_none=True)
async def get_group(og_id: IdPath, db: Db, caller: Caller) -> LocationGroup:
    return (await present(db, [await org_groups.get(db, caller, og_id)]))[0]


@router.get("/{og_id:int}/children", response_model=list[LocationGroup], response_model_exclude_none=True)
async def get_children(og_id: IdPath, db: Db, caller: Caller) -> list[LocationGroup]:
    """The OG (LgLevel 0) and every OG below it, depth first, with their levels."""
    found = await org_groups.subtree(db, caller, og_id)
    return await present(db, [r for r, _ in found], {r.id: level for r, level in found})


@router.post("/{og_id:int}", response_model=LocationGroupCreated, status_code=201,
             response_model_exclude_none=True, responses=errors.UNPROCESSABLE)
async def create_group(
    og_id: Annotated[int, Path(ge=1, le=MAX_ID, description="The parent organization group.")],
    body: LocationGroupCreate, db: Db, caller: Caller,
) -> LocationGroupCreated:
    """Create a child organization group below `og_id`. The types above decide which type it may
    have (422 otherwise): below a Customer only Containers, a Partner only below Global or a
    Partner. The answer is the group, with its id again as `Value` (what Workspace ONE answers)."""
    row = await org_groups.create(
        db, caller, og_id, name=body.name, group_id=body.group_id,
        og_type=body.location_group_type, country=body.country, locale=body.locale,
    )
    await db.commit()
    group = (await present(db, [row]))[0]
    return LocationGroupCreated(**group.model_dump(), value=row.id)


@router.put("/{og_id:int}", response_model=LocationGroup, response_model_exclude_none=True,
            responses=errors.UNPROCESSABLE)
async def update_group(og_id: IdPath, body: LocationGroupUpdate, db: Db, caller: Caller) -> LocationGroup:
    """Change the given fields. A new ParentId moves the OG, and a new LocationGroupType retypes
    it, only while it holds nothing (409), and only where the types above allow (422)."""
    row = await org_groups.update(
        db, caller, og_id, name=body.name, group_id=body.group_id,
        og_type=body.location_group_type, parent_id=body.parent_id,
        country=body.country, locale=body.locale,
    )
    await db.commit()
    return (await present(db, [row]))[0]


@router.delete("/{og_id:int}", status_code=204)
async def delete_group(og_id: IdPath, db: Db, caller: Caller) -> Response:
    """Delete an organization group that holds no children, users, devices or admins."""
    await org_groups.delete(db, caller, og_id)
    await db.commit()
    return Response(status_code=204)
