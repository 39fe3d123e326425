"""App records: the catalog of each OG, assignments of apps to OGs and user groups, where each app
stands on each device, and the devices an assignment reaches. Small reads and writes named for what
they do, taking plain values; scope and rules are the services' business. Nothing here commits."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from quince.domain.app_eligibility import AppKind
from quince.domain.app_statuses import DeviceAppStatus
from quince.domain.devices import EnrollmentStatus
from quince.store import concurrency
from quince.store.models import (
    AppAssignmentRow,
    AppRow,
    DeviceAppRow,
    DeviceRow,
    EnrollmentUserRow,
    OrgGroupRow,
    UserGroupMemberRow,
    UserGroupRow,
)

OgIds = Collection[int] | Select[tuple[int]]
"""OG ids, given as values or as a select of them (a scope's subtree)."""


async def _slice(db: AsyncSession, stmt: Select[Any], offset: int, limit: int) -> tuple[list[Any], int]:
    """One slice of `stmt`'s rows (single entities) and how many rows it matches in all."""
    total = await db.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    return list(await db.scalars(stmt.offset(offset).limit(limit))), total or 0


async def _tuples_slice(
    db: AsyncSession, stmt: Select[Any], offset: int, limit: int,
) -> tuple[list[Any], int]:
    """As `_slice`, for statements selecting several entities (rows as tuples)."""
    total = await db.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    return list((await db.execute(stmt.offset(offset).limit(limit))).tuples().all()), total or 0


def _subtree(path: str) -> Select[tuple[int]]:
    """The ids of the OG at `path` and of the OGs below it."""
    return select(OrgGroupRow.id).where(OrgGroupRow.path.startswith(path, autoescape=True))


async def org_groups_by_id(db: AsyncSession, ids: Collection[int]) -> dict[int, OrgGroupRow]:
    return {o.id: o for o in await db.scalars(select(OrgGroupRow).where(OrgGroupRow.id.in_(ids)))}


async def og_paths(db: AsyncSession, ids: Collection[int]) -> dict[int, str]:
    """The materialized paths of these OGs, by id."""
    return dict((await db.execute(
        select(OrgGroupRow.id, OrgGroupRow.path).where(OrgGroupRow.id.in_(ids))
    )).tuples().all())


# --- the catalog ----------------------------------------------------------------------------------


async def app_by_uuid(db: AsyncSession, og_ids: OgIds, uuid: str) -> AppRow | None:
    """The app with this Uuid in a catalog of one of `og_ids`."""
    row: AppRow | None = await db.scalar(
        select(AppRow).where(AppRow.uuid == uuid.lower(), AppRow.og_id.in_(og_ids)))
    return row


async def app(
    db: AsyncSession, og_ids: OgIds, app_id: int, kind: AppKind | None = None,
) -> AppRow | None:
    """The app with this id in a catalog of one of `og_ids` (and of this kind, if given)."""
    stmt = select(AppRow).where(AppRow.id == app_id, AppRow.og_id.in_(og_ids))
    if kind is not None:
        stmt = stmt.where(AppRow.kind == kind.value)
    row: AppRow | None = await db.scalar(stmt)
    return row


async def apps_with_bundle_id(db: AsyncSession, og_ids: OgIds, bundle_id: str) -> list[AppRow]:
    """The apps with this bundle ID in the catalogs of `og_ids`, oldest first."""
    return list(await db.scalars(
        select(AppRow).where(AppRow.bundle_id == bundle_id, AppRow.og_id.in_(og_ids)).order_by(AppRow.id)
    ))


async def app_in_catalog(db: AsyncSession, og_id: int, kind: str, bundle_id: str) -> AppRow | None:
    """The app of this kind and bundle ID in one OG's own catalog."""
    row: AppRow | None = await db.scalar(select(AppRow).where(
        AppRow.og_id == og_id, AppRow.kind == kind, AppRow.bundle_id == bundle_id))
    return row


async def purchased_apps_in(
    db: AsyncSession, og_ids: OgIds, bundle_id: str | None = None,
) -> list[AppRow]:
    """The purchased (Apps and Books) apps in the catalogs of `og_ids`, of this bundle ID if given."""
    stmt = select(AppRow).where(AppRow.og_id.in_(og_ids), AppRow.kind == AppKind.PURCHASED.value)
    if bundle_id is not None:
        stmt = stmt.where(AppRow.bundle_id == bundle_id)
    return list(await db.scalars(stmt))


async def last_synced(db: AsyncSession, og_id: int) -> datetime | None:
    """The latest sync time of the purchased apps in the catalog of `og_id` (None: never synced)."""
    found: datetime | None = await db.scalar(
        select(func.max(AppRow.synced_at))
        .where(AppRow.og_id == og_id, AppRow.kind == AppKind.PURCHASED.value)
    )
    return found


async def apps_matching(
    db: AsyncSession, og_ids: OgIds, offset: int, limit: int, *, kind: AppKind | None = None,
    name: str | None = None, bundle_id: str | None = None, under_path: str | None = None,
) -> tuple[list[AppRow], int]:
    """Apps in the catalogs of `og_ids` by name, one slice and the total: `name` matches part of
    the name, `bundle_id` all of it, `under_path` keeps catalogs at that OG or below it."""
    stmt = select(AppRow).where(AppRow.og_id.in_(og_ids))
    if kind is not None:
        stmt = stmt.where(AppRow.kind == kind.value)
    if name:
        stmt = stmt.where(AppRow.name.icontains(name, autoescape=True))
    if bundle_id:
        stmt = stmt.where(AppRow.bundle_id == bundle_id)
    if under_path is not None:
        stmt = stmt.where(AppRow.og_id.in_(_subtree(under_path)))
    return await _slice(db, stmt.order_by(AppRow.name, AppRow.id), offset, limit)


def _visible_at(og_ids: OgIds, path: str, lineage: Sequence[int]) -> ColumnElement[bool]:
    """Apps of catalogs at the OG at `path` or below it, or above it (`lineage`: they reach its
    devices too), in the catalogs of `og_ids`."""
    return AppRow.og_id.in_(og_ids) & or_(AppRow.og_id.in_(_subtree(path)), AppRow.og_id.in_(lineage))


async def apps_visible_at(
    db: AsyncSession, og_ids: OgIds, path: str, lineage: Sequence[int], offset: int, limit: int,
    *, kind: AppKind | None = None, text: str | None = None,
) -> tuple[list[AppRow], int]:
    """The apps that reach devices at the OG at `path`, by name, one slice and the total; `text`
    matches part of the name or bundle ID, or all of the App Store id."""
    stmt = select(AppRow).where(_visible_at(og_ids, path, lineage))
    if kind is not None:
        stmt = stmt.where(AppRow.kind == kind.value)
    if text:
        stmt = stmt.where(or_(AppRow.name.icontains(text, autoescape=True),
                              AppRow.bundle_id.icontains(text, autoescape=True),
                              AppRow.adam_id == text))
    return await _slice(db, stmt.order_by(AppRow.name, AppRow.id), offset, limit)


async def app_visible_at(
    db: AsyncSession, og_ids: OgIds, path: str, lineage: Sequence[int], app_id: int,
) -> AppRow | None:
    row: AppRow | None = await db.scalar(
        select(AppRow).where(AppRow.id == app_id, _visible_at(og_ids, path, lineage)))
    return row


# --- assignments ----------------------------------------------------------------------------------


async def add_assignment(
    db: AsyncSession, app_id: int, target_kind: str, target_id: int, mode: str,
) -> AppAssignmentRow | None:
    """Assign, unless the app is assigned to that target already (then None), in one statement:
    of two requests assigning at once, one assigns and the other finds it done."""
    row_id = await db.scalar(
        concurrency.insert(db, AppAssignmentRow)
        .values(app_id=app_id, target_kind=target_kind, target_id=target_id, mode=mode)
        .on_conflict_do_nothing(index_elements=["app_id", "target_kind", "target_id"])
        .returning(AppAssignmentRow.id)
    )
    return None if row_id is None else await db.get(AppAssignmentRow, row_id)


async def assignment_id(db: AsyncSession, app_id: int, target_kind: str, target_id: int) -> int | None:
    found: int | None = await db.scalar(select(AppAssignmentRow.id).where(
        AppAssignmentRow.app_id == app_id, AppAssignmentRow.target_kind == target_kind,
        AppAssignmentRow.target_id == target_id,
    ))
    return found


async def assignments_of_app(db: AsyncSession, app_id: int) -> list[AppAssignmentRow]:
    """An app's assignments, oldest first."""
    return list(await db.scalars(
        select(AppAssignmentRow).where(AppAssignmentRow.app_id == app_id).order_by(AppAssignmentRow.id)))


async def assignment_counts(db: AsyncSession, app_ids: Sequence[int]) -> dict[int, int]:
    """How many assignments each of these apps has."""
    return dict((await db.execute(
        select(AppAssignmentRow.app_id, func.count())
        .where(AppAssignmentRow.app_id.in_(app_ids))
        .group_by(AppAssignmentRow.app_id)
    )).tuples().all())


async def user_groups_by_id(db: AsyncSession, ids: Collection[int]) -> dict[int, UserGroupRow]:
    return {g.id: g for g in await db.scalars(select(UserGroupRow).where(UserGroupRow.id.in_(ids)))}


async def user_groups_on_branch(
    db: AsyncSession, og_ids: OgIds, path: str, lineage: Sequence[int], limit: int,
) -> list[tuple[UserGroupRow, OrgGroupRow]]:
    """User groups of `og_ids` living at the OG at `path`, below it or above it (`lineage`), with
    their OGs, by name, at most `limit`."""
    on_branch = or_(UserGroupRow.og_id.in_(_subtree(path)), UserGroupRow.og_id.in_(lineage))
    return [(g, o) for g, o in (await db.execute(
        select(UserGroupRow, OrgGroupRow)
        .join(OrgGroupRow, OrgGroupRow.id == UserGroupRow.og_id)
        .where(UserGroupRow.og_id.in_(og_ids), on_branch)
        .order_by(UserGroupRow.name_key, UserGroupRow.id)
        .limit(limit)
    )).tuples()]


async def assignments_reaching(
    db: AsyncSession, lineage: Sequence[int], user_id: int | None, modes: Sequence[str],
    app_id: int | None = None,
) -> list[tuple[AppRow, AppAssignmentRow]]:
    """Assignments (of these modes) of apps from the catalogs on `lineage` (a device's OG and its
    ancestors) that target an OG on `lineage` or a user group `user_id` belongs to; by app name,
    then oldest assignment first."""
    targets = [and_(AppAssignmentRow.target_kind == "og", AppAssignmentRow.target_id.in_(lineage))]
    if user_id is not None:
        targets.append(and_(
            AppAssignmentRow.target_kind == "user_group",
            AppAssignmentRow.target_id.in_(
                select(UserGroupMemberRow.user_group_id).where(UserGroupMemberRow.user_id == user_id)),
        ))
    stmt = (
        select(AppRow, AppAssignmentRow)
        .join(AppAssignmentRow, AppAssignmentRow.app_id == AppRow.id)
        .where(AppRow.og_id.in_(lineage), AppAssignmentRow.mode.in_(list(modes)), or_(*targets))
        .order_by(AppRow.name, AppRow.id, AppAssignmentRow.id)
    )
    if app_id is not None:
        stmt = stmt.where(AppRow.id == app_id)
    return [(a, r) for a, r in (await db.execute(stmt)).tuples()]


def reached_by(
    assignment: AppAssignmentRow, target_path: str | None, catalog_path: str,
) -> ColumnElement[bool]:
    """Devices an assignment reaches (any status): in the target OG's subtree, or belonging to
    a member of the target user group and at or below the app's catalog (at `catalog_path`)."""
    if assignment.target_kind == "og":
        return DeviceRow.og_id.in_(_subtree(target_path or "\x00"))
    members = select(UserGroupMemberRow.user_id).where(
        UserGroupMemberRow.user_group_id == assignment.target_id)
    return DeviceRow.enrollment_user_id.in_(members) & DeviceRow.og_id.in_(_subtree(catalog_path))


# --- devices --------------------------------------------------------------------------------------

_ENROLLED = DeviceRow.enrollment_status == EnrollmentStatus.ENROLLED.value


async def enrolled_devices_reached(
    db: AsyncSession, og_ids: OgIds, catalog_path: str, reach: ColumnElement[bool],
) -> list[DeviceRow]:
    """Enrolled devices of `og_ids`, at or below the catalog at `catalog_path`, that `reach`
    (`reached_by`) takes in, oldest first."""
    return list(await db.scalars(
        select(DeviceRow).where(_ENROLLED, DeviceRow.og_id.in_(og_ids),
                                DeviceRow.og_id.in_(_subtree(catalog_path)), reach)
        .order_by(DeviceRow.id)
    ))


async def enrolled_devices_of(db: AsyncSession, user_id: int) -> list[DeviceRow]:
    return list(await db.scalars(select(DeviceRow).where(DeviceRow.enrollment_user_id == user_id, _ENROLLED)))


async def enrolled_device_count(db: AsyncSession, user_id: int, *, besides: int | None = None) -> int:
    """How many enrolled devices the user has (other than device `besides`)."""
    stmt = select(func.count()).where(DeviceRow.enrollment_user_id == user_id, _ENROLLED)
    if besides is not None:
        stmt = stmt.where(DeviceRow.id != besides)
    return int(await db.scalar(stmt) or 0)


# --- where each app stands on each device ---------------------------------------------------------


async def device_app(db: AsyncSession, device_id: int, app_id: int) -> DeviceAppRow | None:
    row: DeviceAppRow | None = await db.scalar(select(DeviceAppRow).where(
        DeviceAppRow.device_id == device_id, DeviceAppRow.app_id == app_id))
    return row


async def device_app_by_command(db: AsyncSession, command_uuid: str) -> DeviceAppRow | None:
    row: DeviceAppRow | None = await db.scalar(
        select(DeviceAppRow).where(DeviceAppRow.command_uuid == command_uuid))
    return row


async def device_apps_of(db: AsyncSession, device_id: int) -> list[DeviceAppRow]:
    return list(await db.scalars(select(DeviceAppRow).where(DeviceAppRow.device_id == device_id)))


async def record_device_app(
    db: AsyncSession, device_id: int, app_id: int, *, status: DeviceAppStatus, reason: str,
    license_type: str | None, command_uuid: str | None,
) -> DeviceAppRow:
    """Set where an app stands on a device, inserting its row if missing in one statement, so two
    transactions recording the same pair at once both end up updating the one row."""
    values = {"status": status.value, "reason": reason, "license_type": license_type,
              "command_uuid": command_uuid}
    row = await device_app(db, device_id, app_id)
    if row is None:
        await db.execute(
            concurrency.insert(db, DeviceAppRow)
            .values(device_id=device_id, app_id=app_id, **values)
            .on_conflict_do_nothing(index_elements=["device_id", "app_id"])
        )
        row = await device_app(db, device_id, app_id)
        assert row is not None
    for key, value in values.items():
        setattr(row, key, value)
    await db.flush()
    return row


async def device_apps_page(
    db: AsyncSession, device_id: int, offset: int, limit: int,
) -> tuple[list[tuple[DeviceAppRow, AppRow]], int]:
    """A device's app statuses with their apps, by app name: one slice and the total."""
    stmt = (
        select(DeviceAppRow, AppRow)
        .join(AppRow, AppRow.id == DeviceAppRow.app_id)
        .where(DeviceAppRow.device_id == device_id)
        .order_by(AppRow.name, AppRow.id)
    )
    return await _tuples_slice(db, stmt, offset, limit)


async def devices_with_app_in(
    db: AsyncSession, app_id: int, statuses: Collection[DeviceAppStatus], device_ids: Collection[int],
) -> set[int]:
    """Which of these devices stand at one of `statuses` for the app."""
    return set(await db.scalars(select(DeviceAppRow.device_id).where(
        DeviceAppRow.app_id == app_id, DeviceAppRow.status.in_(statuses),
        DeviceAppRow.device_id.in_(device_ids),
    )))


async def waiting_for(
    db: AsyncSession, user_id: int, status: DeviceAppStatus,
) -> list[tuple[DeviceAppRow, DeviceRow, AppRow]]:
    """The user's device apps at `status`, with their devices and apps."""
    stmt = (
        select(DeviceAppRow, DeviceRow, AppRow)
        .join(DeviceRow, DeviceRow.id == DeviceAppRow.device_id)
        .join(AppRow, AppRow.id == DeviceAppRow.app_id)
        .where(DeviceRow.enrollment_user_id == user_id, DeviceAppRow.status == status)
    )
    return [(d, dev, a) for d, dev, a in (await db.execute(stmt)).tuples()]


async def status_counts(
    db: AsyncSession, app_id: int, og_ids: OgIds, reach: ColumnElement[bool] | None = None,
) -> dict[str, int]:
    """How many devices of `og_ids` (that `reach` takes in, if given) stand at each status for the app."""
    stmt = (
        select(DeviceAppRow.status, func.count())
        .join(DeviceRow, DeviceRow.id == DeviceAppRow.device_id)
        .where(DeviceAppRow.app_id == app_id, DeviceRow.og_id.in_(og_ids))
        .group_by(DeviceAppRow.status)
    )
    if reach is not None:
        stmt = stmt.where(reach)
    return dict((await db.execute(stmt)).tuples().all())


async def devices_with_app(
    db: AsyncSession, app_id: int, og_ids: OgIds, offset: int, limit: int, *,
    status: str | None = None,
) -> tuple[list[tuple[DeviceAppRow, DeviceRow, str | None, str]], int]:
    """Devices of `og_ids` with a status for the app, newest change first, with their user's
    username and their OG's name: one slice and the total."""
    stmt = (
        select(DeviceAppRow, DeviceRow, EnrollmentUserRow.username, OrgGroupRow.name)
        .join(DeviceRow, DeviceRow.id == DeviceAppRow.device_id)
        .join(OrgGroupRow, OrgGroupRow.id == DeviceRow.og_id)
        .outerjoin(EnrollmentUserRow, EnrollmentUserRow.id == DeviceRow.enrollment_user_id)
        .where(DeviceAppRow.app_id == app_id, DeviceRow.og_id.in_(og_ids))
    )
    if status:
        stmt = stmt.where(DeviceAppRow.status == status)
    stmt = stmt.order_by(DeviceAppRow.updated_at.desc(), DeviceAppRow.id.desc())
    return await _tuples_slice(db, stmt, offset, limit)
