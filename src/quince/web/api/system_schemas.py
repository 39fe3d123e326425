"""Shapes of /API/system/admins and /API/system/info, as Workspace ONE answers them (v1, and v2
where its clients ask for it)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from quince.web.api.schemas import ApiModel, IdValue


class AdminRole(ApiModel):
    """One role an admin holds at an organization group; a Quince admin holds one."""

    name: str
    location_group: str
    location_group_id: int
    is_active: bool


class AdminUser(ApiModel):
    """An administrator as Workspace ONE v1 shows one. Quince keeps no names or email for an
    admin (they sign in with a username), so those are empty; the password never appears."""

    id: IdValue
    uuid: str
    user_name: str
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    location_group: str
    location_group_id: int
    organization_group_uuid: str
    is_active_directory_user: bool = False
    is_active: bool
    roles: list[AdminRole]


class AdminSearch(ApiModel):
    admins: list[AdminUser]
    page: int
    page_size: int
    total: int


class AdminUserV2(BaseModel):
    """An administrator in Workspace ONE v2's camelCase (`Accept: application/json;version=2`)."""

    model_config = ConfigDict(extra="forbid")

    uuid: str
    username: str
    firstName: str = ""
    lastName: str = ""
    email: str = ""
    organizationGroupUuid: str
    role: str
    isActive: bool


class AdminSearchV2(BaseModel):
    """v2's admin search: the list under `admins` (lower case), with v1's paging keys."""

    model_config = ConfigDict(extra="forbid")

    admins: list[AdminUserV2]
    Page: int
    PageSize: int
    Total: int


class ApiArea(BaseModel):
    model_config = ConfigDict(extra="forbid")

    location: str
    name: str


class SystemResources(ApiModel):
    workspaces: list[ApiArea]


class SystemInfo(ApiModel):
    """What Workspace ONE's `GET /API/system/info` answers and its clients read: the product and
    its version (scripts use the call as a connection test), and where each API area lives."""

    product_name: str
    product_version: str
    resources: SystemResources
