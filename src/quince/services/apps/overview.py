"""What the admin console shows about apps: the catalog visible at an OG with licence and
assignment counts, where an app stands on the devices of an OG, the Apps and Books users of an
OG's users.

Reads only what `apps` and `app_delivery` store; every query is limited to the caller's scope.
Nothing here commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from quince.domain.app_eligibility import AppKind, Eligibility, NotSupported, eligibility
from quince.domain.app_statuses import HELD
from quince.domain.errors import NotFound
from quince.services.apps import catalog as apps
from quince.services.paging import Page, PageRequest
from quince.services.scope import Scope
from quince.store.models import (
    AppAssignmentRow,
    AppRow,
    DeviceAppRow,
    DeviceRow,
    EnrollmentUserRow,
    OrgGroupRow,
    UserGroupRow,
    VppLicenseRow,
    VppTokenRow,
    VppUserRow,
)

# A select of targets stays usable; an install with more user groups says the list is cut.
MAX_TARGET_GROUPS = 500


# --- the catalog ----------------------------------------------------------------------------------


def _visible_at(scope: Scope, og: OrgGroupRow) -> ColumnElement[bool]:
    """Apps of catalogs at `og` or below it, or above it (they reach its devices too), inside
    the caller's scope."""
    lineage = apps.og_ids_of_path(og.path)
    here = select(OrgGroupRow.id).where(OrgGroupRow.path.startswith(og.path, autoescape=True))
    return AppRow.og_id.in_(scope.og_ids()) & or_(AppRow.og_id.in_(here), AppRow.og_id.in_(lineage))


@dataclass(frozen=True)
class Licences:
    """Apps and Books licence counts of a purchased app: total and assigned as Apple last said
    (`quince vpp sync`), and how many Quince's users hold now."""

    total: int
    assigned: int
    held: int

    @property
    def available(self) -> int:
        return max(self.total - self.assigned, 0)


@dataclass(frozen=True)
class CatalogEntry:
    app: AppRow
    catalog: OrgGroupRow
    """The OG whose catalog holds the app."""
    inherited: bool
    """The catalog lies above the OG being looked at."""
    assignments: int
    licences: Licences | None
    """None for public and in-house apps."""
    on_user_enrollment: Eligibility
    """Whether the app installs on a user-enrolled device (and why not)."""

    @property
    def not_supported_reason(self) -> str | None:
        """Why the app cannot go to user-enrolled devices; None when it can."""
        verdict = self.on_user_enrollment
        return verdict.reason if isinstance(verdict, NotSupported) else None


def on_user_enrollment(app: AppRow) -> Eligibility:
    """The rules' verdict for this app on a user-enrolled device (DESIGN.md rule 6)."""
    return eligibility(AppKind(app.kind), device_is_user_enrolled=True,
                       device_licensing_enabled=app.device_licensing_enabled)


async def _held(db: AsyncSession, app_ids: Sequence[int]) -> dict[int, int]:
    rows = await db.execute(
        select(VppLicenseRow.app_id, func.count())
        .where(VppLicenseRow.app_id.in_(app_ids), VppLicenseRow.status.in_(HELD))
        .group_by(VppLicenseRow.app_id)
    )
    return dict(rows.tuples().all())


async def _assignment_counts(db: AsyncSession, app_ids: Sequence[int]) -> dict[int, int]:
    rows = await db.execute(
        select(AppAssignmentRow.app_id, func.count())
        .where(AppAssignmentRow.app_id.in_(app_ids))
        .group_by(AppAssignmentRow.app_id)
    )
    return dict(rows.tuples().all())


async def entries(db: AsyncSession, og: OrgGroupRow, rows: Sequence[AppRow]) -> list[CatalogEntry]:
    """Catalog entries for these apps as seen from `og` (a few queries for the whole page)."""
    ids = [r.id for r in rows]
    held = await _held(db, ids)
    counts = await _assignment_counts(db, ids)
    catalogs = {o.id: o for o in await db.scalars(
        select(OrgGroupRow).where(OrgGroupRow.id.in_({r.og_id for r in rows}))
    )}
    out = []
    for row in rows:
        catalog = catalogs[row.og_id]
        licences = (Licences(row.total_licenses, row.assigned_licenses, held.get(row.id, 0))
                    if row.kind == AppKind.PURCHASED.value else None)
        out.append(CatalogEntry(row, catalog, not catalog.path.startswith(og.path), counts.get(row.id, 0),
                                licences, on_user_enrollment(row)))
    return out


