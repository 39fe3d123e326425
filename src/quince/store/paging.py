"""Workspace ONE paging: 0-based `page`, `pagesize` up to 500, and the total count of a query."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from quince.domain.errors import InvalidInput

T = TypeVar("T")
MAX_PAGE_SIZE = 500


@dataclass(frozen=True)
class PageRequest:
    page: int = 0
    page_size: int = MAX_PAGE_SIZE

    def __post_init__(self) -> None:
        if self.page < 0:
            raise InvalidInput("page", "page is 0-based and must not be negative.")
        if not 1 <= self.page_size <= MAX_PAGE_SIZE:
            raise InvalidInput("pagesize", f"pagesize must be between 1 and {MAX_PAGE_SIZE}.")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: Sequence[T]
    page: int
    page_size: int
    total: int


async def paginate(session: AsyncSession, stmt: Select[Any], request: PageRequest) -> Page[Any]:
    """Run `stmt` for one page, with the total of all matching rows."""
    total = await session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    rows = await session.scalars(
        stmt.offset(request.page * request.page_size).limit(request.page_size)
    )
    return Page(list(rows), request.page, request.page_size, total or 0)
