"""Queries of enrollment sessions, the secrets bound to them (access tokens, one-time profile
downloads, SCEP challenges) and the refusals recorded instead of a session."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from quince.store.models import (
    DeviceRow,
    EnrollmentRefusalRow,
    EnrollmentSecretRow,
    EnrollmentSessionRow,
    EnrollmentUserRow,
    OrgGroupRow,
)


async def spend_secret(db: AsyncSession, kind: str, secret_hash: str, now: datetime) -> int | None:
    """Mark the live, unused secret of `kind` with this hash used; the id of its session, or None.
    One UPDATE both checks and spends it: two racing requests cannot both win."""
    session_id: int | None = await db.scalar(
        update(EnrollmentSecretRow)
        .where(
            EnrollmentSecretRow.kind == kind,
            EnrollmentSecretRow.secret_hash == secret_hash,
            EnrollmentSecretRow.expires_at > now,
            EnrollmentSecretRow.used_at.is_(None),
        )
        .values(used_at=now)
        .returning(EnrollmentSecretRow.session_id)
    )
    return session_id


async def live_secret_session(db: AsyncSession, kind: str, secret_hash: str, now: datetime) -> int | None:
    """The id of the session whose unexpired secret of `kind` has this hash (used or not)."""
    session_id: int | None = await db.scalar(select(EnrollmentSecretRow.session_id).where(
        EnrollmentSecretRow.kind == kind,
        EnrollmentSecretRow.secret_hash == secret_hash,
        EnrollmentSecretRow.expires_at > now,
    ))
    return session_id


async def secret_state(
    db: AsyncSession, kind: str, secret_hash: str
) -> tuple[datetime | None, str] | None:
    """When the secret of `kind` with this hash was used (None: never) and its session's uuid;
    None when no such secret exists."""
    found = (await db.execute(
        select(EnrollmentSecretRow.used_at, EnrollmentSessionRow.uuid)
        .join(EnrollmentSessionRow, EnrollmentSessionRow.id == EnrollmentSecretRow.session_id)
        .where(EnrollmentSecretRow.kind == kind, EnrollmentSecretRow.secret_hash == secret_hash)
    )).first()
    return None if found is None else (found.used_at, found.uuid)


async def device_and_user_of(db: AsyncSession, session: EnrollmentSessionRow) -> tuple[str, str]:
    """The uuid of the session's device record and its user's username."""
    device, user = (await db.execute(
        select(DeviceRow.uuid, EnrollmentUserRow.username)
        .join(EnrollmentUserRow, EnrollmentUserRow.id == session.user_id)
        .where(DeviceRow.id == session.device_id)
    )).one()
    return device, user


async def recent_refusals(
    db: AsyncSession, path: str, limit: int
) -> list[tuple[EnrollmentRefusalRow, str | None]]:
    """The newest refusals whose OG lay in the subtree at `path` when recorded, newest first,
    each with its OG's name (None when that OG was deleted since)."""
    stmt = (
        select(EnrollmentRefusalRow, OrgGroupRow.name)
        .outerjoin(OrgGroupRow, OrgGroupRow.id == EnrollmentRefusalRow.og_id)
        .where(EnrollmentRefusalRow.og_path.startswith(path, autoescape=True))
        .order_by(EnrollmentRefusalRow.created_at.desc(), EnrollmentRefusalRow.id.desc())
        .limit(limit)
    )
    return [(row, name) for row, name in (await db.execute(stmt)).tuples()]




async def session_of_device(db: AsyncSession, device_id: int) -> EnrollmentSessionRow | None:
    """The enrollment session whose placeholder became device `device_id`, when there is one."""
    found: EnrollmentSessionRow | None = await db.scalar(
        select(EnrollmentSessionRow).where(EnrollmentSessionRow.device_id == device_id)
    )
    return found