async def catalog(
    db: AsyncSession, scope: Scope, og: OrgGroupRow, page: PageRequest, *, kind: AppKind | None = None,
    text: str | None = None,
) -> Page[CatalogEntry]:
    """The apps that reach devices at `og` or below it, by name: from catalogs in its subtree and
    above it, within `scope`. `text` matches part of the name or the bundle ID, any case."""
    stmt = select(AppRow).where(_visible_at(scope, og))
    if kind is not None:
        stmt = stmt.where(AppRow.kind == kind.value)
    if text:
        stmt = stmt.where(or_(AppRow.name.icontains(text, autoescape=True),
                              AppRow.bundle_id.icontains(text, autoescape=True),
                              AppRow.adam_id == text))
    total = await db.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = list(await db.scalars(
        stmt.order_by(AppRow.name, AppRow.id).offset(page.page * page.page_size).limit(page.page_size)
    ))
    return Page(await entries(db, og, rows), page.page, page.page_size, total or 0)


async def get_visible(db: AsyncSession, scope: Scope, og: OrgGroupRow, app_id: int) -> CatalogEntry:
    """One app that reaches devices at `og`; NotFound otherwise (or outside `scope`)."""
    row = await db.scalar(select(AppRow).where(AppRow.id == app_id, _visible_at(scope, og)))
    if row is None:
        raise NotFound("App", app_id)
    return (await entries(db, og, [row]))[0]


# --- assignment targets and what each assignment reached ------------------------------------------


@dataclass(frozen=True)
class Targets:
    """What an app may be assigned to from `og`: OGs at or below both `og` and the app's catalog
    (with their depth below `og`), and the user groups in scope on the app's branch."""

    ogs: list[tuple[OrgGroupRow, int]]
    user_groups: list[tuple[UserGroupRow, OrgGroupRow]]
    more_user_groups: bool


async def targets(
    db: AsyncSession, scope: Scope, ogs: Sequence[tuple[OrgGroupRow, int]], og: OrgGroupRow,
    app: AppRow, catalog: OrgGroupRow,
) -> Targets:
    """`ogs` is the admin's OG tree (depth first, with levels), as the console holds it."""
    deeper = og.path if og.path.startswith(catalog.path) else catalog.path
    base = next((level for row, level in ogs if row.id == og.id), 0)
    og_targets = [(row, level - base) for row, level in ogs if row.path.startswith(deeper)]
    lineage = apps.og_ids_of_path(catalog.path)
    on_branch = or_(
        UserGroupRow.og_id.in_(select(OrgGroupRow.id).where(
            OrgGroupRow.path.startswith(catalog.path, autoescape=True))),
        UserGroupRow.og_id.in_(lineage),
    )
    found = (await db.execute(
        select(UserGroupRow, OrgGroupRow)
        .join(OrgGroupRow, OrgGroupRow.id == UserGroupRow.og_id)
        .where(UserGroupRow.og_id.in_(scope.og_ids()), on_branch)
        .order_by(UserGroupRow.name_key, UserGroupRow.id)
        .limit(MAX_TARGET_GROUPS + 1)
    )).tuples().all()
    groups = [(g, o) for g, o in found]
    return Targets(og_targets, groups[:MAX_TARGET_GROUPS], len(groups) > MAX_TARGET_GROUPS)


async def assignment_statuses(
    db: AsyncSession, scope: Scope, app: AppRow, catalog: OrgGroupRow, rows: Sequence[AppAssignmentRow],
) -> dict[int, dict[str, int]]:
    """For each assignment, how many devices in `scope` that it reaches stand at each status."""
    paths = await apps.target_paths(db, rows)
    out: dict[int, dict[str, int]] = {}
    for row in rows:
        counted = await db.execute(
            select(DeviceAppRow.status, func.count())
            .join(DeviceRow, DeviceRow.id == DeviceAppRow.device_id)
            .where(DeviceAppRow.app_id == app.id, DeviceRow.og_id.in_(scope.og_ids()),
                   apps.reached_by(row, paths.get(row.target_id), catalog))
            .group_by(DeviceAppRow.status)
        )
        out[row.id] = dict(counted.tuples().all())
    return out


# --- where the app stands on devices --------------------------------------------------------------


@dataclass(frozen=True)
class DeviceLine:
    status: DeviceAppRow
    device: DeviceRow
    username: str | None
    og_name: str


