"""User groups, their members, and their ranked mappings to target OGs."""

from __future__ import annotations

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from quince.domain.errors import Conflict, InvalidInContext, InvalidInput, NotFound
from quince.domain.org_groups import validate_og_name
from quince.services import org_groups, users
from quince.services.paging import Page, PageRequest, paginate
from quince.services.scope import Scope
from quince.store.models import (
    EnrollmentUserRow,
    UserGroupMappingRow,
    UserGroupMemberRow,
    UserGroupRow,
)

MIN_RANK, MAX_RANK = 1, 1000


def _in_scope(scope: Scope) -> ColumnElement[bool]:
    return UserGroupRow.og_id.in_(scope.og_ids())


def _validate_name(name: str) -> str:
    try:
        return validate_og_name(name)
    except InvalidInput as exc:
        raise InvalidInput("Name", exc.message.replace("organization group", "user group")) from None


async def get(session: AsyncSession, scope: Scope, group_id: int) -> UserGroupRow:
    row = await session.scalar(
        select(UserGroupRow).where(UserGroupRow.id == group_id, _in_scope(scope))
    )
    if row is None:
        raise NotFound("User group", group_id)
    return row


async def resolve_ref(session: AsyncSession, scope: Scope, ref: str) -> UserGroupRow:
    """A user group named by numeric id or by name (refused if the name is ambiguous)."""
    if ref.isdigit():
        try:
            return await get(session, scope, int(ref))
        except NotFound:
            pass
    rows = list(await session.scalars(
        select(UserGroupRow).where(UserGroupRow.name_key == ref.casefold(), _in_scope(scope))
    ))
    if not rows:
        raise NotFound("User group", ref)
    if len(rows) > 1:
        ids = ", ".join(str(r.id) for r in rows)
        raise InvalidInput("UserGroup", f"Several user groups are named {ref!r} (ids {ids}); use an id.")
    return rows[0]


async def search(
    session: AsyncSession, scope: Scope, page: PageRequest, *, name: str | None = None,
    og_id: int | None = None,
) -> Page[UserGroupRow]:
    stmt = select(UserGroupRow).where(_in_scope(scope))
    if name:
        stmt = stmt.where(UserGroupRow.name.icontains(name, autoescape=True))
    if og_id is not None:
        stmt = stmt.where(UserGroupRow.og_id == (await org_groups.get(session, scope, og_id)).id)
    return await paginate(session, stmt.order_by(UserGroupRow.name_key, UserGroupRow.id), page)


def _members_in_scope(scope: Scope) -> ColumnElement[bool]:
    """A group may hold users from outside the caller's subtree (added by a wider admin)."""
    return UserGroupMemberRow.user_id.in_(
        select(EnrollmentUserRow.id).where(EnrollmentUserRow.og_id.in_(scope.og_ids()))
    )


async def member_counts(
    session: AsyncSession, group_ids: list[int], scope: Scope | None = None
) -> dict[int, int]:
    """Members of each group; with a scope, only those the caller may see."""
    stmt = (
        select(UserGroupMemberRow.user_group_id, func.count())
        .where(UserGroupMemberRow.user_group_id.in_(group_ids))
        .group_by(UserGroupMemberRow.user_group_id)
    )
    if scope is not None:
        stmt = stmt.where(_members_in_scope(scope))
    found = dict((await session.execute(stmt)).tuples().all())
    return {i: found.get(i, 0) for i in group_ids}


async def _check_name_free(session: AsyncSession, og_id: int, name: str, own_id: int | None) -> None:
    other = await session.scalar(
        select(UserGroupRow).where(UserGroupRow.og_id == og_id, UserGroupRow.name_key == name.casefold())
    )
    if other is not None and other.id != own_id:
        raise Conflict(f"A user group named {name!r} already exists in that organization group.")


