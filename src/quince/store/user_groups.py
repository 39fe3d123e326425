"""Queries of user groups, their members and their user group → OG mappings."""

from __future__ import annotations

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from quince.domain.enrollment_policy import GroupMapping
from quince.store import concurrency
from quince.store.models import EnrollmentUserRow, UserGroupMappingRow, UserGroupMemberRow, UserGroupRow
from quince.store.org_groups import og_ids_within
from quince.store.paging import Page, PageRequest, paginate


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
        UserGroupRow.id.in_(user_group_ids), _within(path)
    )))


def _within(path: str) -> ColumnElement[bool]:
    return UserGroupRow.og_id.in_(og_ids_within(path))


def _members_within(path: str) -> ColumnElement[bool]:
    """Members who are users of the OGs in the subtree at `path` (a group may hold users from
    outside a caller's subtree, added by a wider admin)."""
    return UserGroupMemberRow.user_id.in_(
        select(EnrollmentUserRow.id).where(EnrollmentUserRow.og_id.in_(og_ids_within(path)))
    )


async def group_within(db: AsyncSession, group_id: int, path: str) -> UserGroupRow | None:
    row: UserGroupRow | None = await db.scalar(
        select(UserGroupRow).where(UserGroupRow.id == group_id, _within(path))
    )
    return row


async def groups_named_within(db: AsyncSession, name_key: str, path: str) -> list[UserGroupRow]:
    return list(await db.scalars(
        select(UserGroupRow).where(UserGroupRow.name_key == name_key, _within(path))
    ))


async def group_named_at(db: AsyncSession, og_id: int, name_key: str) -> UserGroupRow | None:
    row: UserGroupRow | None = await db.scalar(
        select(UserGroupRow).where(UserGroupRow.og_id == og_id, UserGroupRow.name_key == name_key)
    )
    return row


async def search(
    db: AsyncSession, path: str, page: PageRequest, *, name: str | None, og_id: int | None
) -> Page[UserGroupRow]:
    """User groups of the OGs in the subtree at `path`, by name: `name` matches part of it."""
    stmt = select(UserGroupRow).where(_within(path))
    if name:
        stmt = stmt.where(UserGroupRow.name.icontains(name, autoescape=True))
    if og_id is not None:
        stmt = stmt.where(UserGroupRow.og_id == og_id)
    return await paginate(db, stmt.order_by(UserGroupRow.name_key, UserGroupRow.id), page)


async def member_counts(db: AsyncSession, group_ids: list[int], path: str | None) -> dict[int, int]:
    """Members of each group that has any; with `path`, only users of that subtree."""
    stmt = (
        select(UserGroupMemberRow.user_group_id, func.count())
        .where(UserGroupMemberRow.user_group_id.in_(group_ids))
        .group_by(UserGroupMemberRow.user_group_id)
    )
    if path is not None:
        stmt = stmt.where(_members_within(path))
    return dict((await db.execute(stmt)).tuples().all())


async def members_within(
    db: AsyncSession, group_id: int, path: str, page: PageRequest
) -> Page[EnrollmentUserRow]:
    """Members of the group who are users of the subtree at `path`, by username."""
    stmt = (
        select(EnrollmentUserRow)
        .join(UserGroupMemberRow, UserGroupMemberRow.user_id == EnrollmentUserRow.id)
        .where(UserGroupMemberRow.user_group_id == group_id, _members_within(path))
        .order_by(EnrollmentUserRow.username_key)
    )
    return await paginate(db, stmt, page)


async def add_member(db: AsyncSession, group_id: int, user_id: int) -> bool:
    """Insert the membership unless it is there, in one statement; True when it was inserted."""
    added = await db.scalar(
        concurrency.insert(db, UserGroupMemberRow)
        .values(user_group_id=group_id, user_id=user_id)
        .on_conflict_do_nothing(index_elements=["user_group_id", "user_id"])
        .returning(UserGroupMemberRow.user_id)
    )
    return added is not None


async def remove_member(db: AsyncSession, group_id: int, user_id: int) -> bool:
    """Delete the membership; False when there was none."""
    result = await db.execute(
        delete(UserGroupMemberRow).where(
            UserGroupMemberRow.user_group_id == group_id, UserGroupMemberRow.user_id == user_id
        )
    )
    return bool(getattr(result, "rowcount", 0))


async def mappings_of_group(db: AsyncSession, group_id: int) -> list[UserGroupMappingRow]:
    """The group's mappings, best rank first."""
    return list(await db.scalars(
        select(UserGroupMappingRow)
        .where(UserGroupMappingRow.user_group_id == group_id)
        .order_by(UserGroupMappingRow.rank, UserGroupMappingRow.id)
    ))


async def mapping_id(db: AsyncSession, group_id: int, og_id: int) -> int | None:
    """The id of the group's mapping to `og_id`, if it has one."""
    found: int | None = await db.scalar(select(UserGroupMappingRow.id).where(
        UserGroupMappingRow.user_group_id == group_id, UserGroupMappingRow.og_id == og_id
    ))
    return found


async def add_mapping(db: AsyncSession, group_id: int, og_id: int, rank: int) -> int | None:
    """Insert the mapping unless the group is mapped to `og_id` already, in one statement; the
    new mapping's id, or None."""
    row_id: int | None = await db.scalar(
        concurrency.insert(db, UserGroupMappingRow)
        .values(user_group_id=group_id, og_id=og_id, rank=rank)
        .on_conflict_do_nothing(index_elements=["user_group_id", "og_id"])
        .returning(UserGroupMappingRow.id)
    )
    return row_id


async def mapping_counts(db: AsyncSession, group_ids: list[int], path: str) -> dict[int, int]:
    """How many OG mappings each of `group_ids` has (0 for none), counting groups within `path`."""
    stmt = (
        select(UserGroupMappingRow.user_group_id, func.count())
        .join(UserGroupRow, UserGroupRow.id == UserGroupMappingRow.user_group_id)
        .where(UserGroupMappingRow.user_group_id.in_(group_ids), _within(path))
        .group_by(UserGroupMappingRow.user_group_id)
    )
    found = dict((await db.execute(stmt)).tuples().all())
    return {i: found.get(i, 0) for i in group_ids}


async def groups_of_user(db: AsyncSession, user_id: int, path: str) -> list[UserGroupRow]:
    """The groups user `user_id` belongs to whose OG is within `path`, by name."""
    return list(await db.scalars(
        select(UserGroupRow)
        .join(UserGroupMemberRow, UserGroupMemberRow.user_group_id == UserGroupRow.id)
        .where(UserGroupMemberRow.user_id == user_id, _within(path))
        .order_by(UserGroupRow.name_key, UserGroupRow.id)
    ))


async def groups_of_users(db: AsyncSession, user_ids: list[int], path: str) -> dict[int, list[UserGroupRow]]:
    """The groups each of `user_ids` belongs to whose OG is within `path`, by name, in one query
    (an empty list for a user in none)."""
    rows = (await db.execute(
        select(UserGroupMemberRow.user_id, UserGroupRow)
        .join(UserGroupRow, UserGroupMemberRow.user_group_id == UserGroupRow.id)
        .where(UserGroupMemberRow.user_id.in_(user_ids), _within(path))
        .order_by(UserGroupRow.name_key, UserGroupRow.id)
    )).tuples()
    found: dict[int, list[UserGroupRow]] = {user_id: [] for user_id in user_ids}
    for user_id, group in rows:
        found[user_id].append(group)
    return found
