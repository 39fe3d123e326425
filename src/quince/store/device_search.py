"""Queries that find device records for administrators: by id or UDID within an OG subtree, the
device list's filtered and ordered search, and what a page of records points at.

Reads only. Scoping is by the OG's materialized path: a device belongs to the subtree at `path`
when its OG's path starts with it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Select, false, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import UnaryExpression
from sqlalchemy.sql.operators import custom_op

from quince.domain.og_settings import Ownership
from quince.store.concurrency import is_postgresql
from quince.store.models import DeviceRow, EnrollmentUserRow, OrgGroupRow

_ORDER_COLUMNS = {
    "id": DeviceRow.id,
    "deviceid": DeviceRow.id,
    "udid": DeviceRow.udid,
    "lastseen": DeviceRow.last_seen_at,
    "lastenrolledon": DeviceRow.enrolled_at,
    "enrollmentstatus": DeviceRow.enrollment_status,
    "model": DeviceRow.product_name,
    "operatingsystem": DeviceRow.os_version,
    "devicereportedname": DeviceRow.device_name,
}
ORDERS = tuple(_ORDER_COLUMNS)
"""The names the device list can be ordered by (lower case)."""


def in_subtree(stmt: Select[tuple[DeviceRow]], path: str) -> Select[tuple[DeviceRow]]:
    """Devices whose OG lies at or below the OG with this materialized path."""
    return stmt.join(OrgGroupRow, OrgGroupRow.id == DeviceRow.og_id).where(
        OrgGroupRow.path.startswith(path, autoescape=True)
    )


async def device_in_subtree(db: AsyncSession, path: str, device_id: int) -> DeviceRow | None:
    row: DeviceRow | None = await db.scalar(
        in_subtree(select(DeviceRow), path).where(DeviceRow.id == device_id))
    return row


async def newest_with_udid(db: AsyncSession, path: str, udid: str) -> DeviceRow | None:
    """The newest record in the subtree whose UDID (a user-enrolled device's Enrollment ID) is
    exactly `udid`."""
    row: DeviceRow | None = await db.scalar(
        in_subtree(select(DeviceRow), path)
        .where(DeviceRow.udid == udid)
        .order_by(DeviceRow.id.desc())
        .limit(1)
    )
    return row


@dataclass(frozen=True)
class DeviceFilter:
    """The device list's filters, as plain values (services/devices/records.py parses them)."""

    path: str
    user_key: str | None = None
    """An enrollment user's username key (services/users: `username_key`)."""
    ownership: Ownership | None = None
    enrollment_status: str | None = None
    nothing: bool = False
    """True: the filters can match no device (e.g. a platform other than Apple)."""
    model: str | None = None
    """Part of the product name, model name or model, any case."""
    seen_since: datetime | None = None
    seen_before: datetime | None = None
    recently_seen_since: datetime | None = None
    """The console's "seen lately" window (matches most of an active fleet: planned accordingly)."""
    not_seen_since: datetime | None = None
    """Seen, but not since then (a device never seen does not match)."""
    never_seen: bool = False
    user_enrolled: bool | None = None
    abandoned: bool | None = None
    """True: only records another enrollment superseded; False: none of them."""
    text: str | None = None
    """Part of the device name, the Udid (Enrollment ID), or its user's username or email, any case."""


def _recently_seen(db: AsyncSession, since: datetime) -> ColumnElement[bool]:
    if is_postgresql(db):
        return DeviceRow.last_seen_at >= since
    # "Seen lately" matches most of an active fleet. SQLite (never ANALYZEd) still takes
    # ix_devices_last_seen_at for it and then reads the rows one by one: at 100,000 devices
    # the count took 240-270 ms, where scanning the table takes 30-45 ms (the page itself
    # stops after 50 rows either way). SQLite's documented unary "+" keeps it off the index;
    # PostgreSQL chooses by its statistics (and has no unary + for timestamps).
    scanned = UnaryExpression(DeviceRow.last_seen_at.expression, operator=custom_op("+"),
                              type_=DeviceRow.last_seen_at.type)
    return scanned >= since


def _text_matches(text: str) -> ColumnElement[bool]:
    """The console's free-text search: LIKE '%text%' (wildcards in `text` escaped) on lower-cased
    values, so it ignores case alike on SQLite and PostgreSQL. A leading wildcard can use no
    index; the subtree join and the other filters narrow the rows first, and the users it names
    are one subquery on the (smaller) users table, whose ids meet ix_devices_enrollment_user_id."""
    users = select(EnrollmentUserRow.id).where(
        EnrollmentUserRow.username.icontains(text, autoescape=True)
        | EnrollmentUserRow.email.icontains(text, autoescape=True)
    )
    return (DeviceRow.device_name.icontains(text, autoescape=True)
            | DeviceRow.udid.icontains(text, autoescape=True)
            | DeviceRow.enrollment_user_id.in_(users))


def _conditions(db: AsyncSession, f: DeviceFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if f.user_key is not None:
        conditions.append(DeviceRow.enrollment_user_id == (
            select(EnrollmentUserRow.id).where(EnrollmentUserRow.username_key == f.user_key).scalar_subquery()
        ))
    if f.ownership is not None:
        # Rule 4: a user-enrolled device is Employee Owned, whatever its row was created with.
        if f.ownership is Ownership.EMPLOYEE_OWNED:
            conditions.append(DeviceRow.is_user_enrolled.is_(True) | (DeviceRow.ownership == f.ownership))
        else:
            conditions.append(DeviceRow.is_user_enrolled.is_(False) & (DeviceRow.ownership == f.ownership))
    if f.enrollment_status is not None:
        conditions.append(DeviceRow.enrollment_status == f.enrollment_status)
    if f.nothing:
        conditions.append(false())
    if f.model:
        conditions.append(
            DeviceRow.product_name.icontains(f.model, autoescape=True)
            | DeviceRow.model_name.icontains(f.model, autoescape=True)
            | DeviceRow.model.icontains(f.model, autoescape=True)
        )
    if f.seen_since is not None:
        conditions.append(DeviceRow.last_seen_at >= f.seen_since)
    if f.seen_before is not None:
        conditions.append(DeviceRow.last_seen_at < f.seen_before)  # NULL (never seen) does not match
    if f.user_enrolled is not None:
        conditions.append(DeviceRow.is_user_enrolled.is_(f.user_enrolled))
    if f.abandoned is not None:
        superseded = DeviceRow.superseded_by_device_id.is_not(None)
        conditions.append(superseded if f.abandoned else ~superseded)
    if f.text:
        conditions.append(_text_matches(f.text))
    if f.never_seen:
        conditions.append(DeviceRow.last_seen_at.is_(None))
    if f.not_seen_since is not None:
        conditions.append(DeviceRow.last_seen_at < f.not_seen_since)
    if f.recently_seen_since is not None:
        conditions.append(_recently_seen(db, f.recently_seen_since))
    return conditions


def devices_matching(
    db: AsyncSession, f: DeviceFilter, order: str, *, descending: bool = False,
) -> Select[tuple[DeviceRow]]:
    """The devices these filters keep, ordered by `order` (one of ORDERS; missing values last,
    then by id), for paging. Run it after `plan_for_parameters`."""
    column = _ORDER_COLUMNS[order]
    ordered = column.desc() if descending else column.asc()
    return (in_subtree(select(DeviceRow), f.path).where(*_conditions(db, f))
            .order_by(ordered.nulls_last(), DeviceRow.id))


def devices_after(db: AsyncSession, f: DeviceFilter, after_id: int, limit: int) -> Select[tuple[DeviceRow]]:
    """The next `limit` devices these filters keep with an id above `after_id`, by id: an export
    walks the whole list in batches without OFFSET. Run it after `plan_for_parameters`."""
    return (in_subtree(select(DeviceRow), f.path).where(*_conditions(db, f), DeviceRow.id > after_id)
            .order_by(DeviceRow.id).limit(limit))


async def plan_for_parameters(db: AsyncSession) -> None:
    """Have PostgreSQL plan the rest of this transaction's statements for their own parameters.

    asyncpg prepares statements, and after five runs PostgreSQL may switch to a generic plan,
    which cannot see the OG path prefix: it guesses the subtree holds ~2 OGs, so it joins
    OG by OG and sorts every device. At 100,000 devices that made a deep page 150-400 ms
    (a sort spilled to disk) where the plan for the actual prefix takes 30 ms
    (docs/performance.md, "Device list at 100,000 devices"). Whether the prefix is the
    root or a leaf changes the best plan, so subtree searches are planned for their parameters
    every time (a fraction of a millisecond); SET LOCAL ends with the transaction."""
    if is_postgresql(db):
        await db.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))


async def ogs_by_id(db: AsyncSession, og_ids: Iterable[int]) -> dict[int, OrgGroupRow]:
    return {og.id: og for og in await db.scalars(select(OrgGroupRow).where(OrgGroupRow.id.in_(set(og_ids))))}


async def users_by_id(db: AsyncSession, user_ids: Iterable[int]) -> dict[int, EnrollmentUserRow]:
    return {u.id: u for u in await db.scalars(
        select(EnrollmentUserRow).where(EnrollmentUserRow.id.in_(set(user_ids))))}


async def devices_in_subtree_by_id(
    db: AsyncSession, path: str, device_ids: Iterable[int],
) -> dict[int, DeviceRow]:
    ids = set(device_ids)
    if not ids:
        return {}
    found = await db.scalars(in_subtree(select(DeviceRow), path).where(DeviceRow.id.in_(ids)))
    return {d.id: d for d in found}


async def child_ogs(db: AsyncSession, og_id: int) -> list[OrgGroupRow]:
    """The OG's direct children, by name."""
    return list(await db.scalars(
        select(OrgGroupRow).where(OrgGroupRow.parent_id == og_id).order_by(OrgGroupRow.name, OrgGroupRow.id)
    ))
