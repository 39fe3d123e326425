"""A device leaves management: its record becomes Unenrolled, its apps are marked removed and its
user's Apps and Books licences are released when it was their last enrolled device.

Two messages say a device has left: the CheckOut check-in (the enrollment profile carries
CheckOutWhenRemoved), and the Acknowledged answer to a RemoveProfile naming the enrollment profile
(the Enterprise Wipe). Whichever comes first unenrolls it; the other then changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from quince.apple.commands.json_codec import command_from_json
from quince.domain.devices import EnrollmentStatus
from quince.services.apps import delivery as app_delivery
from quince.services.enrollment.profile import MDM_PROFILE_IDENTIFIER
from quince.store.database import Db
from quince.store.models import DeviceRow

REMOVE_PROFILE = "RemoveProfile"


def removes_management(request_type: str, command: Mapping[str, Any]) -> bool:
    """True for the command that removes the enrollment profile (the Enterprise Wipe): a
    RemoveProfile naming the profile's PayloadIdentifier as Quince built it."""
    if request_type != REMOVE_PROFILE:
        return False
    return command_from_json(command).get("Identifier") == MDM_PROFILE_IDENTIFIER


async def unenroll(db: Db, device: DeviceRow, now: datetime | None = None) -> bool:
    """The device has left: Unenrolled, its apps removed, the licences released when it was its
    user's last enrolled device (services/apps/delivery.py: on_unenrolled). False, changing
    nothing, when the record was Unenrolled already."""
    if device.enrollment_status == EnrollmentStatus.UNENROLLED:
        return False
    device.enrollment_status = EnrollmentStatus.UNENROLLED
    device.unenrolled_at = now or datetime.now(UTC)
    await db.flush()
    await app_delivery.on_unenrolled(db, device)
    return True
