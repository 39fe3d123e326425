"""The app catalog of each OG, assignments of apps to user groups and OGs, and where each app
stands on each device.

An app lives in one OG's catalog and is visible to callers whose subtree holds that OG. An
assignment to an OG covers the OG's children; an assignment to a user group covers its members'
devices. Only apps from catalogs at a device's OG or above it ever apply to that device. Nothing
here commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, get_args

from quince.domain.app_eligibility import (
    AppKind,
    LicenseType,
    validate_adam_id,
    validate_app_name,
    validate_bundle_id,
    validate_license_counts,
    validate_manifest_url,
)
from quince.domain.app_statuses import DeviceAppStatus
from quince.domain.errors import Conflict, InvalidInContext, InvalidInput, NotFound
from quince.services.devices import records as devices
from quince.services.directory import org_groups, user_groups, users
from quince.services.references import by_id_or_name
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
    VppUserRow,
)
from quince.store.paging import Page, PageRequest

TargetKind = Literal["user_group", "og"]
AssignmentMode = Literal["automatic", "on_demand"]
TARGET_KINDS: tuple[str, ...] = get_args(TargetKind)
ASSIGNMENT_MODES: tuple[str, ...] = get_args(AssignmentMode)


def og_ids_of_path(path: str) -> list[int]:
    """The ids on a materialized path (`/1/4/9/`), root first: the OG and its ancestors."""
    return [int(part) for part in path.strip("/").split("/") if part]


# --- the catalog --------------------------------------------------------------------------------


async def get(db: Db, scope: Scope, app_id: int, *, kind: AppKind | None = None) -> AppRow:
    """The app with this id (of this kind, if given); NotFound when missing or out of scope."""
    row = await store.app(db, scope.og_ids(), app_id, kind)
    if row is None:
        raise NotFound("Purchased app" if kind is AppKind.PURCHASED else "App", app_id)
    return row


async def get_by_uuid(db: Db, scope: Scope, uuid: str) -> AppRow:
    """The app with this Uuid; NotFound when missing or out of scope."""
    row = await store.app_by_uuid(db, scope.og_ids(), uuid)
    if row is None:
        raise NotFound("App", uuid)
    return row


async def resolve_ref(db: Db, scope: Scope, ref: str) -> AppRow:
    """An app named by numeric id or by bundle ID (refused when several catalogs hold it)."""
    return await by_id_or_name(
        ref, lambda app_id: get(db, scope, app_id),
        lambda bundle_id: store.apps_with_bundle_id(db, scope.og_ids(), bundle_id.strip()),
        noun="App", field="App", several="Several apps have bundle ID {ref}")


async def search(
    db: Db, scope: Scope, page: PageRequest, *, kind: AppKind | None = None,
    name: str | None = None, bundle_id: str | None = None, og_id: int | None = None,
) -> Page[AppRow]:
    """Apps in scope; `name` matches part of the name, `bundle_id` exactly, `og_id` takes the OG
    with the OGs below it."""
    under = (await org_groups.get(db, scope, og_id)).path if og_id is not None else None
    rows, total = await store.apps_matching(
        db, scope.og_ids(), page.page * page.page_size, page.page_size, kind=kind, name=name,
        bundle_id=bundle_id.strip() if bundle_id else None, under_path=under,
    )
    return Page(rows, page.page, page.page_size, total)


@dataclass(frozen=True)
class NewApp:
    """A catalog entry to create. Public: bundle ID and App Store id; in-house: bundle ID and an
    https manifest URL; purchased: App Store id, bundle ID, licence counts and whether
    device-based licensing is enabled."""

    kind: AppKind
    og_id: int
    name: str
    bundle_id: str
    adam_id: str | None = None
    manifest_url: str | None = None
    total_licenses: int = 0
    assigned_licenses: int = 0
    device_licensing_enabled: bool = False


async def _check_bundle_free(
    db: Db, og_id: int, kind: str, bundle_id: str, own: int | None
) -> None:
    other = await store.app_in_catalog(db, og_id, kind, bundle_id)
    if other is not None and other.id != own:
        raise Conflict(
            f"The catalog of that organization group already holds {bundle_id!r} as a "
            f"{AppKind(kind).value.replace('_', '-')} app (id {other.id})."
        )


async def create(db: Db, scope: Scope, new: NewApp) -> AppRow:
    """Add an app to the catalog of `new.og_id`, checking the fields its kind needs."""
    scope.require_write()
    name = validate_app_name(new.name)
    bundle_id = validate_bundle_id(new.bundle_id)
    adam_id = manifest_url = None
    total = assigned = 0
    licensing = False
    if new.kind is AppKind.IN_HOUSE:
        if new.manifest_url is None:
            raise InvalidInput("ManifestUrl", "An in-house app needs the https URL of its manifest.")
        manifest_url = validate_manifest_url(new.manifest_url)
    else:
        if new.adam_id is None:
            raise InvalidInput("AppStoreId", "An App Store app needs its App Store id (Adam ID).")
        adam_id = validate_adam_id(new.adam_id)
    if new.kind is AppKind.PURCHASED:
        total, assigned = validate_license_counts(new.total_licenses, new.assigned_licenses)
        licensing = new.device_licensing_enabled
    og = await org_groups.get(db, scope, new.og_id)
    await _check_bundle_free(db, og.id, new.kind.value, bundle_id, None)
    row = AppRow(
        og_id=og.id, kind=new.kind.value, name=name, bundle_id=bundle_id, adam_id=adam_id,
        manifest_url=manifest_url, device_licensing_enabled=licensing, total_licenses=total,
        assigned_licenses=assigned,
    )
    db.add(row)
    await db.flush()
    return row


@dataclass(frozen=True)
class AppChanges:
    """Fields to set; None leaves a field as it is. Only fields of the app's kind may be set."""

    name: str | None = None
    manifest_url: str | None = None
    total_licenses: int | None = None
    assigned_licenses: int | None = None
    device_licensing_enabled: bool | None = None


