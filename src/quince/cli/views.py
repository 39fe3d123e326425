"""How the CLI shows things: PascalCase dicts for --json (spelled like the REST API) and the
shared options and helpers every command module uses."""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

import typer

from quince.cli.runtime import fail
from quince.domain.og_settings import SettingValue
from quince.services.directory import og_settings
from quince.services.directory.org_tree import load_tree
from quince.store.database import Db
from quince.store.models import (
    AdminRow,
    ApiKeyRow,
    EnrollmentUserRow,
    OAuthClientRow,
    OrgGroupRow,
    UserGroupMappingRow,
    UserGroupRow,
)
from quince.store.paging import MAX_PAGE_SIZE, Page, PageRequest

T = TypeVar("T")

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON (PascalCase keys) for scripts.")]
PasswordStdinOption = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password from the first line of stdin.")
]


def read_password(password: str | None, from_stdin: bool, *, required: bool) -> str | None:
    """The password from --password, --password-stdin, or (when required) a hidden prompt."""
    if password is not None and from_stdin:
        fail("Give either --password or --password-stdin, not both.")
    if from_stdin:
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            fail("--password-stdin was given but stdin held no password.")
        return line
    if password is None and required:
        entered: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
        return entered
    return password


async def all_pages(fetch: Callable[[PageRequest], Awaitable[Page[T]]]) -> list[T]:
    """Every item of a paged service call (the CLI shows whole lists)."""
    items: list[T] = []
    page = 0
    while True:
        got = await fetch(PageRequest(page, MAX_PAGE_SIZE))
        items.extend(got.items)
        if not got.items or len(items) >= got.total:
            return items
        page += 1


def when(value: datetime | None) -> str | None:
    """ISO 8601 in UTC; SQLite hands back naive datetimes, which Quince always writes in UTC."""
    if value is None:
        return None
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat(timespec="seconds")


class GroupIds:
    """Group IDs by OG id, loaded once, so rows can name their OGs the way people do."""

    def __init__(self, by_id: dict[int, tuple[str, str]]) -> None:
        self._by_id = by_id

    @classmethod
    async def load(cls, session: Db) -> GroupIds:
        return cls({og.id: (og.group_id, og.name) for og in await load_tree(session)})

    def group_id(self, og_id: int | None) -> str | None:
        return None if og_id is None else self._by_id[og_id][0]

    def name(self, og_id: int) -> str:
        return self._by_id[og_id][1]

    def label(self, og_id: int) -> str:
        return f"{self.name(og_id)} ({self.group_id(og_id)})"


def og_dict(row: OrgGroupRow, ids: GroupIds) -> dict[str, Any]:
    return {
        "Id": row.id, "Uuid": row.uuid, "Name": row.name, "GroupId": row.group_id,
        "LocationGroupType": row.type, "ParentGroupId": ids.group_id(row.parent_id),
    }


def user_dict(row: EnrollmentUserRow, ids: GroupIds) -> dict[str, Any]:
    return {
        "Id": row.id, "Uuid": row.uuid, "UserName": row.username, "Email": row.email,
        "ManagedAppleId": row.managed_apple_id, "FirstName": row.first_name,
        "LastName": row.last_name, "Status": row.active, "HasPassword": row.password_hash is not None,
        "LocationGroupId": row.og_id, "GroupId": ids.group_id(row.og_id), "Group": ids.name(row.og_id),
        "CreatedOn": when(row.created_at), "UpdatedOn": when(row.updated_at),
    }


def user_group_dict(row: UserGroupRow, ids: GroupIds, members: int | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "Id": row.id, "Uuid": row.uuid, "Name": row.name, "Description": row.description,
        "LocationGroupId": row.og_id, "GroupId": ids.group_id(row.og_id),
    }
    if members is not None:
        out["Members"] = members
    return out


def mapping_dict(row: UserGroupMappingRow, group: UserGroupRow, ids: GroupIds) -> dict[str, Any]:
    return {
        "Id": row.id, "UserGroupId": group.id, "UserGroup": group.name,
        "LocationGroupId": row.og_id, "GroupId": ids.group_id(row.og_id), "Name": ids.name(row.og_id),
        "Rank": row.rank,
    }


def admin_dict(row: AdminRow, og: OrgGroupRow) -> dict[str, Any]:
    return {
        "Id": row.id, "Uuid": row.uuid, "UserName": row.username, "Role": row.role,
        "LocationGroupId": og.id, "GroupId": og.group_id, "Active": row.active,
        "CreatedOn": when(row.created_at),
    }


def api_key_dict(row: ApiKeyRow, og: OrgGroupRow) -> dict[str, Any]:
    return {
        "Id": row.id, "Uuid": row.uuid, "Name": row.name, "KeyPrefix": row.key_prefix,
        "LocationGroupId": og.id, "GroupId": og.group_id, "CreatedOn": when(row.created_at),
        "RevokedOn": when(row.revoked_at), "Active": row.revoked_at is None,
    }


def api_client_dict(row: OAuthClientRow, og: OrgGroupRow) -> dict[str, Any]:
    return {
        "ClientId": row.client_id, "Name": row.name, "Role": row.role,
        "LocationGroupId": og.id, "GroupId": og.group_id, "CreatedOn": when(row.created_at),
        "CreatedBy": row.created_by, "RevokedOn": when(row.revoked_at), "Active": row.revoked_at is None,
    }


def value_text(value: SettingValue) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def setting_dict(view: og_settings.SettingView) -> dict[str, Any]:
    r = view.resolved
    return {
        "Key": r.key, "Value": r.value, "CurrentSetting": r.current.value,
        "SourceGroupId": view.source.group_id, "SourceName": view.source.name,
        "ChildPermission": r.child_permission.value,
        "PermissionFromParent": r.permission_from_parent.value if r.permission_from_parent else None,
        "Description": view.definition.description,
        "Choices": list(view.definition.choices),
    }
