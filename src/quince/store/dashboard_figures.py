"""Grouped counts of devices: the console dashboard's figures and the install-wide counts for
monitoring. Each figure is one grouped query, whatever the number of OGs or devices."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from quince.domain.devices import EnrollmentStatus
from quince.store.concurrency import is_postgresql
from quince.store.device_search import plan_for_parameters
from quince.store.models import DeviceRow, OrgGroupRow


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


async def counts_per_og(db: AsyncSession, path: str) -> list[tuple[str, int, int, int]]:
    """For each OG at or below `path` that has devices: its path and how many of them are enrolled,
    in progress (EnrollmentInProgress, not superseded) and abandoned (superseded placeholders)."""
    in_progress = DeviceRow.enrollment_status == EnrollmentStatus.ENROLLMENT_IN_PROGRESS
    stmt = (
        select(
            OrgGroupRow.path,
            _count(DeviceRow.enrollment_status == EnrollmentStatus.ENROLLED),
            _count(in_progress & DeviceRow.superseded_by_device_id.is_(None)),
            _count(in_progress & DeviceRow.superseded_by_device_id.is_not(None)),
        )
        .select_from(DeviceRow)
        .join(OrgGroupRow, OrgGroupRow.id == DeviceRow.og_id)
        .where(OrgGroupRow.path.startswith(path, autoescape=True))
        .group_by(OrgGroupRow.id, OrgGroupRow.path)
    )
    await plan_for_parameters(db)
    return [(p, int(enrolled), int(waiting), int(abandoned))
            for p, enrolled, waiting, abandoned in (await db.execute(stmt)).tuples()]


def _enrollment_day(db: AsyncSession) -> ColumnElement[str]:
    """The UTC calendar day a device enrolled, as 'YYYY-MM-DD' (SQLite keeps UTC times as text)."""
    if is_postgresql(db):
        return func.to_char(func.timezone("UTC", DeviceRow.enrolled_at), "YYYY-MM-DD")
    return func.substr(DeviceRow.enrolled_at, 1, 10)


async def enrollments_by_day(db: AsyncSession, path: str, start: datetime, end: datetime) -> dict[str, int]:
    """Devices at or below `path` that completed enrollment from `start` until before `end`, by
    UTC day ('YYYY-MM-DD'); days without any are absent."""
    day = _enrollment_day(db)
    stmt = (
        select(day, func.count())
        .select_from(DeviceRow)
        .join(OrgGroupRow, OrgGroupRow.id == DeviceRow.og_id)
        .where(
            OrgGroupRow.path.startswith(path, autoescape=True),
            DeviceRow.enrolled_at >= start,
            DeviceRow.enrolled_at < end,
        )
        .group_by(day)
    )
    await plan_for_parameters(db)
    return {str(key): int(count) for key, count in (await db.execute(stmt)).tuples()}


async def devices_by_status(db: AsyncSession) -> dict[str, int]:
    """How many devices are in each enrollment status (install-wide)."""
    rows = await db.execute(
        select(DeviceRow.enrollment_status, func.count()).group_by(DeviceRow.enrollment_status))
    return {status: count for status, count in rows.tuples()}


async def devices_by_status_and_ownership(db: AsyncSession, path: str) -> list[tuple[str, str, bool, int]]:
    """How many devices at or below `path` have each (enrollment status, stored ownership,
    user-enrolled) combination."""
    rows = await db.execute(
        select(DeviceRow.enrollment_status, DeviceRow.ownership, DeviceRow.is_user_enrolled, func.count())
        .join(OrgGroupRow, OrgGroupRow.id == DeviceRow.og_id)
        .where(OrgGroupRow.path.startswith(path, autoescape=True))
        .group_by(DeviceRow.enrollment_status, DeviceRow.ownership, DeviceRow.is_user_enrolled)
    )
    return [(status, ownership, bool(ue), int(count)) for status, ownership, ue, count in rows.tuples()]