async def update(db: Db, scope: Scope, app_id: int, changes: AppChanges) -> AppRow:
    scope.require_write()
    row = await get(db, scope, app_id)
    kind = AppKind(row.kind)
    if changes.name is not None:
        row.name = validate_app_name(changes.name)
    if changes.manifest_url is not None:
        if kind is not AppKind.IN_HOUSE:
            raise InvalidInput("ManifestUrl", "Only in-house apps have a manifest URL.")
        row.manifest_url = validate_manifest_url(changes.manifest_url)
    purchased_only = (changes.total_licenses, changes.assigned_licenses, changes.device_licensing_enabled)
    if any(v is not None for v in purchased_only) and kind is not AppKind.PURCHASED:
        raise InvalidInput("ManagedDistribution", "Only purchased apps have licences.")
    if changes.total_licenses is not None or changes.assigned_licenses is not None:
        row.total_licenses, row.assigned_licenses = validate_license_counts(
            row.total_licenses if changes.total_licenses is None else changes.total_licenses,
            row.assigned_licenses if changes.assigned_licenses is None else changes.assigned_licenses,
        )
    if changes.device_licensing_enabled is not None:
        if row.device_licensing_enabled and not changes.device_licensing_enabled:
            # Apple's device assignment is one-way for an app (Workspace ONE says so too).
            raise Conflict(f"Device-based licensing of {row.name!r} cannot be switched off once enabled.")
        row.device_licensing_enabled = changes.device_licensing_enabled
    await db.flush()
    return row


async def delete(db: Db, scope: Scope, app_id: int) -> None:
    """Remove an app with its assignments and device statuses; refused while users hold licences."""
    scope.require_write()
    row = await get(db, scope, app_id)
    if await vpp_store.licences_held_for_app(db, row.id):
        raise Conflict(
            f"Users still hold Apps and Books licences of {row.name!r}; release them before "
            "removing the app from the catalog."
        )
    await db.delete(row)
    await db.flush()


# --- assignments --------------------------------------------------------------------------------


@dataclass(frozen=True)
class AssignmentView:
    """An assignment with the name of what it targets (None when outside the caller's scope)."""

    row: AppAssignmentRow
    target_name: str | None


async def _target_path(db: Db, scope: Scope, kind: str, target_id: int) -> tuple[str, str]:
    """The path of the OG a target lives at, and the target's name; NotFound out of scope."""
    if kind == "og":
        og = await org_groups.get(db, scope, target_id)
        return og.path, og.name
    group = await user_groups.get(db, scope, target_id)
    home = await db.get(OrgGroupRow, group.og_id)
    assert home is not None
    return home.path, group.name


async def assign(
    db: Db, scope: Scope, app_id: int, target_kind: str, target_id: int,
    mode: str = "automatic",
) -> AppAssignmentRow:
    """Assign an app to a user group or an OG (with its children), automatic or on demand.

    An OG target must sit at the app's catalog OG or below it; a user group must live on the
    same line (at, above or below the catalog OG), since only devices at or below the catalog
    ever take the app."""
    scope.require_write()
    if target_kind not in TARGET_KINDS:
        raise InvalidInput("TargetKind", f"An assignment targets a user_group or an og, not {target_kind!r}.")
    if mode not in ASSIGNMENT_MODES:
        raise InvalidInput("Mode", f"The assignment mode is automatic or on_demand, not {mode!r}.")
    app = await get(db, scope, app_id)
    catalog = await db.get(OrgGroupRow, app.og_id)
    assert catalog is not None
    path, name = await _target_path(db, scope, target_kind, target_id)
    related = path.startswith(catalog.path) or (target_kind == "user_group" and catalog.path.startswith(path))
    if not related:
        what = "organization group" if target_kind == "og" else "user group"
        raise InvalidInContext(
            "LocationGroupId" if target_kind == "og" else "UserGroupId",
            f"{app.name!r} is in the catalog of {catalog.name!r}; the {what} {name!r} is not "
            f"{'at or below it' if target_kind == 'og' else 'on its branch'}, so the app could "
            "never reach its devices.",
        )
    # Of two requests assigning at once, one assigns and the other gets the same refusal as a
    # request coming after it.
    row = await store.add_assignment(db, app.id, target_kind, target_id, mode)
    if row is None:
        existing = await store.assignment_id(db, app.id, target_kind, target_id)
        raise Conflict(f"{app.name!r} is already assigned to {name!r} (assignment {existing}).")
    return row