async def status_counts(db: AsyncSession, scope: Scope, app_id: int) -> dict[str, int]:
    """How many devices in `scope` stand at each status for this app."""
    rows = await db.execute(
        select(DeviceAppRow.status, func.count())
        .join(DeviceRow, DeviceRow.id == DeviceAppRow.device_id)
        .where(DeviceAppRow.app_id == app_id, DeviceRow.og_id.in_(scope.og_ids()))
        .group_by(DeviceAppRow.status)
    )
    return dict(rows.tuples().all())


async def devices_with(
    db: AsyncSession, scope: Scope, app_id: int, page: PageRequest, *, status: str | None = None,
) -> Page[DeviceLine]:
    """The devices in `scope` that Quince has tried to give this app, newest change first."""
    stmt = (
        select(DeviceAppRow, DeviceRow, EnrollmentUserRow.username, OrgGroupRow.name)
        .join(DeviceRow, DeviceRow.id == DeviceAppRow.device_id)
        .join(OrgGroupRow, OrgGroupRow.id == DeviceRow.og_id)
        .outerjoin(EnrollmentUserRow, EnrollmentUserRow.id == DeviceRow.enrollment_user_id)
        .where(DeviceAppRow.app_id == app_id, DeviceRow.og_id.in_(scope.og_ids()))
    )
    if status:
        stmt = stmt.where(DeviceAppRow.status == status)
    total = await db.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = (await db.execute(
        stmt.order_by(DeviceAppRow.updated_at.desc(), DeviceAppRow.id.desc())
        .offset(page.page * page.page_size).limit(page.page_size)
    )).tuples().all()
    return Page([DeviceLine(s, d, u, o) for s, d, u, o in rows], page.page, page.page_size, total or 0)


# --- Apps and Books users -------------------------------------------------------------------------


@dataclass(frozen=True)
class VppUserLine:
    row: VppUserRow
    user: EnrollmentUserRow
    user_og: OrgGroupRow
    token_og: OrgGroupRow | None
    """The OG holding the token; None when it lies above the caller's subtree."""
    licences: int


async def vpp_users(
    db: AsyncSession, scope: Scope, og: OrgGroupRow, page: PageRequest, *, status: str | None = None,
    text: str | None = None,
) -> Page[VppUserLine]:
    """The Apps and Books users of enrollment users at `og` or below it (within `scope`), by
    username, with the number of licences each holds. `text` matches part of the username or the
    Managed Apple ID."""
    stmt = (
        select(VppUserRow, EnrollmentUserRow, OrgGroupRow)
        .join(EnrollmentUserRow, EnrollmentUserRow.id == VppUserRow.enrollment_user_id)
        .join(OrgGroupRow, OrgGroupRow.id == EnrollmentUserRow.og_id)
        .where(EnrollmentUserRow.og_id.in_(scope.og_ids()),
               OrgGroupRow.path.startswith(og.path, autoescape=True))
    )
    if status:
        stmt = stmt.where(VppUserRow.status == status)
    if text:
        stmt = stmt.where(or_(EnrollmentUserRow.username.icontains(text, autoescape=True),
                              VppUserRow.managed_apple_id.icontains(text, autoescape=True)))
    total = await db.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = (await db.execute(
        stmt.order_by(EnrollmentUserRow.username_key, VppUserRow.id)
        .offset(page.page * page.page_size).limit(page.page_size)
    )).tuples().all()
    ids = [v.id for v, _, _ in rows]
    held = dict((await db.execute(
        select(VppLicenseRow.vpp_user_id, func.count())
        .where(VppLicenseRow.vpp_user_id.in_(ids), VppLicenseRow.status.in_(HELD))
        .group_by(VppLicenseRow.vpp_user_id)
    )).tuples().all())
    token_ogs = dict((await db.execute(
        select(VppTokenRow.id, OrgGroupRow)
        .join(OrgGroupRow, OrgGroupRow.id == VppTokenRow.og_id)
        .where(VppTokenRow.id.in_({v.token_id for v, _, _ in rows}))
    )).tuples().all())
    lines = []
    for vpp_user, user, user_og in rows:
        holder = token_ogs.get(vpp_user.token_id)
        lines.append(VppUserLine(vpp_user, user, user_og,
                                 holder if holder is not None and scope.covers(holder.path) else None,
                                 held.get(vpp_user.id, 0)))
    return Page(lines, page.page, page.page_size, total or 0)
