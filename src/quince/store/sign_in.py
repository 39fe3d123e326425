"""Queries of sign-in attempts (the throttle's counters, the choice tickets) and of sign-in names
(which enrollment user a typed name signs in)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import case, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from quince.store.models import EnrollmentUserRow, SignInAttemptRow, SignInNameRow

# --- Attempts -----------------------------------------------------------------------------------


async def recent_failures(
    db: AsyncSession, namespace_prefix: str, key: str, address: str, since: datetime
) -> tuple[Any, Any, Any, Any]:
    """From `address` since `since`, among the keys of one namespace, in one query: the failures
    of `key` and the latest of them, the failures of every key and the latest of them (times as the
    database returns them: SQLite may hand back naive UTC, or text from a CASE)."""
    this_account = SignInAttemptRow.username_key == key
    row = (await db.execute(
        select(
            func.sum(case((this_account, 1), else_=0)),
            func.max(case((this_account, SignInAttemptRow.created_at), else_=None)),
            func.count(),
            func.max(SignInAttemptRow.created_at),
        ).where(
            SignInAttemptRow.address == address,
            SignInAttemptRow.username_key.startswith(namespace_prefix, autoescape=True),
            SignInAttemptRow.succeeded.is_(False),
            SignInAttemptRow.created_at >= since,
        )
    )).one()
    return row[0], row[1], row[2], row[3]


async def drop_failures(db: AsyncSession, key: str, address: str) -> None:
    """Forget the failures of `key` from `address`."""
    await db.execute(delete(SignInAttemptRow).where(
        SignInAttemptRow.username_key == key, SignInAttemptRow.address == address,
        SignInAttemptRow.succeeded.is_(False),
    ))


async def drop_attempts_before(db: AsyncSession, before: datetime) -> int:
    """Delete every attempt older than `before`; returns how many."""
    result = await db.execute(
        delete(SignInAttemptRow).where(SignInAttemptRow.created_at < before)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def latest_success(db: AsyncSession, key: str) -> int | None:
    """The id of the latest successful attempt of `key`."""
    found = await db.scalar(
        select(func.max(SignInAttemptRow.id)).where(
            SignInAttemptRow.username_key == key, SignInAttemptRow.succeeded.is_(True)
        )
    )
    return None if found is None else int(found)


async def take_success(db: AsyncSession, attempt_id: int, key: str) -> bool:
    """Delete the successful attempt `attempt_id` of `key`: True for the one caller that did (two
    transactions racing for it cannot both delete it)."""
    used = await db.scalar(
        delete(SignInAttemptRow)
        .where(SignInAttemptRow.id == attempt_id, SignInAttemptRow.username_key == key,
               SignInAttemptRow.succeeded.is_(True))
        .returning(SignInAttemptRow.id)
    )
    return used is not None


# --- Names --------------------------------------------------------------------------------------


async def user_of_name(db: AsyncSession, name_key: str) -> EnrollmentUserRow | None:
    """The enrollment user the sign-in name with this key belongs to."""
    user: EnrollmentUserRow | None = await db.scalar(
        select(EnrollmentUserRow)
        .join(SignInNameRow, SignInNameRow.user_id == EnrollmentUserRow.id)
        .where(SignInNameRow.name_key == name_key)
    )
    return user


async def owners_of_names(db: AsyncSession, name_keys: Iterable[str]) -> dict[str, int]:
    """name key -> user id, for those of `name_keys` that belong to someone."""
    keys = list(name_keys)
    if not keys:
        return {}
    return dict((await db.execute(
        select(SignInNameRow.name_key, SignInNameRow.user_id).where(SignInNameRow.name_key.in_(keys))
    )).tuples().all())
