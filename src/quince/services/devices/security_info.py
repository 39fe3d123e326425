"""A device's security state as Workspace ONE's DeviceSecurityInfo shows it, from what Quince
stores: the last SecurityInfo answer in the device inventory (apple/commands/inventory.py).

User Enrollment never returns PasscodePresent, PasscodeCompliantWithProfiles or the passcode
grace and auto-lock times (reference §3a): for a user-enrolled device they are None, never
guessed. Nothing is known (every value None) until the device has answered a SecurityInfo
(`POST …/commands?command=SecurityInfo`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from quince.services.devices import records
from quince.services.scope import Scope
from quince.store import commands as stored_commands
from quince.store.database import Db
from quince.store.models import DeviceRow

_BLOCK_LEVEL, _FILE_LEVEL = 1, 2  # HardwareEncryptionCaps bits (Apple's SecurityInfo)
_ACKNOWLEDGED = "Acknowledged"


@dataclass(frozen=True)
class SecurityInfo:
    device: DeviceRow
    reported_at: datetime | None
    """When the device answered the SecurityInfo these values come from; None: never."""
    hardware_encryption_caps: int | None
    block_level_encryption: bool | None
    file_level_encryption: bool | None
    passcode_present: bool | None
    """Never reported under User Enrollment."""
    passcode_compliant: bool | None
    passcode_compliant_with_profiles: bool | None
    """Never reported under User Enrollment."""


def _flag(section: Mapping[str, object], key: str) -> bool | None:
    value = section.get(key)
    return value if isinstance(value, bool) else None


async def security_info(db: Db, scope: Scope, device_id: int) -> SecurityInfo:
    """The device's last reported security state; DeviceNotFound outside the scope."""
    device = await records.get(db, scope, device_id)
    return await security_info_of(db, device)


async def security_info_of(db: Db, device: DeviceRow) -> SecurityInfo:
    """The security state of a device already looked up in the caller's scope."""
    inventory = device.inventory or {}
    found = inventory.get("SecurityInfo")
    section: Mapping[str, object] = found if isinstance(found, Mapping) else {}
    caps = section.get("HardwareEncryptionCaps")
    caps = caps if isinstance(caps, int) and not isinstance(caps, bool) else None
    answered = [row for row in await stored_commands.newest_of_type(db, device.id, "SecurityInfo")
                if row.status == _ACKNOWLEDGED]
    return SecurityInfo(
        device=device,
        reported_at=answered[0].completed_at if answered and section else None,
        hardware_encryption_caps=caps,
        block_level_encryption=bool(caps & _BLOCK_LEVEL) if caps is not None else None,
        file_level_encryption=bool(caps & _FILE_LEVEL) if caps is not None else None,
        passcode_present=_flag(section, "PasscodePresent"),
        passcode_compliant=_flag(section, "PasscodeCompliant"),
        passcode_compliant_with_profiles=_flag(section, "PasscodeCompliantWithProfiles"),
    )
