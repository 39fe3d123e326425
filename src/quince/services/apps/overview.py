"""What the admin console shows about apps: the catalog visible at an OG with licence and
assignment counts, where an app stands on the devices of an OG, the Apps and Books users of an
OG's users.

Reads only what `apps` and `app_delivery` store; every query is limited to the caller's scope.
Nothing here commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from quince.domain.app_eligibility import AppKind, Eligibility, NotSupported, eligibility
from quince.domain.errors import NotFound
from quince.services.apps import catalog as apps
from quince.services.scope import Scope
from quince.store import apps as store
from quince.store import vpp as vpp_store
from quince.store.database import Db
from quince.store.models import (
    AppAssignmentRow,
    AppRow,
    DeviceAppRow,
    DeviceRow,
    EnrollmentUserRow,
    OrgGroupRow,
    UserGroupRow,
    VppUserRow,
)
from quince.store.paging import Page, PageRequest

# A select of targets stays usable; an install with more user groups says the list is cut.
MAX_TARGET_GROUPS = 500


# --- the catalog ----------------------------------------------------------------------------------


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


async def entries(db: Db, og: OrgGroupRow, rows: Sequence[AppRow]) -> list[CatalogEntry]:
    """Catalog entries for these apps as seen from `og` (a few queries for the whole page)."""
    ids = [r.id for r in rows]
    held = await vpp_store.held_per_app(db, ids)
    counts = await store.assignment_counts(db, ids)
    catalogs = await store.org_groups_by_id(db, {r.og_id for r in rows})
    out = []
    for row in rows:
        catalog = catalogs[row.og_id]
        licences = (Licences(row.total_licenses, row.assigned_licenses, held.get(row.id, 0))
                    if row.kind == AppKind.PURCHASED.value else None)
        out.append(CatalogEntry(row, catalog, not catalog.path.startswith(og.path), counts.get(row.id, 0),
                                licences, on_user_enrollment(row)))
    return out


async def catalog(
    db: Db, scope: Scope, og: OrgGroupRow, page: PageRequest, *, kind: AppKind | None = None,
    text: str | None = None,
) -> Page[CatalogEntry]:
    """The apps that reach devices at `og` or below it, by name: from catalogs in its subtree and
    above it, within `scope`. `text` matches part of the name or the bundle ID, any case."""
    rows, total = await store.apps_visible_at(
        db, scope.og_ids(), og.path, apps.og_ids_of_path(og.path), page.page * page.page_size,
        page.page_size, kind=kind, text=text,
    )
    return Page(await entries(db, og, rows), page.page, page.page_size, total)


async def get_visible(db: Db, scope: Scope, og: OrgGroupRow, app_id: int) -> CatalogEntry:
    """One app that reaches devices at `og`; NotFound otherwise (or outside `scope`)."""
    row = await store.app_visible_at(db, scope.og_ids(), og.path, apps.og_ids_of_path(og.path), app_id)
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
    db: Db, scope: Scope, ogs: Sequence[tuple[OrgGroupRow, int]], og: OrgGroupRow,
    app: AppRow, catalog: OrgGroupRow,
) -> Targets:
    """`ogs` is the admin's OG tree (depth first, with levels), as the console holds it."""
    deeper = og.path if og.path.startswith(catalog.path) else catalog.path
    base = next((level for row, level in ogs if row.id == og.id), 0)
    og_targets = [(row, level - base) for row, level in ogs if row.path.startswith(deeper)]
    groups = await store.user_groups_on_branch(db, scope.og_ids(), catalog.path,
                                               apps.og_ids_of_path(catalog.path), MAX_TARGET_GROUPS + 1)
    return Targets(og_targets, groups[:MAX_TARGET_GROUPS], len(groups) > MAX_TARGET_GROUPS)


async def assignment_statuses(
    db: Db, scope: Scope, app: AppRow, catalog: OrgGroupRow, rows: Sequence[AppAssignmentRow],
) -> dict[int, dict[str, int]]:
    """For each assignment, how many devices in `scope` that it reaches stand at each status."""
    paths = await apps.target_paths(db, rows)
    out: dict[int, dict[str, int]] = {}
    for row in rows:
        reach = store.reached_by(row, paths.get(row.target_id), catalog.path)
        out[row.id] = await store.status_counts(db, app.id, scope.og_ids(), reach)
    return out


# --- where the app stands on devices --------------------------------------------------------------


@dataclass(frozen=True)
class DeviceLine:
    status: DeviceAppRow
    device: DeviceRow
    username: str | None
    og_name: str


async def status_counts(db: Db, scope: Scope, app_id: int) -> dict[str, int]:
    """How many devices in `scope` stand at each status for this app."""
    return await store.status_counts(db, app_id, scope.og_ids())


async def devices_with(
    db: Db, scope: Scope, app_id: int, page: PageRequest, *, status: str | None = None,
) -> Page[DeviceLine]:
    """The devices in `scope` that Quince has tried to give this app, newest change first."""
    rows, total = await store.devices_with_app(db, app_id, scope.og_ids(), page.page * page.page_size,
                                               page.page_size, status=status)
    return Page([DeviceLine(s, d, u, o) for s, d, u, o in rows], page.page, page.page_size, total)


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
    db: Db, scope: Scope, og: OrgGroupRow, page: PageRequest, *, status: str | None = None,
    text: str | None = None,
) -> Page[VppUserLine]:
    """The Apps and Books users of enrollment users at `og` or below it (within `scope`), by
    username, with the number of licences each holds. `text` matches part of the username or the
    Managed Apple ID."""
    rows, total = await vpp_store.vpp_users_below(db, scope.og_ids(), og.path, page.page * page.page_size,
                                                  page.page_size, status=status, text=text)
    held = await vpp_store.held_per_vpp_user(db, [v.id for v, _, _ in rows])
    token_ogs = await vpp_store.token_ogs(db, {v.token_id for v, _, _ in rows})
    lines = []
    for vpp_user, user, user_og in rows:
        holder = token_ogs.get(vpp_user.token_id)
        lines.append(VppUserLine(vpp_user, user, user_og,
                                 holder if holder is not None and scope.covers(holder.path) else None,
                                 held.get(vpp_user.id, 0)))
    return Page(lines, page.page, page.page_size, total)
