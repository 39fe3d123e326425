"""Apps and Books records: tokens, the VPP users registered under them and the licences those
users hold. Small reads and writes named for what they do; nothing here commits or decides."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from quince.domain.app_statuses import HELD, VppLicenseStatus
from quince.store.apps import OgIds
from quince.store.models import AppRow, EnrollmentUserRow, OrgGroupRow, VppLicenseRow, VppTokenRow, VppUserRow

# --- tokens ---------------------------------------------------------------------------------------


async def token_at(db: AsyncSession, og_id: int) -> VppTokenRow | None:
    """The token set at this very OG (not inherited)."""
    row: VppTokenRow | None = await db.scalar(select(VppTokenRow).where(VppTokenRow.og_id == og_id))
    return row


async def token_elsewhere(db: AsyncSession, sha256: str, og_id: int) -> VppTokenRow | None:
    """The same token (by digest) set at another OG than `og_id`."""
    row: VppTokenRow | None = await db.scalar(
        select(VppTokenRow).where(VppTokenRow.token_sha256 == sha256, VppTokenRow.og_id != og_id))
    return row


async def tokens_at(db: AsyncSession, og_ids: OgIds) -> dict[int, VppTokenRow]:
    """The tokens set at these OGs, by OG id."""
    return {r.og_id: r for r in await db.scalars(select(VppTokenRow).where(VppTokenRow.og_id.in_(og_ids)))}


async def token_ogs(db: AsyncSession, token_ids: Collection[int]) -> dict[int, OrgGroupRow]:
    """The OG holding each of these tokens, by token id."""
    return dict((await db.execute(
        select(VppTokenRow.id, OrgGroupRow)
        .join(OrgGroupRow, OrgGroupRow.id == VppTokenRow.og_id)
        .where(VppTokenRow.id.in_(token_ids))
    )).tuples().all())


# --- VPP users ------------------------------------------------------------------------------------


async def vpp_user_count(db: AsyncSession, token_id: int) -> int:
    """How many VPP users are registered under a token."""
    return int(await db.scalar(
        select(func.count()).select_from(VppUserRow).where(VppUserRow.token_id == token_id)) or 0)


async def vpp_user(db: AsyncSession, token_id: int, user_id: int) -> VppUserRow | None:
    """The enrollment user's VPP user under this token, if registered (or being registered)."""
    row: VppUserRow | None = await db.scalar(select(VppUserRow).where(
        VppUserRow.token_id == token_id, VppUserRow.enrollment_user_id == user_id))
    return row


async def vpp_users_of(db: AsyncSession, user_id: int) -> list[tuple[VppUserRow, OrgGroupRow]]:
    """An enrollment user's VPP users, one per token, with the OG holding each token."""
    return [(v, og) for v, og in (await db.execute(
        select(VppUserRow, OrgGroupRow)
        .join(VppTokenRow, VppTokenRow.id == VppUserRow.token_id)
        .join(OrgGroupRow, OrgGroupRow.id == VppTokenRow.og_id)
        .where(VppUserRow.enrollment_user_id == user_id)
        .order_by(VppUserRow.id)
    )).tuples()]


async def vpp_users_below(
    db: AsyncSession, og_ids: OgIds, path: str, offset: int, limit: int, *,
    status: str | None = None, text: str | None = None,
) -> tuple[list[tuple[VppUserRow, EnrollmentUserRow, OrgGroupRow]], int]:
    """VPP users of enrollment users in `og_ids` whose OG lies at `path` or below, by username, one
    slice of them and how many match; `text` matches part of the username or Managed Apple ID."""
    stmt = (
        select(VppUserRow, EnrollmentUserRow, OrgGroupRow)
        .join(EnrollmentUserRow, EnrollmentUserRow.id == VppUserRow.enrollment_user_id)
        .join(OrgGroupRow, OrgGroupRow.id == EnrollmentUserRow.og_id)
        .where(EnrollmentUserRow.og_id.in_(og_ids), OrgGroupRow.path.startswith(path, autoescape=True))
    )
    if status:
        stmt = stmt.where(VppUserRow.status == status)
    if text:
        stmt = stmt.where(EnrollmentUserRow.username.icontains(text, autoescape=True)
                          | VppUserRow.managed_apple_id.icontains(text, autoescape=True))
    total = await db.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = (await db.execute(
        stmt.order_by(EnrollmentUserRow.username_key, VppUserRow.id).offset(offset).limit(limit)
    )).tuples().all()
    return [(v, u, o) for v, u, o in rows], total or 0


# --- licences -------------------------------------------------------------------------------------


async def licence(db: AsyncSession, vpp_user_id: int, app_id: int) -> VppLicenseRow | None:
    """The VPP user's licence record for an app, whatever its status."""
    row: VppLicenseRow | None = await db.scalar(select(VppLicenseRow).where(
        VppLicenseRow.vpp_user_id == vpp_user_id, VppLicenseRow.app_id == app_id))
    return row


async def licences_held_for_app(db: AsyncSession, app_id: int) -> bool:
    """Whether any user holds (or is being given, or gives back) a licence of this app."""
    return await db.scalar(select(VppLicenseRow.id).where(
        VppLicenseRow.app_id == app_id, VppLicenseRow.status.in_(HELD)).limit(1)) is not None


async def _held_per(db: AsyncSession, key: InstrumentedAttribute[int], ids: Sequence[int]) -> dict[int, int]:
    return dict((await db.execute(
        select(key, func.count()).where(key.in_(ids), VppLicenseRow.status.in_(HELD)).group_by(key)
    )).tuples().all())


async def held_per_app(db: AsyncSession, app_ids: Sequence[int]) -> dict[int, int]:
    """How many licences of each app users hold."""
    return await _held_per(db, VppLicenseRow.app_id, app_ids)


async def held_per_vpp_user(db: AsyncSession, vpp_user_ids: Sequence[int]) -> dict[int, int]:
    """How many licences each of these VPP users holds."""
    return await _held_per(db, VppLicenseRow.vpp_user_id, vpp_user_ids)


async def licences_to_release(
    db: AsyncSession, user_id: int,
) -> list[tuple[VppLicenseRow, VppUserRow, AppRow]]:
    """The enrollment user's licences held at Apple or being given back, with their VPP user and app."""
    stmt = (select(VppLicenseRow, VppUserRow, AppRow)
            .join(VppUserRow, VppUserRow.id == VppLicenseRow.vpp_user_id)
            .join(AppRow, AppRow.id == VppLicenseRow.app_id)
            .where(VppUserRow.enrollment_user_id == user_id,
                   VppLicenseRow.status.in_([VppLicenseStatus.ASSOCIATED, VppLicenseStatus.RELEASING])))
    return [(lic, v, a) for lic, v, a in (await db.execute(stmt)).tuples()]
