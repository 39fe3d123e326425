"""Workspace ONE's device command names (`POST /devices/{id}/commands?command=SyncDevice`) and
what each means on an Apple device under User Enrollment.

Each name maps to the Apple commands Quince queues for it, or to the Enterprise Wipe. Names
whose Apple command User Enrollment forbids (DeviceWipe is EraseDevice, ClearPasscode,
RestartDevice, ...) map to that command, so `commands.queue` refuses them exactly as it refuses
the command itself (ForbiddenForUserEnrollment, naming Apple's rule) and nothing is queued.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from quince.domain.errors import InvalidInput, QuinceError
from quince.services.devices import records as devices
from quince.services.mdm import commands, enterprise_wipe
from quince.services.scope import Scope
from quince.store.database import Db

ENTERPRISE_WIPE = "EnterpriseWipe"

# WS1 name -> the Apple commands (RequestType, keys) it queues, in order.
_APPLE_COMMANDS: Mapping[str, tuple[tuple[str, Mapping[str, object]], ...]] = MappingProxyType({
    # DeviceInformation with no Queries asks what a user-enrolled device answers
    # (apple/commands/building.py: DEFAULT_DEVICE_INFORMATION_QUERIES).
    "DeviceQuery": (("DeviceInformation", {}),),
    "DeviceInformation": (("DeviceInformation", {}),),
    # WS1's "sync": the device's details and its apps (a user-enrolled device lists managed apps only).
    "SyncDevice": (("DeviceInformation", {}), ("InstalledApplicationList", {}),
                   ("ManagedApplicationList", {})),
    "SecurityInfo": (("SecurityInfo", {}),),
    "ProfileList": (("ProfileList", {}),),
    "CertificateList": (("CertificateList", {}),),
    # iOS User Enrollment allows DeviceLock (reference §3a); it locks the screen, nothing more.
    "LockDevice": (("DeviceLock", {}),),
    # Refused under User Enrollment: mapped to the Apple command, which commands.queue refuses.
    "DeviceWipe": (("EraseDevice", {}),),
    "ClearPasscode": (("ClearPasscode", {}),),
    "RestartDevice": (("RestartDevice", {}),),
    "SoftReset": (("RestartDevice", {}),),
    "Shutdown": (("ShutDownDevice", {}),),
    "ScheduleOsUpdate": (("ScheduleOSUpdate", {}),),
    "EnableLostMode": (("EnableLostMode", {}),),
    "DisableLostMode": (("DisableLostMode", {}),),
})

COMMAND_NAMES: tuple[str, ...] = (*_APPLE_COMMANDS, ENTERPRISE_WIPE)
"""Every WS1 command name Quince answers (any letter case)."""


def apple_commands_for(name: str) -> tuple[str, ...]:
    """The Apple RequestTypes a WS1 command name queues (RemoveProfile for EnterpriseWipe)."""
    canonical = parse(name)
    if canonical == ENTERPRISE_WIPE:
        return ("RemoveProfile",)
    return tuple(request_type for request_type, _ in _APPLE_COMMANDS[canonical])


def parse(raw: str) -> str:
    """The WS1 command name as Quince spells it, or InvalidInput listing the names it knows."""
    for name in COMMAND_NAMES:
        if raw.strip().casefold() == name.casefold():
            return name
    raise InvalidInput("command", f"command must be one of {', '.join(COMMAND_NAMES)}, not {raw[:64]!r}.")


async def send(db: Db, scope: Scope, device_id: int, name: str, *, actor: str | None = None) -> int:
    """Queue what the WS1 command `name` means for this device; how many Apple commands were
    queued. Refusals raise before anything is queued. Does not commit."""
    scope.require_write()
    canonical = parse(name)
    if canonical == ENTERPRISE_WIPE:
        await enterprise_wipe.enterprise_wipe(db, scope, device_id, actor=actor)
        return 1
    device = await devices.get(db, scope, device_id)
    steps = _APPLE_COMMANDS[canonical]
    for request_type, keys in steps:
        await commands.queue(db, scope, device.id, request_type, keys, queued_by=actor or scope.actor)
    return len(steps)


@dataclass(frozen=True)
class Fault:
    value: str
    error: QuinceError


@dataclass(frozen=True)
class BulkOutcome:
    total: int
    accepted: int
    faults: list[Fault] = field(default_factory=list)


async def send_to_each(
    db: Db, scope: Scope, name: str, searchby: str, values: Sequence[str], *, actor: str | None = None,
) -> BulkOutcome:
    """The WS1 command for each device named by `searchby` and a value: what was accepted, and
    each refusal with its value (a device not found, not enrolled, a forbidden command). A refusal
    queues nothing for that device; the others go ahead. Does not commit."""
    scope.require_write()
    canonical = parse(name)
    faults: list[Fault] = []
    for value in values:
        try:
            device = await devices.find_by(db, scope, searchby, value)
            await send(db, scope, device.id, canonical, actor=actor)
        except QuinceError as refusal:
            faults.append(Fault(value, refusal))
    return BulkOutcome(len(values), len(values) - len(faults), faults)
