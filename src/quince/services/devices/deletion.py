"""Deleting one device record, as Workspace ONE's "delete device" does, once no device is
managed through it.

A record whose device is still managed (Enrolled, or EnterpriseWipePending) is not deleted: the
caller is told to send the Enterprise Wipe first (services/mdm/enterprise_wipe.py) and to delete
the record once it is Unenrolled. Deleting it earlier would leave a managed device Quince can no
longer reach or unenroll. A placeholder (EnrollmentInProgress, abandoned or not) or an Unenrolled
record goes with what hangs off it, as services/devices/cleanup.py removes abandoned placeholders:
its enrollment sessions and their secrets, the identity certificates issued for them (a device
still holding one is refused at check-in), its commands, raw messages and app statuses. Records it
had superseded point at its own successor instead, so they stay marked as abandoned.
"""

from __future__ import annotations

from quince.domain.devices import EnrollmentStatus, still_managed
from quince.domain.errors import Conflict
from quince.services.devices import records
from quince.services.scope import Scope
from quince.store import device_cleanup as stored
from quince.store.database import Db

_MANAGED = [s.value for s in EnrollmentStatus if still_managed(s)]


class StillManaged(Conflict):
    """The record's device is still managed: an Enterprise Wipe must come first."""

    def __init__(self, device_id: int, status: str) -> None:
        super().__init__(
            f"Device {device_id} is {status}: its device is still managed, so its record cannot be "
            "deleted yet. Send it an Enterprise Wipe (command EnterpriseWipe) and delete the record "
            "once the device has checked out and shows Unenrolled."
        )
        self.device_id = device_id


async def delete_record(db: Db, scope: Scope, device_id: int) -> None:
    """Delete the record and what hangs off it; DeviceNotFound outside the scope, StillManaged
    while its device is managed (also when it completes its enrollment meanwhile: nothing is
    deleted then). Does not commit."""
    scope.require_write()
    device = await records.get(db, scope, device_id)
    if still_managed(device.enrollment_status):
        raise StillManaged(device.id, device.enrollment_status)
    ids = [device.id]
    successor = device.superseded_by_device_id
    session_ids = await stored.session_ids_of(db, ids)
    certificate_ids = await stored.certificate_ids_of(db, session_ids)
    await stored.delete_device_rows(db, ids)
    await stored.delete_certificates(db, certificate_ids)
    await stored.delete_sessions(db, session_ids)
    for predecessor, _ in await stored.superseded_by(db, ids):
        await stored.point_superseded(db, predecessor, successor)
    if not await stored.delete_device_unless(db, device.id, _MANAGED):
        # It completed its enrollment after it was read: the caller rolls back.
        stored.forget_loaded(db)
        raise StillManaged(device.id, EnrollmentStatus.ENROLLED.value)
    stored.forget_loaded(db)
