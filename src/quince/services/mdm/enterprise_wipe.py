"""Enterprise Wipe: the one wipe User Enrollment allows. It removes management, never the
person's data: Quince queues `RemoveProfile` for the device's enrollment profile (its
PayloadIdentifier as services/enrollment/profile.py built it), and the managed volume goes with
it (managed apps, their data, managed accounts and profiles).

The record is marked EnterpriseWipePending (Workspace ONE's status) until the device reports the
removal (services/mdm/unenrollment.py: the Acknowledged answer or the CheckOut it sends as the
profile goes); then it is Unenrolled and its user's Apps and Books licences are released when it
was their last enrolled device. Who asked and when is the RemoveProfile command's `queued_by` and
`queued_at`, shown by `pending_wipe` (for the console) and in the device's command history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from quince.domain.devices import EnrollmentStatus
from quince.logs import DEVICE_SERVICES, event
from quince.services.devices import records as devices
from quince.services.enrollment.profile import MDM_PROFILE_IDENTIFIER
from quince.services.mdm import commands, push
from quince.services.mdm.unenrollment import REMOVE_PROFILE, removes_management
from quince.services.scope import Scope
from quince.store import commands as stored
from quince.store.database import Db
from quince.store.models import CommandRow


@dataclass(frozen=True)
class WipeRequest:
    """An Enterprise Wipe asked for a device: the command that carries it, who asked, when."""

    device_id: int
    command_uuid: str
    command_status: str
    requested_by: str | None
    requested_at: datetime


def _request(row: CommandRow) -> WipeRequest:
    return WipeRequest(row.device_id, row.uuid, row.status, row.queued_by, row.queued_at)


async def _wipe_command(db: Db, device_id: int) -> CommandRow | None:
    for row in await stored.newest_of_type(db, device_id, REMOVE_PROFILE):
        if removes_management(row.request_type, row.command):
            return row
    return None


async def enterprise_wipe(db: Db, scope: Scope, device_id: int, *, actor: str | None = None) -> WipeRequest:
    """Queue the Enterprise Wipe of an Enrolled device, mark it EnterpriseWipePending and wake it.

    Asking again while one is pending changes nothing but pushes again (the same request comes
    back). A device that is not Enrolled is a Conflict (a placeholder has nothing to wipe; an
    Unenrolled device has left already); a read-only caller is refused. Does not commit."""
    scope.require_write()
    device = await devices.get(db, scope, device_id)
    if device.enrollment_status == EnrollmentStatus.ENTERPRISE_WIPE_PENDING:
        pending = await _wipe_command(db, device.id)
        if pending is not None:
            await push.request_push(db, device.id)
            return _request(pending)
    row = await commands.queue(db, scope, device.id, REMOVE_PROFILE, {"Identifier": MDM_PROFILE_IDENTIFIER},
                               queued_by=actor or scope.actor)
    device.enrollment_status = EnrollmentStatus.ENTERPRISE_WIPE_PENDING
    await db.flush()
    event(DEVICE_SERVICES, "device.enterprise_wipe", "queued", device=device.uuid, command=row.uuid,
          by=row.queued_by)
    return _request(row)


async def pending_wipe(db: Db, scope: Scope, device_id: int) -> WipeRequest | None:
    """The Enterprise Wipe waiting for this device, or None when none is pending."""
    device = await devices.get(db, scope, device_id)
    if device.enrollment_status != EnrollmentStatus.ENTERPRISE_WIPE_PENDING:
        return None
    row = await _wipe_command(db, device.id)
    return _request(row) if row is not None else None
