"""How user groups link to the rest of the directory, as the console lists it: the OG mappings a
group has and the groups a user belongs to, each within a scope."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from quince.services.scope import Scope
from quince.store.models import UserGroupMappingRow, UserGroupMemberRow, UserGroupRow


async def mapping_counts(db: AsyncSession, scope: Scope, group_ids: list[int]) -> dict[int, int]:
    """How many OG mappings each of `group_ids` has (0 for none), counting groups in `scope` only."""
    stmt = (
        select(UserGroupMappingRow.user_group_id, func.count())
        .join(UserGroupRow, UserGroupRow.id == UserGroupMappingRow.user_group_id)
        .where(UserGroupMappingRow.user_group_id.in_(group_ids), UserGroupRow.og_id.in_(scope.og_ids()))
        .group_by(UserGroupMappingRow.user_group_id)
    )
    found = dict((await db.execute(stmt)).tuples().all())
    return {i: found.get(i, 0) for i in group_ids}


async def groups_of_user(db: AsyncSession, scope: Scope, user_id: int) -> list[UserGroupRow]:
    """The groups user `user_id` belongs to whose OG is in `scope` (a group can sit above the
    user's OG), by name."""
    return list(await db.scalars(
        select(UserGroupRow)
        .join(UserGroupMemberRow, UserGroupMemberRow.user_group_id == UserGroupRow.id)
        .where(UserGroupMemberRow.user_id == user_id, UserGroupRow.og_id.in_(scope.og_ids()))
        .order_by(UserGroupRow.name_key, UserGroupRow.id)
    ))
