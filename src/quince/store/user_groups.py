"""Queries of user groups, their members and their user group → OG mappings."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from quince.domain.enrollment_policy import GroupMapping
from quince.store.models import UserGroupMappingRow, UserGroupMemberRow, UserGroupRow
from quince.store.org_groups import og_ids_within


async def mappings_of_user(db: AsyncSession, user_id: int) -> list[GroupMapping]:
    """Every mapping of every user group the user belongs to."""
    stmt = (
        select(UserGroupRow.id, UserGroupRow.name, UserGroupMappingRow.og_id, UserGroupMappingRow.rank)
        .join(UserGroupMemberRow, UserGroupMemberRow.user_group_id == UserGroupRow.id)
        .join(UserGroupMappingRow, UserGroupMappingRow.user_group_id == UserGroupRow.id)
        .where(UserGroupMemberRow.user_id == user_id)
    )
    return [GroupMapping(*row) for row in (await db.execute(stmt)).tuples()]


async def ids_within(db: AsyncSession, user_group_ids: list[int], path: str) -> set[int]:
    """Those of `user_group_ids` whose user group belongs to an OG in the subtree at `path`."""
    return set(await db.scalars(select(UserGroupRow.id).where(
        UserGroupRow.id.in_(user_group_ids), UserGroupRow.og_id.in_(og_ids_within(path))
    )))