async def assignments_of(db: Db, scope: Scope, app_id: int) -> list[AssignmentView]:
    """The app's assignments, oldest first, with their targets' names."""
    app = await get(db, scope, app_id)
    rows = await store.assignments_of_app(db, app.id)
    ogs = await store.org_groups_by_id(db, [r.target_id for r in rows if r.target_kind == "og"])
    groups = await store.user_groups_by_id(db, [r.target_id for r in rows if r.target_kind == "user_group"])
    group_ogs = await store.org_groups_by_id(db, {g.og_id for g in groups.values()})
    out = []
    for r in rows:
        name: str | None = None
        if r.target_kind == "og" and r.target_id in ogs and scope.covers(ogs[r.target_id].path):
            name = ogs[r.target_id].name
        elif r.target_kind == "user_group" and r.target_id in groups:
            group = groups[r.target_id]
            if scope.covers(group_ogs[group.og_id].path):
                name = group.name
        out.append(AssignmentView(r, name))
    return out


async def unassign(db: Db, scope: Scope, app_id: int, assignment_id: int) -> None:
    scope.require_write()
    app = await get(db, scope, app_id)
    row = await db.get(AppAssignmentRow, assignment_id)
    if row is None or row.app_id != app.id:
        raise NotFound("Assignment", assignment_id)
    await db.delete(row)
    await db.flush()


async def assignments_for_device(
    db: Db, device: DeviceRow, *, modes: Sequence[str] = ("automatic",),
    app_id: int | None = None,
) -> list[tuple[AppRow, AppAssignmentRow]]:
    """The assignments (of these modes) that reach a device, one per app, by app name: assigned
    to one of its user's user groups, or to its OG or an OG above it, and only of apps from
    catalogs at the device's OG or above. Not scoped: the delivery flow runs as the server."""
    og = await db.get(OrgGroupRow, device.og_id)
    assert og is not None
    found: dict[int, tuple[AppRow, AppAssignmentRow]] = {}
    reaching = await store.assignments_reaching(db, og_ids_of_path(og.path), device.enrollment_user_id,
                                                modes, app_id)
    for app, assignment in reaching:
        found.setdefault(app.id, (app, assignment))  # the oldest assignment speaks for the app
    return list(found.values())


async def target_paths(db: Db, rows: Sequence[AppAssignmentRow]) -> dict[int, str]:
    """The materialized paths of the OGs these assignments target (user-group targets have none)."""
    return await store.og_paths(db, {r.target_id for r in rows if r.target_kind == "og"})


async def apps_for_device(db: Db, device: DeviceRow) -> list[tuple[AppRow, AppAssignmentRow]]:
    """The automatic assignments that apply to a device (what to push when it enrolls)."""
    return await assignments_for_device(db, device)


# --- where each app stands on each device -------------------------------------------------------


async def device_apps(
    db: Db, scope: Scope, device_id: int, page: PageRequest
) -> Page[tuple[DeviceAppRow, AppRow]]:
    """A device's app statuses with their apps, by app name; DeviceNotFound out of scope."""
    device = await devices.get(db, scope, device_id)
    rows, total = await store.device_apps_page(db, device.id, page.page * page.page_size, page.page_size)
    return Page(rows, page.page, page.page_size, total)


async def get_device_app(db: Db, device_id: int, app_id: int) -> DeviceAppRow | None:
    return await store.device_app(db, device_id, app_id)


async def device_app_by_command(db: Db, command_uuid: str) -> DeviceAppRow | None:
    """The device app status an InstallApplication (or RemoveApplication) command belongs to."""
    return await store.device_app_by_command(db, command_uuid)


async def set_device_app_status(
    db: Db, device_id: int, app_id: int, status: DeviceAppStatus, reason: str,
    license_type: LicenseType | str | None = None, command_uuid: str | None = None,
) -> DeviceAppRow:
    """Record where an app stands on a device (insert or update). Every field is set as given:
    None clears the licence type or command. Not scoped: the delivery flow runs as the server."""
    licence = LicenseType(license_type).value if license_type is not None else None
    return await store.record_device_app(db, device_id, app_id, status=status, reason=reason[:1000],
                                         license_type=licence, command_uuid=command_uuid)


# --- Apps and Books users -----------------------------------------------------------------------


@dataclass(frozen=True)
class VppUserView:
    """An enrollment user's Apps and Books user, with the OG holding its token (None when that
    OG is outside the caller's scope). Never the token itself."""

    row: VppUserRow
    token_og: OrgGroupRow | None


async def vpp_user_of(db: Db, scope: Scope, user_id: int) -> list[VppUserView]:
    """The Apps and Books user(s) of an enrollment user, one per token, with their status."""
    user: EnrollmentUserRow = await users.get(db, scope, user_id)
    rows = await vpp_store.vpp_users_of(db, user.id)
    return [VppUserView(v, og if scope.covers(og.path) else None) for v, og in rows]
