"""What Quince knows about devices, in Workspace ONE's report shapes: a device's security
information (`DeviceSecurityInfo`) and an organization group's device counts (`devicecountinfo`)."""

from __future__ import annotations

from fastapi import APIRouter

from quince.domain.og_settings import Ownership
from quince.services.devices import records as devices
from quince.services.devices import status_counts
from quince.services.devices.security_info import SecurityInfo, security_info, security_info_of
from quince.web.api import errors
from quince.web.api.deps import Caller, IdPath, IdQuery
from quince.web.api.device_schemas import DeviceCountInfo, DeviceSecurityInfo
from quince.web.api.devices import AlternateIdQuery, SearchByQuery
from quince.web.api.schemas import IdValue, wire_time
from quince.web.deps import Db

router = APIRouter(prefix="/API/mdm/devices", tags=["Devices"], responses=errors.RESPONSES)

# Workspace ONE's ownership words in its device counts.
_OWNERSHIP_WORDS = {
    Ownership.CORPORATE_DEDICATED: "CorporateDedicated", Ownership.EMPLOYEE_OWNED: "EmployeeOwned",
    Ownership.CORPORATE_SHARED: "CorporateShared", Ownership.UNDEFINED: "Undefined",
}


def _security(info: SecurityInfo) -> DeviceSecurityInfo:
    device = info.device
    return DeviceSecurityInfo(
        id=IdValue(value=device.id), uuid=device.uuid, udid=device.udid or "",
        is_user_enrolled=device.is_user_enrolled,
        security_info_reported_on=wire_time(info.reported_at) if info.reported_at else None,
        is_compromised=None, hardware_encryption_caps=info.hardware_encryption_caps,
        block_level_encryption=info.block_level_encryption, file_level_encryption=info.file_level_encryption,
        is_passcode_present=info.passcode_present, is_passcode_compliant=info.passcode_compliant,
        is_passcode_compliant_with_profiles=info.passcode_compliant_with_profiles,
    )


@router.get("/{device_id:int}/security", response_model=DeviceSecurityInfo)
async def get_security_info(device_id: IdPath, db: Db, caller: Caller) -> DeviceSecurityInfo:
    """The device's security state from its last SecurityInfo answer (null where it reported
    nothing; a user-enrolled device never reports whether a passcode is set)."""
    return _security(await security_info(db, caller, device_id))


@router.get("/security", response_model=DeviceSecurityInfo)
async def find_security_info(
    db: Db, caller: Caller, searchby: SearchByQuery, id: AlternateIdQuery,
) -> DeviceSecurityInfo:
    """The same, for the device `searchby` and `id` name."""
    device = await devices.find_by(db, caller, searchby, id)
    return _security(await security_info_of(db, device))


@router.get("/devicecountinfo", response_model=DeviceCountInfo)
async def device_count_info(db: Db, caller: Caller, organizationgroupid: IdQuery = None) -> DeviceCountInfo:
    """How many devices the organization group and its children hold (default: all of yours),
    in all and by enrollment status, ownership and platform; placeholders count."""
    counts = await status_counts.count_info(db, caller, organizationgroupid)
    return DeviceCountInfo(
        total_devices=counts.total,
        enrollment_status={status: counts.by_status.get(status, 0)
                           for status in devices.WS1_ENROLLMENT_STATUSES},
        ownership={word: counts.by_ownership.get(letter.value, 0)
                   for letter, word in _OWNERSHIP_WORDS.items()},
        platform=dict(counts.by_platform),
    )
