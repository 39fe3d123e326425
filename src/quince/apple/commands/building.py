"""`build_command`: a RequestType and its keys (from the REST API, the CLI or a service) as the Command sent.

Unknown keys and wrong types are refused with `InvalidCommand`; `_SPECS` says which keys each
request type takes and how each is checked (`key_checks`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from quince.apple import user_enrollment as ue
from quince.apple.commands import key_checks as check
from quince.apple.commands.profile_payload import check_payload
from quince.apple.commands.user_enrollment_check import (
    check_for_user_enrollment,
    check_request_type_for_user_enrollment,
)
from quince.apple.commands.wording import cut, listed, shown
from quince.apple.errors import InvalidCommand

SUPPORTED_REQUEST_TYPES: frozenset[str] = frozenset(
    {
        "DeviceInformation",
        "InstalledApplicationList",
        "ManagedApplicationList",
        "ProfileList",
        "CertificateList",
        "SecurityInfo",
        "InstallProfile",
        "RemoveProfile",
        "InstallApplication",
        "RemoveApplication",
        "DeviceLock",
    }
)

# Every RequestType Quince knows by name: the ones it builds, and the others Apple names (refused
# for user-enrolled devices, or not buildable).
KNOWN_REQUEST_TYPES: frozenset[str] = (
    SUPPORTED_REQUEST_TYPES | ue.ALLOWED_COMMANDS | ue.FORBIDDEN_COMMANDS | ue.NOT_ON_IOS_COMMANDS
)

# What DeviceInformation asks when the administrator names no queries: everything a user-enrolled
# device answers, except DevicePropertiesAttestation, which makes the device fetch an attestation
# from Apple (slow, rate-limited) and is worth asking only on purpose.
DEFAULT_DEVICE_INFORMATION_QUERIES: tuple[str, ...] = tuple(
    sorted(ue.ALLOWED_DEVICE_INFORMATION_QUERIES - {"DevicePropertiesAttestation"})
)

MAX_NONCE_BYTES = 32  # DeviceAttestationNonce: "up to 32 bytes"


def build_command(
    request_type: str, keys: Mapping[str, object] | None = None, *, for_user_enrollment: bool = False
) -> dict[str, Any]:
    """The `Command` dict ({RequestType, ...}) for one of `SUPPORTED_REQUEST_TYPES`, or `InvalidCommand`.

    `keys` are the command's keys (a RequestType among them must match; None values count as
    absent). With `for_user_enrollment`, `check_for_user_enrollment` runs first on the request type
    (so a forbidden command is refused as such even if Quince cannot build it) and then on the result.
    """
    if not isinstance(request_type, str) or not request_type:
        raise InvalidCommand("(unnamed)", "RequestType must be a non-empty string", "RequestType")
    if for_user_enrollment:
        check_request_type_for_user_enrollment(request_type)
    spec = _SPECS.get(request_type)
    if spec is None:
        raise InvalidCommand(
            cut(request_type),
            f"Quince cannot build this request type; it builds {', '.join(sorted(SUPPORTED_REQUEST_TYPES))}",
        )
    given = _given_keys(request_type, keys)
    unknown = sorted(key for key in given if key not in spec)
    if unknown:
        takes = ", ".join(spec) if spec else "no keys"
        raise InvalidCommand(
            request_type,
            f"unknown key{'s' if len(unknown) > 1 else ''} {listed(unknown)} ({request_type} takes {takes})",
        )
    for key in _REQUIRED.get(request_type, ()):
        if key not in given:
            raise InvalidCommand(request_type, f"{key} is required", key)
    command: dict[str, Any] = {"RequestType": request_type}
    for key, value in given.items():
        command[key] = spec[key](request_type, key, value)
    finish = _FINISH.get(request_type)
    if finish is not None:
        finish(command)
    if for_user_enrollment:
        check_for_user_enrollment(request_type, command)
    return command


def _given_keys(request_type: str, keys: Mapping[str, object] | None) -> dict[str, object]:
    if keys is None:
        return {}
    if not isinstance(keys, Mapping):
        raise InvalidCommand(request_type, "the command keys must be a dictionary")
    given: dict[str, object] = {}
    for key, value in keys.items():
        if not isinstance(key, str):
            raise InvalidCommand(request_type, "every key must be a string")
        if value is None:
            continue
        if key == "RequestType":
            if value != request_type:
                raise InvalidCommand(request_type, f"RequestType {shown(value)} does not match", key)
            continue
        given[key] = value
    return given


def _finish_device_information(command: dict[str, Any]) -> None:
    command.setdefault("Queries", list(DEFAULT_DEVICE_INFORMATION_QUERIES))
    if "DeviceAttestationNonce" in command and "DevicePropertiesAttestation" not in command["Queries"]:
        raise InvalidCommand(
            "DeviceInformation",
            "DeviceAttestationNonce needs DevicePropertiesAttestation among the Queries",
            "DeviceAttestationNonce",
        )


def _finish_install_application(command: dict[str, Any]) -> None:
    sources = [key for key in ("iTunesStoreID", "Identifier", "ManifestURL") if key in command]
    if len(sources) != 1:
        got = f" (it has {', '.join(sources)})" if sources else ""
        raise InvalidCommand(
            "InstallApplication", f"give exactly one of iTunesStoreID, Identifier or ManifestURL{got}"
        )


_SPECS: dict[str, dict[str, check.Check]] = {
    "DeviceInformation": {
        "Queries": check.identifiers,
        "DeviceAttestationNonce": check.data(MAX_NONCE_BYTES),
    },
    "InstalledApplicationList": {
        "Identifiers": check.identifiers,
        "ManagedAppsOnly": check.boolean,
        "Items": check.identifiers,
    },
    "ManagedApplicationList": {"Identifiers": check.identifiers},
    "ProfileList": {"ManagedOnly": check.boolean},
    "CertificateList": {"ManagedOnly": check.boolean},
    "SecurityInfo": {},
    "InstallProfile": {"Payload": check_payload},
    "RemoveProfile": {"Identifier": check.identifier},
    "InstallApplication": {
        "iTunesStoreID": check.store_id,
        "Identifier": check.identifier,
        "ManifestURL": check.manifest_url,
        "Options": check.options,
        "ManagementFlags": check.one_of(0, 1, 4, 5),
        "Configuration": check.plist_dictionary,
        "Attributes": check.attributes,
        "ChangeManagementState": check.one_of("Managed"),
    },
    "RemoveApplication": {"Identifier": check.identifier},
    "DeviceLock": {"Message": check.text(), "PhoneNumber": check.text(64), "PIN": check.pin},
}
_REQUIRED: dict[str, tuple[str, ...]] = {
    "InstallProfile": ("Payload",),
    "RemoveProfile": ("Identifier",),
    "RemoveApplication": ("Identifier",),
}
_FINISH: dict[str, Callable[[dict[str, Any]], None]] = {
    "DeviceInformation": _finish_device_information,
    "InstallApplication": _finish_install_application,
}
assert set(_SPECS) == SUPPORTED_REQUEST_TYPES
