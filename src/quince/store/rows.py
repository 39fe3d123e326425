"""Rows by id, for pages that present rows together with the rows they point to (one query per
kind of row, whatever the page's length)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import flag_modified

from quince.store.models import Base

RowT = TypeVar("RowT", bound=Base)


async def by_id(db: AsyncSession, model: type[RowT], ids: Iterable[int]) -> dict[int, RowT]:
    """The rows of `model` whose id is one of `ids`, by id (no scope check: the caller already
    holds rows that point to these)."""
    wanted = set(ids)
    if not wanted:
        return {}
    column = model.id  # type: ignore[attr-defined]
    return {row.id: row for row in await db.scalars(select(model).where(column.in_(wanted)))}  # type: ignore[attr-defined]


def always_written(row: Base, *fields: str) -> None:
    """Write `fields` in the row's next UPDATE even when their values look unchanged (another
    session may have changed them since this one read the row)."""
    for field in fields:
        flag_modified(row, field)
