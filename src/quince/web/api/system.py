"""/API/system/admins/search and /API/system/info: the calls Workspace ONE integrations make first,
to check their credentials and the server."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Query, Request

import quince
from quince.services.access import admins
from quince.store.models import AdminRow, OrgGroupRow
from quince.store.paging import Page
from quince.store.rows import by_id
from quince.web.api import errors
from quince.web.api.deps import Caller, OgFilter, Paging, SortOrder, sort_descending
from quince.web.api.fields import AnyCase, Text
from quince.web.api.schemas import IdValue
from quince.web.api.system_schemas import (
    AdminRole,
    AdminSearch,
    AdminSearchV2,
    AdminUser,
    AdminUserV2,
    ApiArea,
    SystemInfo,
    SystemResources,
)
from quince.web.deps import Db

router = APIRouter(prefix="/API/system", tags=["System"], responses=errors.RESPONSES)

# Quince's admins carry none of these: a non-empty filter on them matches nobody.
_UNKNOWN_TO_QUINCE = "Quince keeps no first name, last name or email for an admin."
ROLE_NAMES = {"administrator": "Administrator", "read-only": "Read Only"}


async def _present(db: Db, rows: Sequence[AdminRow]) -> list[AdminUser]:
    ogs = await by_id(db, OrgGroupRow, {r.og_id for r in rows})
    return [
        AdminUser(
            id=IdValue(value=r.id), uuid=r.uuid, user_name=r.username,
            location_group=ogs[r.og_id].name, location_group_id=r.og_id,
            organization_group_uuid=ogs[r.og_id].uuid, is_active=r.active,
            roles=[AdminRole(name=ROLE_NAMES.get(r.role, r.role), location_group=ogs[r.og_id].name,
                             location_group_id=r.og_id, is_active=r.active)],
        )
        for r in rows
    ]


@router.get("/admins/search", response_model=AdminSearch | AdminSearchV2, responses=errors.UNPROCESSABLE)
async def search_admins(
    request: Request,
    db: Db,
    caller: Caller,
    paging: Paging,
    og: OgFilter,
    username: Annotated[Text | None, Query(max_length=128, description="Part of the username.")] = None,
    firstname: Annotated[Text | None, Query(max_length=128, description=_UNKNOWN_TO_QUINCE)] = None,
    lastname: Annotated[Text | None, Query(max_length=128, description=_UNKNOWN_TO_QUINCE)] = None,
    email: Annotated[Text | None, Query(max_length=256, description=_UNKNOWN_TO_QUINCE)] = None,
    role: Annotated[Text | None, Query(max_length=64, description=(
        "Administrator or Read Only; another role name matches nobody."))] = None,
    status: Annotated[Annotated[str, AnyCase(("Active", "Inactive"), "status")] | None, Query()] = None,
    orderby: Annotated[Annotated[str, AnyCase(("username",), "orderby")] | None, Query()] = None,
    sortorder: SortOrder = None,
) -> AdminSearch | AdminSearchV2:
    """Administrators of your organization groups, by username. Integrations call it with their own
    username to check their credentials. With `Accept: application/json;version=2` the list is
    `admins` in v2's camelCase."""
    if any((firstname, lastname, email)):
        page: Page[AdminRow] = Page([], paging.page, paging.page_size, 0)
    else:
        page = await admins.search(
            db, caller, paging, username=username, role=role,
            active=None if status is None else status == "Active", og_id=og,
            descending=sort_descending(sortorder),
        )
    found = await _present(db, page.items)
    if getattr(request.state, "api_version", None) == 2:
        return AdminSearchV2(
            admins=[AdminUserV2(uuid=a.uuid, username=a.user_name, role=a.roles[0].name,
                                organizationGroupUuid=a.organization_group_uuid, isActive=a.is_active)
                    for a in found],
            Page=page.page, PageSize=page.page_size, Total=page.total)
    return AdminSearch(admins=found, page=page.page, page_size=page.page_size, total=page.total)


@router.get("/info", response_model=SystemInfo)
async def system_info(request: Request, caller: Caller) -> SystemInfo:
    """The product and its version, and where each API area lives. Workspace ONE scripts call it
    to test the connection and the credentials."""
    base = str(request.base_url).rstrip("/")
    return SystemInfo(
        product_name="Quince", product_version=quince.__version__,
        resources=SystemResources(workspaces=[
            ApiArea(name=name, location=f"{base}/API/{name}") for name in ("system", "mdm", "mam")
        ]),
    )
