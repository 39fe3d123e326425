"""The command queue of each device: queue, deliver FIFO on connect, record what the device said.

Statuses: Queued -> Pending (sent) -> Acknowledged | Error | CommandFormatError. NotNow puts a
command back in the queue; it is not offered again in the same exchange (the device just said it
cannot run it now) but is on the next Idle. A Pending command that was never answered is sent
again on the next Idle. Reports for finished commands are ignored, so duplicates are harmless.
Commands forbidden under User Enrollment are refused before anything is queued.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from enum import StrEnum

from quince.apple.commands.building import build_command
from quince.apple.commands.inventory import inventory_update, merge_inventory
from quince.apple.commands.json_codec import command_json
from quince.apple.mdm_messages.command_report import CommandReport, ReportStatus
from quince.domain.app_statuses import DeviceAppStatus
from quince.domain.devices import EnrollmentStatus
from quince.domain.errors import Conflict, NotFound
from quince.services.apps import catalog as apps
from quince.services.mdm import push, unenrollment
from quince.services.scope import Scope
from quince.store import commands as stored
from quince.store.database import Db
from quince.store.models import CommandRow, DeviceRow, OrgGroupRow


class CommandStatus(StrEnum):
    QUEUED = "Queued"
    PENDING = "Pending"
    ACKNOWLEDGED = "Acknowledged"
    ERROR = "Error"
    COMMAND_FORMAT_ERROR = "CommandFormatError"
    NOT_NOW = "NotNow"


FINISHED = frozenset({
    CommandStatus.ACKNOWLEDGED, CommandStatus.ERROR, CommandStatus.COMMAND_FORMAT_ERROR,
})
_FROM_REPORT = {
    ReportStatus.ACKNOWLEDGED: CommandStatus.ACKNOWLEDGED,
    ReportStatus.ERROR: CommandStatus.ERROR,
    ReportStatus.COMMAND_FORMAT_ERROR: CommandStatus.COMMAND_FORMAT_ERROR,
    ReportStatus.NOT_NOW: CommandStatus.NOT_NOW,
}


def _now() -> datetime:
    return datetime.now(UTC)


async def _device_in_scope(db: Db, scope: Scope, device_id: int) -> DeviceRow:
    device = await db.get(DeviceRow, device_id)
    og = await db.get(OrgGroupRow, device.og_id) if device is not None else None
    if device is None or og is None or not scope.covers(og.path):
        raise NotFound("Device", device_id)
    return device


async def queue(
    db: Db,
    scope: Scope,
    device_id: int,
    request_type: str,
    keys: Mapping[str, object],
    *,
    queued_by: str | None = None,
) -> CommandRow:
    """Queue a command for an enrolled device and ask APNs to wake it.

    Raises InvalidCommand for bad keys, ForbiddenForUserEnrollment for a command a user-enrolled
    device may not receive, Conflict when the device is not enrolled; nothing is queued then.
    """
    scope.require_write()
    device = await _device_in_scope(db, scope, device_id)
    command = build_command(request_type, keys, for_user_enrollment=device.is_user_enrolled)
    if device.enrollment_status != EnrollmentStatus.ENROLLED:
        raise Conflict(
            f"Device {device.id} is {device.enrollment_status}; commands can be queued only for "
            "Enrolled devices."
        )
    row = CommandRow(
        device_id=device.id, request_type=str(command["RequestType"]), command=command_json(command),
        status=CommandStatus.QUEUED, queued_by=(queued_by or "")[:160] or None,
        queued_at=_now(),
    )
    db.add(row)
    await db.flush()
    await push.request_push(db, device.id)
    return row


async def next_for(db: Db, device: DeviceRow, *, after_not_now: bool) -> CommandRow | None:
    """The oldest command to send now; after a NotNow, commands the device deferred wait."""
    statuses = [CommandStatus.QUEUED, CommandStatus.PENDING]
    if not after_not_now:
        statuses.append(CommandStatus.NOT_NOW)
    return await stored.oldest_in(db, device.id, statuses)


async def mark_sent(db: Db, row: CommandRow) -> None:
    row.status = CommandStatus.PENDING
    row.sent_at = _now()
    row.attempts += 1
    await db.flush()


async def record_report(db: Db, device: DeviceRow, report: CommandReport) -> CommandRow | None:
    """Apply a device's result to its command; None for Idle, unknown or already-finished ones."""
    if report.status is ReportStatus.IDLE or not report.command_uuid:
        return None
    row = await stored.by_uuid(db, device.id, report.command_uuid)
    if row is None or row.status in FINISHED:
        return None
    status = _FROM_REPORT[report.status]
    row.status = status
    if status is CommandStatus.NOT_NOW:
        await db.flush()
        return row
    row.completed_at = _now()
    row.result_raw = report.raw
    if status is CommandStatus.ERROR:
        row.error_chain = report.error_chain_json()
    if status is CommandStatus.ACKNOWLEDGED:
        update = inventory_update(row.request_type, report.fields, user_enrolled=device.is_user_enrolled)
        if update:
            device.inventory = merge_inventory(device.inventory or {}, update)
    await _app_result(db, row)
    wiped = unenrollment.removes_management(row.request_type, row.command)
    if status is CommandStatus.ACKNOWLEDGED and wiped:
        await unenrollment.unenroll(db, device)  # the Enterprise Wipe is done
    await db.flush()
    return row


async def _app_result(db: Db, row: CommandRow) -> None:
    """An InstallApplication's answer becomes the app's status on the device."""
    if row.request_type != "InstallApplication":
        return
    app = await apps.device_app_by_command(db, row.uuid)
    if app is None:
        return
    if row.status == CommandStatus.ACKNOWLEDGED:
        app.status, app.reason = DeviceAppStatus.INSTALLED, "The device installed the app as a managed app."
    else:
        chain = row.error_chain or []
        detail = "; ".join(str(e.get("USEnglishDescription") or e.get("LocalizedDescription") or "")
                           for e in chain if isinstance(e, dict)).strip("; ")
        app.status = DeviceAppStatus.FAILED
        app.reason = f"The device could not install the app ({row.status}{': ' + detail if detail else ''})."

