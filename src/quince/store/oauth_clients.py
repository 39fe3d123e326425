"""Queries of OAuth clients (REST API client credentials) and the access tokens issued to them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from quince.store.models import OAuthClientRow, OAuthTokenRow, OrgGroupRow
from quince.store.org_groups import within


async def client_by_client_id(db: AsyncSession, client_id: str) -> OAuthClientRow | None:
    client: OAuthClientRow | None = await db.scalar(
        select(OAuthClientRow).where(OAuthClientRow.client_id == client_id))
    return client


async def clients_within(db: AsyncSession, path: str) -> list[tuple[OAuthClientRow, OrgGroupRow]]:
    """OAuth clients of the OGs in the subtree at `path`, with their OG, oldest first."""
    stmt = (
        select(OAuthClientRow, OrgGroupRow)
        .join(OrgGroupRow, OrgGroupRow.id == OAuthClientRow.og_id)
        .where(within(path))
        .order_by(OAuthClientRow.id)
    )
    return [(client, og) for client, og in (await db.execute(stmt)).tuples()]


async def active_client_of_token(
    db: AsyncSession, token_hash: str, now: datetime
) -> tuple[OAuthClientRow, OrgGroupRow] | None:
    """The client, not revoked, of the unexpired token with this hash, with the client's OG."""
    row = (await db.execute(
        select(OAuthClientRow, OrgGroupRow)
        .join(OAuthTokenRow, OAuthTokenRow.oauth_client_id == OAuthClientRow.id)
        .join(OrgGroupRow, OrgGroupRow.id == OAuthClientRow.og_id)
        .where(OAuthTokenRow.token_hash == token_hash,
               OAuthTokenRow.expires_at > now,
               OAuthClientRow.revoked_at.is_(None))
    )).tuples().first()
    return None if row is None else (row[0], row[1])


async def drop_tokens_of(db: AsyncSession, oauth_client_id: int) -> None:
    await db.execute(delete(OAuthTokenRow).where(OAuthTokenRow.oauth_client_id == oauth_client_id)
                     .execution_options(synchronize_session=False))


async def drop_expired_tokens(db: AsyncSession, now: datetime) -> int:
    """Delete every expired token; returns how many."""
    result = await db.execute(
        delete(OAuthTokenRow).where(OAuthTokenRow.expires_at <= now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
