"""How user groups link to the rest of the directory, as the console lists it: the OG mappings a
group has and the groups a user belongs to, each within a scope."""

from __future__ import annotations

from quince.services.scope import Scope
from quince.store import user_groups as user_group_store
from quince.store.database import Db
from quince.store.models import UserGroupRow


async def mapping_counts(db: Db, scope: Scope, group_ids: list[int]) -> dict[int, int]:
    """How many OG mappings each of `group_ids` has (0 for none), counting groups in `scope` only."""
    return await user_group_store.mapping_counts(db, group_ids, scope.path)


async def groups_of_user(db: Db, scope: Scope, user_id: int) -> list[UserGroupRow]:
    """The groups user `user_id` belongs to whose OG is in `scope` (a group can sit above the
    user's OG), by name."""
    return await user_group_store.groups_of_user(db, user_id, scope.path)


async def groups_of_users(db: Db, scope: Scope, user_ids: list[int]) -> dict[int, list[UserGroupRow]]:
    """`groups_of_user` for a page of users at once."""
    return await user_group_store.groups_of_users(db, user_ids, scope.path)
