"""User groups, their members, and their ranked mappings to target OGs."""

from __future__ import annotations

from quince.domain.errors import Conflict, InvalidInContext, InvalidInput, NotFound
from quince.domain.org_groups import validate_og_name
from quince.services.directory import org_groups, users
from quince.services.references import by_id_or_name
from quince.services.scope import Scope
from quince.store import user_groups as group_store
from quince.store.database import Db
from quince.store.models import (
    EnrollmentUserRow,
    UserGroupMappingRow,
    UserGroupRow,
)
from quince.store.paging import Page, PageRequest

MIN_RANK, MAX_RANK = 1, 1000


def _validate_name(name: str) -> str:
    try:
        return validate_og_name(name)
    except InvalidInput as exc:
        raise InvalidInput("Name", exc.message.replace("organization group", "user group")) from None


async def get(session: Db, scope: Scope, group_id: int) -> UserGroupRow:
    row = await group_store.group_within(session, group_id, scope.path)
    if row is None:
        raise NotFound("User group", group_id)
    return row


async def resolve_ref(session: Db, scope: Scope, ref: str) -> UserGroupRow:
    """A user group named by numeric id or by name (refused if the name is ambiguous)."""
    return await by_id_or_name(
        ref, lambda group_id: get(session, scope, group_id),
        lambda name: group_store.groups_named_within(session, name.casefold(), scope.path),
        noun="User group", field="UserGroup", several="Several user groups are named {ref}")


async def search(
    session: Db, scope: Scope, page: PageRequest, *, name: str | None = None,
    og_id: int | None = None,
) -> Page[UserGroupRow]:
    og = await org_groups.get(session, scope, og_id) if og_id is not None else None
    return await group_store.search(session, scope.path, page, name=name, og_id=og.id if og else None)


async def member_counts(
    session: Db, group_ids: list[int], scope: Scope | None = None
) -> dict[int, int]:
    """Members of each group; with a scope, only those the caller may see."""
    found = await group_store.member_counts(session, group_ids, scope.path if scope is not None else None)
    return {i: found.get(i, 0) for i in group_ids}


async def _check_name_free(session: Db, og_id: int, name: str, own_id: int | None) -> None:
    other = await group_store.group_named_at(session, og_id, name.casefold())
    if other is not None and other.id != own_id:
        raise Conflict(f"A user group named {name!r} already exists in that organization group.")


async def create(
    session: Db, scope: Scope, *, name: str, og_id: int, description: str = ""
) -> UserGroupRow:
    scope.require_write()
    name = _validate_name(name)
    og = await org_groups.get(session, scope, og_id)
    await _check_name_free(session, og.id, name, None)
    row = UserGroupRow(name=name, name_key=name.casefold(), og_id=og.id, description=description[:500])
    session.add(row)
    await session.flush()
    return row


async def update(
    session: Db, scope: Scope, group_id: int, *, name: str | None = None,
    description: str | None = None,
) -> UserGroupRow:
    scope.require_write()
    row = await get(session, scope, group_id)
    if name is not None:
        name = _validate_name(name)
        await _check_name_free(session, row.og_id, name, row.id)
        row.name, row.name_key = name, name.casefold()
    if description is not None:
        row.description = description[:500]
    await session.flush()
    return row


async def delete_group(session: Db, scope: Scope, group_id: int) -> None:
    """Delete a user group with its memberships and mappings."""
    scope.require_write()
    await session.delete(await get(session, scope, group_id))
    await session.flush()


async def members(
    session: Db, scope: Scope, group_id: int, page: PageRequest
) -> Page[EnrollmentUserRow]:
    await get(session, scope, group_id)
    return await group_store.members_within(session, group_id, scope.path, page)


async def add_member(session: Db, scope: Scope, group_id: int, user_id: int) -> bool:
    """Add a user to a group; False when the user was already a member (also when another request
    added them at the same moment: one statement inserts the membership or finds it there)."""
    scope.require_write()
    group = await get(session, scope, group_id)
    user = await users.get(session, scope, user_id)
    return await group_store.add_member(session, group.id, user.id)


async def remove_member(session: Db, scope: Scope, group_id: int, user_id: int) -> None:
    scope.require_write()
    group = await get(session, scope, group_id)
    user = await users.get(session, scope, user_id)
    if not await group_store.remove_member(session, group.id, user.id):
        raise NotFound("Membership of user", user.username)


def _validate_rank(rank: int) -> int:
    if not MIN_RANK <= rank <= MAX_RANK:
        raise InvalidInput("Rank", f"Rank must be between {MIN_RANK} (best) and {MAX_RANK}.")
    return rank


async def mappings(session: Db, scope: Scope, group_id: int) -> list[UserGroupMappingRow]:
    await get(session, scope, group_id)
    return await group_store.mappings_of_group(session, group_id)


async def get_mapping(
    session: Db, scope: Scope, group_id: int, mapping_id: int
) -> UserGroupMappingRow:
    await get(session, scope, group_id)
    row = await session.get(UserGroupMappingRow, mapping_id)
    if row is None or row.user_group_id != group_id:
        raise NotFound("Mapping", mapping_id)
    return row


async def add_mapping(
    session: Db, scope: Scope, group_id: int, og_id: int, rank: int
) -> UserGroupMappingRow:
    """Map a user group to a target OG, which must be the group's own OG or below it."""
    scope.require_write()
    group = await get(session, scope, group_id)
    target = await org_groups.get(session, scope, og_id)
    home = await org_groups.get(session, scope, group.og_id)
    if not target.path.startswith(home.path):
        raise InvalidInContext(
            "LocationGroupId",
            f"User group {group.name!r} lives at {home.name!r}; it can only map to that "
            f"organization group or one below it, not {target.name!r}.",
        )
    taken = Conflict(
        f"User group {group.name!r} is already mapped to {target.name!r}; change its rank instead."
    )
    if await group_store.mapping_id(session, group.id, target.id) is not None:
        raise taken  # before the rank is checked: the mapping is there whatever its rank
    # Insert unless mapped already, in one statement: of two requests adding the same mapping
    # at once, one adds it and the other gets the same refusal as a request coming after it.
    row_id = await group_store.add_mapping(session, group.id, target.id, _validate_rank(rank))
    if row_id is None:
        raise taken
    row = await session.get(UserGroupMappingRow, row_id)
    assert row is not None
    return row


async def update_mapping(
    session: Db, scope: Scope, group_id: int, mapping_id: int, rank: int
) -> UserGroupMappingRow:
    scope.require_write()
    row = await get_mapping(session, scope, group_id, mapping_id)
    row.rank = _validate_rank(rank)
    await session.flush()
    return row


async def remove_mapping(session: Db, scope: Scope, group_id: int, mapping_id: int) -> None:
    scope.require_write()
    await session.delete(await get_mapping(session, scope, group_id, mapping_id))
    await session.flush()
