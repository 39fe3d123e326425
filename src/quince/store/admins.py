"""Queries of administrators, their console sessions and API keys."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from quince.store.models import AdminRow, AdminSessionRow, ApiKeyRow, OrgGroupRow
from quince.store.org_groups import within


async def admin_by_name_key(db: AsyncSession, key: str) -> AdminRow | None:
    admin: AdminRow | None = await db.scalar(select(AdminRow).where(AdminRow.username_key == key))
    return admin


async def admins_within(db: AsyncSession, path: str) -> list[tuple[AdminRow, OrgGroupRow]]:
    """Admins of the OGs in the subtree at `path`, with their OG, by username."""
    stmt = (
        select(AdminRow, OrgGroupRow)
        .join(OrgGroupRow, OrgGroupRow.id == AdminRow.og_id)
        .where(within(path))
        .order_by(AdminRow.username_key)
    )
    return [(a, o) for a, o in (await db.execute(stmt)).tuples()]


async def api_keys_within(db: AsyncSession, path: str) -> list[tuple[ApiKeyRow, OrgGroupRow]]:
    """API keys of the OGs in the subtree at `path`, with their OG, oldest first."""
    stmt = (
        select(ApiKeyRow, OrgGroupRow)
        .join(OrgGroupRow, OrgGroupRow.id == ApiKeyRow.og_id)
        .where(within(path))
        .order_by(ApiKeyRow.id)
    )
    return [(k, o) for k, o in (await db.execute(stmt)).tuples()]


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
