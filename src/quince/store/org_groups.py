"""Queries of organization groups and their settings rows: the tree, the subtree at a
materialized path, Group IDs, what an OG holds. Paths end in `/`, so a subtree is one prefix match."""

from __future__ import annotations

from typing import Any, TypeAlias

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from quince.domain.og_settings import ChildPermission, Override
from quince.domain.org_groups import OGType, OrgGroup, OrgTree
from quince.store.models import (
    AdminRow,
    ApiKeyRow,
    DeviceRow,
    EnrollmentUserRow,
    OGSettingRow,
    OrgGroupRow,
    UserGroupMappingRow,
    UserGroupRow,
)
from quince.store.paging import Page, PageRequest, paginate

ORDER_COLUMNS: dict[str, Any] = {
    "id": OrgGroupRow.id,
    "name": OrgGroupRow.name,
    "groupid": OrgGroupRow.group_id_key,
    "type": OrgGroupRow.type,
    "createdon": OrgGroupRow.created_at,
}

# Columns, never ORM objects: always the rows as stored now, never a copy the session loaded
# earlier (a change made by another transaction, or by a bulk statement in this one, would not
# reach such a copy).
_TREE = select(OrgGroupRow.id, OrgGroupRow.uuid, OrgGroupRow.name, OrgGroupRow.group_id,
               OrgGroupRow.type, OrgGroupRow.parent_id)
_OVERRIDES = select(OGSettingRow.og_id, OGSettingRow.key, OGSettingRow.value,
                    OGSettingRow.child_permission)


def within(path: str) -> ColumnElement[bool]:
    """OGs in the subtree at `path` (the OG itself included)."""
    return OrgGroupRow.path.startswith(path, autoescape=True)


# A subquery of OG ids, handed through services to the store functions that filter by it.
SubtreeIds: TypeAlias = "Select[tuple[int]]"


def og_ids_within(path: str) -> SubtreeIds:
    """The ids of the OGs in the subtree at `path`, for `column.in_(...)` filters."""
    return select(OrgGroupRow.id).where(within(path))


async def tree(db: AsyncSession) -> OrgTree:
    rows = (await db.execute(_TREE)).tuples()
    return OrgTree(
        OrgGroup(id=og_id, uuid=uuid, name=name, group_id=group_id, type=OGType(kind),
                 parent_id=parent_id)
        for og_id, uuid, name, group_id, kind, parent_id in rows
    )


async def overrides(db: AsyncSession) -> dict[int, dict[str, Override]]:
    out: dict[int, dict[str, Override]] = {}
    for og_id, key, value, permission in (await db.execute(_OVERRIDES)).tuples():
        out.setdefault(og_id, {})[key] = Override(value, ChildPermission(permission))
    return out


async def root(db: AsyncSession) -> OrgGroupRow | None:
    row: OrgGroupRow | None = await db.scalar(select(OrgGroupRow).where(OrgGroupRow.parent_id.is_(None)))
    return row


async def by_group_id_key(db: AsyncSession, key: str) -> OrgGroupRow | None:
    row: OrgGroupRow | None = await db.scalar(select(OrgGroupRow).where(OrgGroupRow.group_id_key == key))
    return row


async def by_uuid(db: AsyncSession, uuid: str) -> OrgGroupRow | None:
    found = await db.execute(select(OrgGroupRow).where(OrgGroupRow.uuid == uuid.lower()))
    return found.scalar_one_or_none()


async def all_ogs(db: AsyncSession) -> list[OrgGroupRow]:
    return list(await db.scalars(select(OrgGroupRow)))


async def names_of_type(db: AsyncSession, og_type: str, limit: int) -> list[str]:
    """The names of up to `limit` OGs of this type, oldest first."""
    return list(await db.scalars(
        select(OrgGroupRow.name).where(OrgGroupRow.type == og_type).order_by(OrgGroupRow.id).limit(limit)
    ))


async def rows_within(db: AsyncSession, path: str) -> list[OrgGroupRow]:
    return list(await db.scalars(select(OrgGroupRow).where(within(path))))


async def search(
    db: AsyncSession,
    path: str,
    page: PageRequest,
    *,
    name: str | None,
    og_type: str | None,
    group_id_key: str | None,
    order_column: Any,
    descending: bool,
) -> Page[OrgGroupRow]:
    """OGs in the subtree at `path`: `name` matches part of the name, the type any case, the
    Group ID exactly; ordered by `order_column` (one of ORDER_COLUMNS), then id."""
    stmt = select(OrgGroupRow).where(within(path))
    if name:
        stmt = stmt.where(OrgGroupRow.name.icontains(name, autoescape=True))
    if og_type:
        stmt = stmt.where(func.lower(OrgGroupRow.type) == og_type.lower())
    if group_id_key:
        stmt = stmt.where(OrgGroupRow.group_id_key == group_id_key)
    stmt = stmt.order_by(order_column.desc() if descending else order_column.asc(), OrgGroupRow.id)
    return await paginate(db, stmt, page)


async def counts_at(db: AsyncSession, og_ids: list[int]) -> dict[int, dict[str, int]]:
    """How many users, admins and devices sit directly at each OG (labels users/admins/devices)."""
    found: dict[int, dict[str, int]] = {i: {} for i in og_ids}
    for label, model in (("users", EnrollmentUserRow), ("admins", AdminRow), ("devices", DeviceRow)):
        stmt = (
            select(model.og_id, func.count())
            .where(model.og_id.in_(og_ids))
            .group_by(model.og_id)
        )
        for og_id, n in (await db.execute(stmt)).all():
            found[og_id][label] = n
    return found


async def holdings(db: AsyncSession, og_id: int) -> dict[str, int]:
    """What an OG holds that stops it from being moved or deleted, by label."""
    checks = {
        "child organization groups": select(func.count()).where(OrgGroupRow.parent_id == og_id),
        "users": select(func.count()).where(EnrollmentUserRow.og_id == og_id),
        "devices": select(func.count()).where(DeviceRow.og_id == og_id),
        "admins": select(func.count()).where(AdminRow.og_id == og_id),
        "API keys": select(func.count()).where(ApiKeyRow.og_id == og_id),
        "user groups": select(func.count()).where(UserGroupRow.og_id == og_id),
        "user-group mappings": select(func.count()).where(UserGroupMappingRow.og_id == og_id),
    }
    return {label: (await db.scalar(stmt)) or 0 for label, stmt in checks.items()}
