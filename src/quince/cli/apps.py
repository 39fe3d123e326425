"""`quince apps`: the app catalog, assignments, a device's app statuses, and on-demand installs."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from quince.cli.runtime import console, emit, fail, plain, print_json, run
from quince.cli.views import GroupIds, JsonOption, all_pages, when
from quince.domain.app_eligibility import AppKind, parse_kind
from quince.services.apps import catalog as apps
from quince.services.apps import delivery as app_delivery
from quince.services.apps.catalog import AssignmentView, NewApp
from quince.services.devices import records as devices
from quince.services.directory import org_groups, user_groups, users
from quince.services.scope import Scope
from quince.store.database import Db
from quince.store.models import AppRow, DeviceAppRow
from quince.store.rows import by_id

app = typer.Typer(no_args_is_help=True, help="The app catalog, assignments and apps on devices.")

_TYPES = {"public": "Public", "in_house": "Internal", "purchased": "Purchased"}

AppRef = Annotated[str, typer.Argument(help="The app: its numeric id, or its bundle ID.")]
NameArg = Annotated[str, typer.Argument(help="The app's name, as people see it.")]
BundleArg = Annotated[str, typer.Argument(help="The bundle ID, e.g. com.example.app.")]
CatalogOption = Annotated[str, typer.Option(
    "--group-id", help="Group ID (or numeric id) of the OG whose catalog takes the app."
)]
AdamOption = Annotated[str, typer.Option("--adam-id", help="The App Store id (Adam ID).")]


def app_dict(row: AppRow, ids: GroupIds) -> dict[str, Any]:
    out: dict[str, Any] = {
        "Id": row.id, "Uuid": row.uuid, "ApplicationName": row.name, "BundleId": row.bundle_id,
        "AppType": _TYPES[row.kind], "AdamId": row.adam_id, "ManifestUrl": row.manifest_url,
        "LocationGroupId": row.og_id, "GroupId": ids.group_id(row.og_id), "CreatedOn": when(row.created_at),
    }
    if row.kind == AppKind.PURCHASED.value:
        out.update({
            "DeviceBasedLicensingEnabled": row.device_licensing_enabled,
            "Purchased": row.total_licenses, "Redeemed": row.assigned_licenses,
            "Available": max(row.total_licenses - row.assigned_licenses, 0),
        })
    return out


def assignment_dict(view: AssignmentView) -> dict[str, Any]:
    row = view.row
    return {
        "Id": row.id, "ApplicationId": row.app_id,
        "TargetKind": "UserGroup" if row.target_kind == "user_group" else "OrganizationGroup",
        "TargetId": row.target_id, "TargetName": view.target_name,
        "Mode": "Automatic" if row.mode == "automatic" else "OnDemand", "CreatedOn": when(row.created_at),
    }


def device_app_dict(status: DeviceAppRow, row: AppRow) -> dict[str, Any]:
    return {
        "DeviceId": status.device_id, "ApplicationId": row.id, "ApplicationName": row.name,
        "ApplicationIdentifier": row.bundle_id, "Type": _TYPES[row.kind], "Status": status.status,
        "StatusReason": status.reason, "LicenseType": (status.license_type or "").title() or None,
        "CommandUuid": status.command_uuid, "UpdatedOn": when(status.updated_at),
    }


def _add(new_app: NewApp, group_ref: str, as_json: bool) -> None:
    async def work(db: Db, scope: Scope) -> dict[str, Any]:
        og = await org_groups.resolve_ref(db, scope, group_ref)
        row = await apps.create(db, scope, NewApp(**{**new_app.__dict__, "og_id": og.id}))
        return app_dict(row, await GroupIds.load(db))

    data = run(work, commit=True)
    emit(data, as_json, f"Added {plain(data['AppType'].lower())} app {plain(repr(data['ApplicationName']))} "
                        f"({plain(data['BundleId'])}) as app {data['Id']} to {plain(data['GroupId'])}.")


@app.command("add-public")
def add_public(name: NameArg, bundle_id: BundleArg, adam_id: AdamOption, group_id: CatalogOption,
               as_json: JsonOption = False) -> None:
    """Add a free App Store app (not installable on user-enrolled devices)."""
    _add(NewApp(AppKind.PUBLIC, 0, name, bundle_id, adam_id=adam_id), group_id, as_json)


@app.command("add-internal")
def add_internal(
    name: NameArg, bundle_id: BundleArg,
    manifest_url: Annotated[str, typer.Option("--manifest-url", help="https:// URL of the manifest.")],
    group_id: CatalogOption, as_json: JsonOption = False,
) -> None:
    """Add an in-house app (not installable on user-enrolled devices)."""
    _add(NewApp(AppKind.IN_HOUSE, 0, name, bundle_id, manifest_url=manifest_url), group_id, as_json)


@app.command("add-purchased")
def add_purchased(
    name: NameArg, bundle_id: BundleArg, adam_id: AdamOption, group_id: CatalogOption,
    licenses: Annotated[int, typer.Option("--licenses", min=0, help="Licences purchased.")] = 0,
    redeemed: Annotated[int, typer.Option("--redeemed", min=0, help="Licences already assigned.")] = 0,
    device_licensing: Annotated[bool, typer.Option(
        "--device-licensing", help="Device-based licensing is enabled for the app (user-enrolled "
                                   "devices still get user licences).")] = False,
    as_json: JsonOption = False,
) -> None:
    """Add an Apps and Books app by hand (a token sync normally brings them in)."""
    _add(NewApp(AppKind.PURCHASED, 0, name, bundle_id, adam_id=adam_id, total_licenses=licenses,
                assigned_licenses=redeemed, device_licensing_enabled=device_licensing), group_id, as_json)


@app.command("list")
def list_apps(
    group_id: Annotated[str | None, typer.Option(
        "--group-id", help="Only catalogs of this OG and the OGs below it.")] = None,
    kind: Annotated[str | None, typer.Option("--kind", help="public, in_house or purchased.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Apps of every catalog (or of one OG's subtree)."""

    async def work(db: Db, scope: Scope) -> list[dict[str, Any]]:
        og_id = (await org_groups.resolve_ref(db, scope, group_id)).id if group_id else None
        parsed = parse_kind(kind) if kind else None
        rows = await all_pages(lambda p: apps.search(db, scope, p, kind=parsed, og_id=og_id))
        ids = await GroupIds.load(db)
        return [app_dict(r, ids) for r in rows]

    rows = run(work)
    if as_json:
        print_json(rows)
        return
    table = Table("Id", "Name", "Bundle ID", "Type", "Catalog", "Licences")
    for r in rows:
        licences = f"{r['Redeemed']}/{r['Purchased']}" if r["AppType"] == "Purchased" else "-"
        if r.get("DeviceBasedLicensingEnabled"):
            licences += " (device-based enabled)"
        table.add_row(str(r["Id"]), plain(r["ApplicationName"]), plain(r["BundleId"]), plain(r["AppType"]),
                      plain(r["GroupId"]), licences)
    console.print(table)