async def create(
    session: AsyncSession, scope: Scope, *, name: str, og_id: int, description: str = ""
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
    session: AsyncSession, scope: Scope, group_id: int, *, name: str | None = None,
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


async def delete_group(session: AsyncSession, scope: Scope, group_id: int) -> None:
    """Delete a user group with its memberships and mappings."""
    scope.require_write()
    await session.delete(await get(session, scope, group_id))
    await session.flush()


async def members(
    session: AsyncSession, scope: Scope, group_id: int, page: PageRequest
) -> Page[EnrollmentUserRow]:
    await get(session, scope, group_id)
    stmt = (
        select(EnrollmentUserRow)
        .join(UserGroupMemberRow, UserGroupMemberRow.user_id == EnrollmentUserRow.id)
        .where(UserGroupMemberRow.user_group_id == group_id, _members_in_scope(scope))
        .order_by(EnrollmentUserRow.username_key)
    )
    return await paginate(session, stmt, page)


async def add_member(session: AsyncSession, scope: Scope, group_id: int, user_id: int) -> bool:
    """Add a user to a group; False when the user was already a member."""
    scope.require_write()
    group = await get(session, scope, group_id)
    user = await users.get(session, scope, user_id)
    if await session.get(UserGroupMemberRow, (group.id, user.id)) is not None:
        return False
    session.add(UserGroupMemberRow(user_group_id=group.id, user_id=user.id))
    await session.flush()
    return True


async def remove_member(session: AsyncSession, scope: Scope, group_id: int, user_id: int) -> None:
    scope.require_write()
    group = await get(session, scope, group_id)
    user = await users.get(session, scope, user_id)
    result = await session.execute(
        delete(UserGroupMemberRow).where(
            UserGroupMemberRow.user_group_id == group.id, UserGroupMemberRow.user_id == user.id
        )
    )
    if not getattr(result, "rowcount", 0):
        raise NotFound("Membership of user", user.username)


def _validate_rank(rank: int) -> int:
    if not MIN_RANK <= rank <= MAX_RANK:
        raise InvalidInput("Rank", f"Rank must be between {MIN_RANK} (best) and {MAX_RANK}.")
    return rank


async def mappings(session: AsyncSession, scope: Scope, group_id: int) -> list[UserGroupMappingRow]:
    await get(session, scope, group_id)
    rows = await session.scalars(
        select(UserGroupMappingRow)
        .where(UserGroupMappingRow.user_group_id == group_id)
        .order_by(UserGroupMappingRow.rank, UserGroupMappingRow.id)
    )
    return list(rows)


async def get_mapping(
    session: AsyncSession, scope: Scope, group_id: int, mapping_id: int
) -> UserGroupMappingRow:
    await get(session, scope, group_id)
    row = await session.get(UserGroupMappingRow, mapping_id)
    if row is None or row.user_group_id != group_id:
        raise NotFound("Mapping", mapping_id)
    return row


async def add_mapping(
    session: AsyncSession, scope: Scope, group_id: int, og_id: int, rank: int
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
    existing = await session.scalar(select(UserGroupMappingRow).where(
        UserGroupMappingRow.user_group_id == group.id, UserGroupMappingRow.og_id == target.id
    ))
    if existing is not None:
        raise Conflict(
            f"User group {group.name!r} is already mapped to {target.name!r}; change its rank instead."
        )
    row = UserGroupMappingRow(user_group_id=group.id, og_id=target.id, rank=_validate_rank(rank))
    session.add(row)
    await session.flush()
    return row


async def update_mapping(
    session: AsyncSession, scope: Scope, group_id: int, mapping_id: int, rank: int
) -> UserGroupMappingRow:
    scope.require_write()
    row = await get_mapping(session, scope, group_id, mapping_id)
    row.rank = _validate_rank(rank)
    await session.flush()
    return row


async def remove_mapping(session: AsyncSession, scope: Scope, group_id: int, mapping_id: int) -> None:
    scope.require_write()
    await session.delete(await get_mapping(session, scope, group_id, mapping_id))
    await session.flush()
