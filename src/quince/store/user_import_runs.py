"""Queries of user import runs (the rows the console shows while a file is imported)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from quince.store.models import UserImportRunRow
from quince.store.org_groups import og_ids_within


async def run_within(db: AsyncSession, run_id: int, path: str) -> UserImportRunRow | None:
    """The run with this id, if its OG lies in the subtree at `path`."""
    row: UserImportRunRow | None = await db.scalar(
        select(UserImportRunRow).where(UserImportRunRow.id == run_id,
                                       UserImportRunRow.og_id.in_(og_ids_within(path)))
    )
    return row


async def latest_runs_within(db: AsyncSession, path: str, limit: int) -> list[UserImportRunRow]:
    """The latest runs into the subtree at `path`, newest first."""
    return list(await db.scalars(
        select(UserImportRunRow).where(UserImportRunRow.og_id.in_(og_ids_within(path)))
        .order_by(UserImportRunRow.id.desc()).limit(limit)
    ))


async def set_fields(db: AsyncSession, run_id: int, values: dict[str, Any]) -> None:
    """Write fields of the run with one UPDATE (whatever copy the session holds)."""
    await db.execute(update(UserImportRunRow).where(UserImportRunRow.id == run_id).values(**values))
