"""Queries of enrollment users and the sign-in names they hold."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from quince.domain.devices import EnrollmentStatus
from quince.store.models import DeviceRow, EnrollmentUserRow, SignInNameRow
from quince.store.org_groups import og_ids_within
from quince.store.paging import Page, PageRequest, paginate

ORDER_COLUMNS: dict[str, Any] = {
    "id": EnrollmentUserRow.id,
    "username": EnrollmentUserRow.username_key,
    "email": EnrollmentUserRow.email,
    "firstname": EnrollmentUserRow.first_name,
    "lastname": EnrollmentUserRow.last_name,
}


async def all_users(db: AsyncSession) -> list[EnrollmentUserRow]:
    """Every enrollment user, oldest first."""
    return list(await db.scalars(select(EnrollmentUserRow).order_by(EnrollmentUserRow.id)))


async def user_by_uuid(db: AsyncSession, uuid: str) -> EnrollmentUserRow | None:
    found = await db.execute(select(EnrollmentUserRow).where(EnrollmentUserRow.uuid == uuid.lower()))
    return found.scalar_one_or_none()


async def user_by_name_key(db: AsyncSession, key: str) -> EnrollmentUserRow | None:
    row: EnrollmentUserRow | None = await db.scalar(
        select(EnrollmentUserRow).where(EnrollmentUserRow.username_key == key)
    )
    return row


async def search(
    db: AsyncSession,
    path: str,
    page: PageRequest,
    *,
    contains: dict[str, str | None],
    text: str | None,
    og_id: int | None,
    active: bool | None,
    order_column: Any,
    descending: bool,
) -> Page[EnrollmentUserRow]:
    """Users of the OGs in the subtree at `path`. `contains` maps column names (username,
    first_name, last_name, email) to a part the column must hold, ignoring case; `text` matches
    any of username, email, managed Apple ID, first and last name."""
    stmt = select(EnrollmentUserRow).where(EnrollmentUserRow.og_id.in_(og_ids_within(path)))
    for name, value in contains.items():
        if value:
            stmt = stmt.where(getattr(EnrollmentUserRow, name).icontains(value, autoescape=True))
    if text:
        stmt = stmt.where(or_(*(
            col.icontains(text, autoescape=True)
            for col in (EnrollmentUserRow.username, EnrollmentUserRow.email,
                        EnrollmentUserRow.managed_apple_id, EnrollmentUserRow.first_name,
                        EnrollmentUserRow.last_name)
        )))
    if og_id is not None:
        stmt = stmt.where(EnrollmentUserRow.og_id == og_id)
    if active is not None:
        stmt = stmt.where(EnrollmentUserRow.active.is_(active))
    stmt = stmt.order_by(order_column.desc() if descending else order_column.asc(), EnrollmentUserRow.id)
    return await paginate(db, stmt, page)


async def device_count(db: AsyncSession, user_id: int) -> int:
    """How many device records (placeholders included) the user has."""
    return (await db.scalar(select(func.count()).where(DeviceRow.enrollment_user_id == user_id))) or 0


async def enrolled_device_counts(db: AsyncSession, user_ids: list[int]) -> dict[int, int]:
    """How many enrolled devices each of `user_ids` has now (0 for none), in one query."""
    stmt = (
        select(DeviceRow.enrollment_user_id, func.count())
        .where(DeviceRow.enrollment_user_id.in_(user_ids),
               DeviceRow.enrollment_status == EnrollmentStatus.ENROLLED.value)
        .group_by(DeviceRow.enrollment_user_id)
    )
    found: dict[int, int] = {user_id: count for user_id, count in (await db.execute(stmt)).tuples()
                             if user_id is not None}
    return {user_id: found.get(user_id, 0) for user_id in user_ids}


async def users_within(db: AsyncSession, user_ids: list[int], path: str) -> list[EnrollmentUserRow]:
    """Those of `user_ids` who are users of the OGs in the subtree at `path`, by username."""
    return list(await db.scalars(
        select(EnrollmentUserRow)
        .where(EnrollmentUserRow.id.in_(user_ids), EnrollmentUserRow.og_id.in_(og_ids_within(path)))
        .order_by(EnrollmentUserRow.username_key, EnrollmentUserRow.id)
    ))


async def devices_of(db: AsyncSession, user_id: int) -> list[DeviceRow]:
    """A user's device records, oldest first (placeholders included)."""
    rows = await db.scalars(
        select(DeviceRow).where(DeviceRow.enrollment_user_id == user_id).order_by(DeviceRow.id)
    )
    return list(rows)


async def any_user_at_domain(db: AsyncSession, suffix: str) -> bool:
    """True when some user's managed Apple ID or email ends with `suffix` (`@domain`), any case."""
    stmt = select(EnrollmentUserRow.id).where(
        (func.lower(EnrollmentUserRow.managed_apple_id).endswith(suffix, autoescape=True))
        | (func.lower(EnrollmentUserRow.email).endswith(suffix, autoescape=True))
    ).limit(1)
    return (await db.scalar(stmt)) is not None


# --- Sign-in names ------------------------------------------------------------------------------


async def first_name_taken(db: AsyncSession, name_keys: list[str], user_id: int | None) -> str | None:
    """One of `name_keys` that a user other than `user_id` holds, or None."""
    taken: str | None = await db.scalar(
        select(SignInNameRow.name_key).where(
            SignInNameRow.name_key.in_(name_keys),
            SignInNameRow.user_id != user_id if user_id is not None else sa.true(),
        ).limit(1)
    )
    return taken


async def drop_names(db: AsyncSession, user_id: int, name_keys: Iterable[str]) -> None:
    await db.execute(sa.delete(SignInNameRow).where(SignInNameRow.user_id == user_id,
                                                    SignInNameRow.name_key.in_(list(name_keys))))


async def add_names(db: AsyncSession, user_id: int, name_keys: Iterable[str]) -> None:
    await db.execute(sa.insert(SignInNameRow), [{"name_key": k, "user_id": user_id} for k in name_keys])




async def users_by_name_keys(db: AsyncSession, keys: list[str]) -> list[EnrollmentUserRow]:
    return list(await db.scalars(select(EnrollmentUserRow).where(EnrollmentUserRow.username_key.in_(keys))))
