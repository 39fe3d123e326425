"""Queries of administrators, their console sessions and API keys."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from quince.store.models import AdminRow, AdminSessionRow, ApiKeyRow, OrgGroupRow
from quince.store.org_groups import within
from quince.store.paging import Page, PageRequest, paginate

T = TypeVar("T", AdminRow, ApiKeyRow)


async def admin_by_name_key(db: AsyncSession, key: str) -> AdminRow | None:
    admin: AdminRow | None = await db.scalar(select(AdminRow).where(AdminRow.username_key == key))
    return admin


async def admins_within(db: AsyncSession, path: str) -> list[tuple[AdminRow, OrgGroupRow]]:
    """Admins of the OGs in the subtree at `path`, with their OG, by username."""
    return await _with_og_within(db, AdminRow, path, AdminRow.username_key)


async def search_within(
    db: AsyncSession, path: str, page: PageRequest, *, username: str | None, role: str | None,
    active: bool | None, under: str | None, descending: bool = False,
) -> Page[AdminRow]:
    """Admins of the OGs in the subtree at `path` (and at `under`, when given), by username:
    `username` matches part of it, `role` exactly."""
    stmt = select(AdminRow).join(OrgGroupRow, OrgGroupRow.id == AdminRow.og_id).where(within(path))
    if under is not None:
        stmt = stmt.where(within(under))
    if username:
        stmt = stmt.where(AdminRow.username_key.contains(username.casefold(), autoescape=True))
    if role is not None:
        stmt = stmt.where(AdminRow.role == role)
    if active is not None:
        stmt = stmt.where(AdminRow.active.is_(active))
    order = AdminRow.username_key.desc() if descending else AdminRow.username_key
    return await paginate(db, stmt.order_by(order, AdminRow.id), page)


async def api_keys_within(db: AsyncSession, path: str) -> list[tuple[ApiKeyRow, OrgGroupRow]]:
    """API keys of the OGs in the subtree at `path`, with their OG, oldest first."""
    return await _with_og_within(db, ApiKeyRow, path, ApiKeyRow.id)


async def _with_og_within(
    db: AsyncSession, model: type[T], path: str, order: Any
) -> list[tuple[T, OrgGroupRow]]:
    """Rows of `model` (which has an `og_id`) in the subtree at `path`, each with its OG."""
    stmt = (
        select(model, OrgGroupRow)
        .join(OrgGroupRow, OrgGroupRow.id == model.og_id)
        .where(within(path))
        .order_by(order)
    )
    return [(row, og) for row, og in (await db.execute(stmt)).tuples()]


async def api_key_by_hash(db: AsyncSession, key_hash: str) -> ApiKeyRow | None:
    key: ApiKeyRow | None = await db.scalar(select(ApiKeyRow).where(ApiKeyRow.key_hash == key_hash))
    return key


# --- Console sessions ---------------------------------------------------------------------------


async def drop_expired_sessions_of(db: AsyncSession, admin_id: int, now: datetime) -> None:
    await db.execute(delete(AdminSessionRow).where(AdminSessionRow.admin_id == admin_id,
                                                   AdminSessionRow.expires_at <= now))


async def active_admin_of_session(db: AsyncSession, token_hash: str, now: datetime) -> AdminRow | None:
    """The active admin whose unexpired session has this token hash."""
    admin: AdminRow | None = await db.scalar(
        select(AdminRow)
        .join(AdminSessionRow, AdminSessionRow.admin_id == AdminRow.id)
        .where(AdminSessionRow.token_hash == token_hash,
               AdminSessionRow.expires_at > now,
               AdminRow.active.is_(True))
    )
    return admin


async def drop_sessions_of(db: AsyncSession, admin_id: int) -> int:
    """Delete every session of this admin; returns how many there were."""
    ended = await db.execute(
        delete(AdminSessionRow).where(AdminSessionRow.admin_id == admin_id).returning(AdminSessionRow.id)
    )
    return len(ended.all())


async def drop_expired_sessions(db: AsyncSession, now: datetime) -> int:
    """Delete every expired session; returns how many."""
    result = await db.execute(
        delete(AdminSessionRow).where(AdminSessionRow.expires_at <= now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