@app.command("assign")
def assign(
    ref: AppRef,
    user_group: Annotated[str | None, typer.Option(
        "--user-group", help="The user group (name or id) whose members' devices get the app.")] = None,
    group_id: Annotated[str | None, typer.Option(
        "--group-id", help="The OG (Group ID or id) whose devices, and those below it, get the app.")] = None,
    on_demand: Annotated[bool, typer.Option(
        "--on-demand", help="Install only when asked (default: automatically on enrollment).")] = False,
    as_json: JsonOption = False,
) -> None:
    """Assign an app to a user group or an OG."""
    if (user_group is None) == (group_id is None):
        fail("Give either --user-group or --group-id.")

    async def work(db: Db, scope: Scope) -> dict[str, Any]:
        row = await apps.resolve_ref(db, scope, ref)
        if user_group is not None:
            kind, target = "user_group", (await user_groups.resolve_ref(db, scope, user_group)).id
        else:
            assert group_id is not None
            kind, target = "og", (await org_groups.resolve_ref(db, scope, group_id)).id
        added = await apps.assign(db, scope, row.id, kind, target, "on_demand" if on_demand else "automatic")
        await app_delivery.deliver_assignment(db, scope, row, added)
        view = next(v for v in await apps.assignments_of(db, scope, row.id) if v.row.id == added.id)
        return {**assignment_dict(view), "ApplicationName": row.name}

    data = run(work, commit=True)
    emit(data, as_json, f"Assigned {plain(repr(data['ApplicationName']))} to {plain(data['TargetName'])} "
                        f"({plain(data['Mode'])}) as assignment {data['Id']}.")


