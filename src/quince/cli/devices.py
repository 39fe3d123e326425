"""`quince devices`: list and show device records, queue a command, see a device's commands,
Enterprise Wipe a device."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.table import Table

from quince.cli.runtime import console, emit, fail, plain, print_json, run
from quince.cli.views import JsonOption
from quince.services.devices import records as devices
from quince.services.mdm import commands
from quince.services.mdm.enterprise_wipe import enterprise_wipe
from quince.services.scope import Scope
from quince.store.database import Db
from quince.store.models import CommandRow, DeviceRow
from quince.store.paging import PageRequest

app = typer.Typer(no_args_is_help=True, help="Device records and their MDM commands.")

DeviceRef = Annotated[str, typer.Argument(
    help="The device: its numeric id, or its Udid (the Enrollment ID of a user-enrolled device)."
)]


def _device_dict(row: DeviceRow) -> dict[str, Any]:
    return {
        "Id": row.id, "Uuid": row.uuid, "Udid": row.udid or "", "EnrollmentStatus": row.enrollment_status,
        "Ownership": devices.effective_ownership(row), "IsUserEnrolled": row.is_user_enrolled,
        "LicenseTypeEligibility": devices.effective_license_type(row), "OgId": row.og_id,
        "UserId": row.enrollment_user_id, "Model": devices.model_name(row),
        "OperatingSystem": row.os_version or "", "LastSeen": row.last_seen_at,
        "SupersededByDeviceId": row.superseded_by_device_id,
    }


def _command_dict(row: CommandRow) -> dict[str, Any]:
    return {
        "CommandUuid": row.uuid, "RequestType": row.request_type, "Status": row.status,
        "QueuedAt": row.queued_at, "SentAt": row.sent_at, "CompletedAt": row.completed_at,
        "ErrorChain": row.error_chain, "QueuedBy": row.queued_by,
    }


@app.command("list")
def list_devices(
    user: Annotated[str | None, typer.Option("--user", help="Only this user's devices.")] = None,
    status: Annotated[str | None, typer.Option("--status", help="Enrollment status.")] = None,
    page: Annotated[int, typer.Option("--page", min=0)] = 0,
    as_json: JsonOption = False,
) -> None:
    """Device records, abandoned placeholders included (marked with the record that replaced them)."""

    async def work(db: Db, scope: Scope) -> list[dict[str, Any]]:
        found = await devices.search(db, scope, PageRequest(page, 500), user=user, enrollment_status=status)
        return [_device_dict(r) for r in found.items]

    rows = run(work)
    if as_json:
        print_json(rows)
        return
    table = Table("Id", "Udid", "Status", "Owner", "UE", "Model", "OS", "Replaced by")
    for r in rows:
        table.add_row(str(r["Id"]), plain(r["Udid"] or "-"), plain(r["EnrollmentStatus"]),
                      plain(r["Ownership"]), "yes" if r["IsUserEnrolled"] else "no", plain(r["Model"] or "-"),
                      plain(r["OperatingSystem"] or "-"), str(r["SupersededByDeviceId"] or ""))
    console.print(table)


@app.command("show")
def show(ref: DeviceRef, as_json: JsonOption = False) -> None:
    """One device record with its extended properties and inventory."""

    async def work(db: Db, scope: Scope) -> dict[str, Any]:
        row = await devices.resolve_ref(db, scope, ref)
        return {**_device_dict(row), "ExtendedProperties": dict(devices.extended_properties(row)),
                "Inventory": row.inventory or {}}

    data = run(work)
    if as_json:
        print_json(data)
        return
    for key, value in data.items():
        console.print(f"[bold]{key}[/]: {plain(value)}", highlight=False)


@app.command("command")
def queue_command(
    ref: DeviceRef,
    request_type: Annotated[str, typer.Argument(help="e.g. DeviceInformation, ProfileList, DeviceLock.")],
    keys: Annotated[str | None, typer.Option(
        "--keys", help='The command\'s keys as a JSON object, e.g. \'{"Queries": ["OSVersion"]}\'.'
    )] = None,
    as_json: JsonOption = False,
) -> None:
    """Queue an MDM command (refused before queueing when User Enrollment forbids it)."""
    try:
        parsed = json.loads(keys) if keys else {}
    except json.JSONDecodeError as exc:
        fail(f"--keys is not valid JSON: {exc.msg}.")
    if not isinstance(parsed, dict):
        fail("--keys must be a JSON object.")

    async def work(db: Db, scope: Scope) -> dict[str, Any]:
        row = await devices.resolve_ref(db, scope, ref)
        command = await commands.queue(db, scope, row.id, request_type, parsed, queued_by="local operator")
        return _command_dict(command)

    data = run(work, commit=True)
    emit(data, as_json, f"Queued {plain(data['RequestType'])} as {plain(data['CommandUuid'])}.")


@app.command("commands")
def command_history(ref: DeviceRef, as_json: JsonOption = False) -> None:
    """A device's commands, newest first, with their status."""

    async def work(db: Db, scope: Scope) -> list[dict[str, Any]]:
        row = await devices.resolve_ref(db, scope, ref)
        found = await devices.command_history(db, scope, row.id, PageRequest(0, 500))
        return [_command_dict(c) for c in found.items]

    rows = run(work)
    if as_json:
        print_json(rows)
        return
    table = Table("Queued", "RequestType", "Status", "Command UUID")
    for r in rows:
        table.add_row(plain(str(r["QueuedAt"])[:19]), plain(r["RequestType"]), plain(r["Status"]),
                      plain(r["CommandUuid"]))
    console.print(table)


@app.command("wipe")
def wipe(
    ref: DeviceRef,
    enterprise: Annotated[bool, typer.Option(
        "--enterprise", help="Enterprise Wipe: remove management (the only wipe User Enrollment allows).",
    )] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Enterprise Wipe: the device's enrollment profile is removed at its next connect, and with it
    the managed apps, accounts and data; the person's own data stays. The record shows
    EnterpriseWipePending until the device checks out, then Unenrolled."""
    if not enterprise:
        fail("Give --enterprise: Apple's User Enrollment forbids erasing a device (EraseDevice); "
             "an Enterprise Wipe removes only what Quince manages.")

    async def describe(db: Db, scope: Scope) -> str:
        row = await devices.resolve_ref(db, scope, ref)
        related = await devices.related(db, scope, [row])
        user = related.users.get(row.enrollment_user_id) if row.enrollment_user_id is not None else None
        username = user.username if user else None
        name = devices.friendly_name(row, username)
        return f"device {row.id} ({name}, {row.enrollment_status}) of user {username or '(none)'}"

    if not yes:
        described = run(describe)
        if not typer.confirm(f"Enterprise Wipe {described}? Its managed apps, accounts and data will "
                             "be removed.", default=False):
            fail("Nothing was done.")

    async def work(db: Db, scope: Scope) -> dict[str, Any]:
        row = await devices.resolve_ref(db, scope, ref)
        request = await enterprise_wipe(db, scope, row.id, actor=scope.actor)
        return {"DeviceId": request.device_id, "CommandUuid": request.command_uuid,
                "Status": request.command_status, "RequestedBy": request.requested_by,
                "RequestedAt": request.requested_at}

    data = run(work, commit=True)
    emit(data, as_json, f"Enterprise Wipe queued for device {data['DeviceId']} as "
                        f"{plain(data['CommandUuid'])}; it is EnterpriseWipePending until the device "
                        "checks out.")