@app.command("assignments")
def list_assignments(ref: AppRef, as_json: JsonOption = False) -> None:
    """An app's assignments."""

    async def work(db: Db, scope: Scope) -> list[dict[str, Any]]:
        row = await apps.resolve_ref(db, scope, ref)
        return [assignment_dict(v) for v in await apps.assignments_of(db, scope, row.id)]

    rows = run(work)
    if as_json:
        print_json(rows)
        return
    table = Table("Id", "Target", "Kind", "Mode")
    for r in rows:
        table.add_row(str(r["Id"]), plain(r["TargetName"] or f"#{r['TargetId']}"), plain(r["TargetKind"]),
                      plain(r["Mode"]))
    console.print(table)


@app.command("unassign")
def unassign(ref: AppRef, assignment_id: Annotated[int, typer.Argument(help="The assignment id.")],
             as_json: JsonOption = False) -> None:
    """Remove an assignment (apps already on devices stay)."""

    async def work(db: Db, scope: Scope) -> dict[str, Any]:
        row = await apps.resolve_ref(db, scope, ref)
        await apps.unassign(db, scope, row.id, assignment_id)
        return {"Id": assignment_id, "ApplicationId": row.id, "Removed": True}

    data = run(work, commit=True)
    emit(data, as_json, f"Removed assignment {assignment_id}.")


@app.command("remove")
def remove(ref: AppRef, as_json: JsonOption = False) -> None:
    """Remove an app from its catalog (refused while users hold its licences)."""

    async def work(db: Db, scope: Scope) -> dict[str, Any]:
        row = await apps.resolve_ref(db, scope, ref)
        await apps.delete(db, scope, row.id)
        return {"Id": row.id, "ApplicationName": row.name, "Removed": True}

    data = run(work, commit=True)
    emit(data, as_json, f"Removed app {plain(repr(data['ApplicationName']))}.")


def _print_statuses(rows: list[dict[str, Any]]) -> None:
    table = Table("App", "Bundle ID", "Type", "Status", "Licence", "Reason")
    for r in rows:
        table.add_row(plain(r["ApplicationName"]), plain(r["ApplicationIdentifier"]), plain(r["Type"]),
                      plain(r["Status"]), plain(r["LicenseType"] or "-"), plain(r["StatusReason"] or ""))
    console.print(table)


@app.command("device")
def device_status(device: Annotated[str, typer.Argument(
    help="The device: its numeric id, or its Udid (the Enrollment ID of a user-enrolled device).")],
    as_json: JsonOption = False,
) -> None:
    """Where each app stands on a device, with the reason (e.g. why a public app is not supported)."""

    async def work(db: Db, scope: Scope) -> list[dict[str, Any]]:
        row = await devices.resolve_ref(db, scope, device)
        found = await all_pages(lambda p: apps.device_apps(db, scope, row.id, p))
        return [device_app_dict(status, app_row) for status, app_row in found]

    rows = run(work)
    if as_json:
        print_json(rows)
        return
    if not rows:
        console.print("No apps are assigned to this device.")
        return
    _print_statuses(rows)


@app.command("install")
def install(
    ref: AppRef,
    device: Annotated[str | None, typer.Option("--device", help="A device id or Udid.")] = None,
    user: Annotated[str | None, typer.Option(
        "--user", help="A username or id: every enrolled device of the user.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Install a purchased app now on a device, or on every enrolled device of a user."""
    if (device is None) == (user is None):
        fail("Give either --device or --user.")

    async def work(db: Db, scope: Scope) -> list[dict[str, Any]]:
        row = await apps.resolve_ref(db, scope, ref)
        if row.kind != AppKind.PURCHASED.value:
            await apps.get(db, scope, row.id, kind=AppKind.PURCHASED)  # NotFound, worded for it
        if device is not None:
            touched = await app_delivery.install_on_demand(
                db, scope, row.id, device_id=(await devices.resolve_ref(db, scope, device)).id)
        else:
            assert user is not None
            touched = await app_delivery.install_on_demand(
                db, scope, row.id, user_id=(await users.resolve_ref(db, scope, user)).id)
        app_rows = await by_id(db, AppRow, [row.id])
        return [device_app_dict(t, app_rows[t.app_id]) for t in touched]

    rows = run(work, commit=True)
    if as_json:
        print_json(rows)
        return
    if not rows:
        console.print("The user has no enrolled devices; nothing was installed.")
        return
    _print_statuses(rows)
