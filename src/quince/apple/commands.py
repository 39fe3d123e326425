"""The MDM commands an administrator queues (reference §3a, §8).

- `build_command` turns a RequestType and its keys (from the REST API, the CLI or a service) into
  the `Command` dictionary sent to the device, refusing unknown keys and wrong types.
- `check_for_user_enrollment` refuses, before anything is queued, what a user-enrolled device must
  not receive: forbidden request types, forbidden DeviceInformation queries and Settings items,
  taking over user-installed apps, profiles with forbidden payloads.
- `inventory_update` says what a command's result adds to the device inventory, as JSON.
- `command_json` / `command_from_json` carry a Command (which may hold data, e.g. a profile) through
  a JSON column and back.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import re
from collections.abc import Callable, Mapping
from typing import Any

from quince.apple import cms
from quince.apple import user_enrollment as ue
from quince.apple.errors import (
    ForbiddenForUserEnrollment,
    InvalidCommand,
    InvalidServiceURL,
    InvalidSignature,
)
from quince.apple.mdm_messages import MAX_DEPTH, json_safe, load_plist
from quince.apple.urls import check_service_url

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

# VPP assignment (reference §8): the only PurchaseMethod that installs an app under User Enrollment.
VPP_PURCHASE_METHOD = 1

MAX_TEXT_LENGTH = 4096
MAX_IDENTIFIER_LENGTH = 255
MAX_LIST_ITEMS = 1000
MAX_PROFILE_BYTES = 16 * 1024 * 1024
MAX_NONCE_BYTES = 32  # DeviceAttestationNonce: "up to 32 bytes"
MAX_PLIST_VALUES = 10_000  # in an app Configuration

# XML plists cannot carry these (plistlib refuses controls and lone surrogates; parsers refuse the
# two non-characters).
_UNWRITABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_IDENTIFIER = re.compile(rf"[^\s\x00-\x1f\x7f\ud800-\udfff\ufffe\uffff]{{1,{MAX_IDENTIFIER_LENGTH}}}")
_PIN = re.compile(r"[0-9]{6}")
_ASN1_SEQUENCE = 0x30
_DATA_TAG = "$data"
_DATE_TAG = "$date"

_Check = Callable[[str, str, object], Any]


# --- building --------------------------------------------------------------------------------


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
        _check_request_type_for_user_enrollment(request_type)
    spec = _SPECS.get(request_type)
    if spec is None:
        raise InvalidCommand(
            _cut(request_type),
            f"Quince cannot build this request type; it builds {', '.join(sorted(SUPPORTED_REQUEST_TYPES))}",
        )
    given = _given_keys(request_type, keys)
    unknown = sorted(key for key in given if key not in spec)
    if unknown:
        takes = ", ".join(spec) if spec else "no keys"
        raise InvalidCommand(
            request_type,
            f"unknown key{'s' if len(unknown) > 1 else ''} {_names(unknown)} ({request_type} takes {takes})",
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
                raise InvalidCommand(request_type, f"RequestType {_shown(value)} does not match", key)
            continue
        given[key] = value
    return given


# --- key checks ------------------------------------------------------------------------------


def _text(max_length: int = MAX_TEXT_LENGTH) -> _Check:
    def check(request_type: str, key: str, value: object) -> str:
        if not isinstance(value, str):
            raise InvalidCommand(request_type, f"{key} must be a string, not {_type(value)}", key)
        if not value.strip():
            raise InvalidCommand(request_type, f"{key} is empty", key)
        if len(value) > max_length:
            raise InvalidCommand(request_type, f"{key} is longer than {max_length} characters", key)
        if _UNWRITABLE.search(value):
            raise InvalidCommand(request_type, f"{key} contains control characters", key)
        return value

    return check


def _identifier(request_type: str, key: str, value: object) -> str:
    if not isinstance(value, str):
        raise InvalidCommand(request_type, f"{key} must be a string, not {_type(value)}", key)
    if not _IDENTIFIER.fullmatch(value):
        raise InvalidCommand(
            request_type,
            f"{key} must be 1 to {MAX_IDENTIFIER_LENGTH} characters without spaces or control characters",
            key,
        )
    return value


def _identifiers(request_type: str, key: str, value: object) -> list[str]:
    if isinstance(value, str | bytes) or not isinstance(value, list | tuple):
        raise InvalidCommand(request_type, f"{key} must be an array of strings, not {_type(value)}", key)
    if not value:
        raise InvalidCommand(request_type, f"{key} is empty (leave it out instead)", key)
    if len(value) > MAX_LIST_ITEMS:
        raise InvalidCommand(request_type, f"{key} has more than {MAX_LIST_ITEMS} items", key)
    items = [_identifier(request_type, f"{key} item {index}", item) for index, item in enumerate(value)]
    return list(dict.fromkeys(items))  # drop repeats, keep the order


def _boolean(request_type: str, key: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise InvalidCommand(request_type, f"{key} must be a boolean, not {_type(value)}", key)
    return value


def _integer(request_type: str, key: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidCommand(request_type, f"{key} must be an integer, not {_type(value)}", key)
    return value


def _store_id(request_type: str, key: str, value: object) -> int:
    number = _integer(request_type, key, value)
    if not 0 < number < 2**63:
        raise InvalidCommand(request_type, f"{key} must be a positive integer", key)
    return number


def _one_of(*allowed: int | str) -> _Check:
    def check(request_type: str, key: str, value: object) -> int | str:
        if isinstance(value, bool) or value not in allowed or type(value) is not type(allowed[0]):
            shown = ", ".join(str(a) for a in allowed)
            raise InvalidCommand(request_type, f"{key} must be one of {shown}", key)
        assert isinstance(value, int | str)
        return value

    return check


def _data(max_bytes: int) -> _Check:
    def check(request_type: str, key: str, value: object) -> bytes:
        data = _bytes_or_base64(request_type, key, value)
        if not data:
            raise InvalidCommand(request_type, f"{key} is empty", key)
        if len(data) > max_bytes:
            raise InvalidCommand(request_type, f"{key} is longer than {max_bytes} bytes", key)
        return data

    return check


def _bytes_or_base64(request_type: str, key: str, value: object) -> bytes:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    if isinstance(value, str):
        try:
            return base64.b64decode("".join(value.split()), validate=True)
        except (binascii.Error, ValueError):
            raise InvalidCommand(request_type, f"{key} is not base64", key) from None
    raise InvalidCommand(request_type, f"{key} must be data (bytes or base64 text), not {_type(value)}", key)


def _manifest_url(request_type: str, key: str, value: object) -> str:
    if not isinstance(value, str):
        raise InvalidCommand(request_type, f"{key} must be a string, not {_type(value)}", key)
    try:
        return check_service_url(value, key)
    except InvalidServiceURL as exc:
        raise InvalidCommand(request_type, f"{key} is not usable: {exc.rule}", key) from None


def _options(request_type: str, key: str, value: object) -> dict[str, Any]:
    given = _mapping(request_type, key, value)
    unknown = sorted(k for k in given if k != "PurchaseMethod")
    if unknown:
        raise InvalidCommand(
            request_type, f"{key} has unknown keys {_names(unknown)} (it takes PurchaseMethod)", key
        )
    if "PurchaseMethod" in given:
        return {
            "PurchaseMethod": _one_of(0, 1)(request_type, f"{key}.PurchaseMethod", given["PurchaseMethod"])
        }
    return {}


_ATTRIBUTE_CHECKS: dict[str, _Check] = {
    "VPNUUID": _identifier,
    "ContentFilterUUID": _identifier,
    "DNSProxyUUID": _identifier,
    "RelayUUID": _identifier,
    "CellularSliceUUID": _identifier,
    "AssociatedDomains": _identifiers,
    "AssociatedDomainsEnableDirectDownloads": _boolean,
    "Removable": _boolean,
    "Hideable": _boolean,
    "Lockable": _boolean,
}


def _attributes(request_type: str, key: str, value: object) -> dict[str, Any]:
    given = _mapping(request_type, key, value)
    unknown = sorted(k for k in given if k not in _ATTRIBUTE_CHECKS)
    if unknown:
        raise InvalidCommand(
            request_type,
            f"{key} has unknown keys {_names(unknown)} (it takes {', '.join(_ATTRIBUTE_CHECKS)})",
            key,
        )
    return {k: _ATTRIBUTE_CHECKS[k](request_type, f"{key}.{k}", v) for k, v in given.items()}


def _mapping(request_type: str, key: str, value: object) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise InvalidCommand(request_type, f"{key} must be a dictionary, not {_type(value)}", key)
    if not all(isinstance(k, str) for k in value):
        raise InvalidCommand(request_type, f"{key} has keys that are not strings", key)
    return {k: v for k, v in value.items() if v is not None}


def _plist_dictionary(request_type: str, key: str, value: object) -> dict[str, Any]:
    """An app Configuration: any property list values (JSON null is not one)."""
    if not isinstance(value, Mapping):
        raise InvalidCommand(request_type, f"{key} must be a dictionary, not {_type(value)}", key)
    budget = [MAX_PLIST_VALUES]
    result = _plist_value(request_type, key, value, 1, budget)
    assert isinstance(result, dict)
    return result


def _plist_value(request_type: str, path: str, value: object, depth: int, budget: list[int]) -> Any:
    budget[0] -= 1
    if budget[0] < 0:
        raise InvalidCommand(request_type, f"{path.split('.')[0]} holds more than {MAX_PLIST_VALUES} values")
    if depth > MAX_DEPTH:
        raise InvalidCommand(request_type, f"{path} is nested more than {MAX_DEPTH} levels deep")
    if isinstance(value, str):
        if _UNWRITABLE.search(value):
            raise InvalidCommand(request_type, f"{path} contains control characters")
        return value
    if isinstance(value, bool | float | datetime.datetime | bytes):
        return value
    if isinstance(value, int):
        if not -(2**63) <= value < 2**64:
            raise InvalidCommand(request_type, f"{path} is an integer out of the 64-bit range")
        return value
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    if isinstance(value, Mapping):
        result = {}
        for k, v in value.items():
            if not isinstance(k, str) or _UNWRITABLE.search(k):
                raise InvalidCommand(request_type, f"{path} has a key that is not a printable string")
            result[k] = _plist_value(request_type, f"{path}.{k}", v, depth + 1, budget)
        return result
    if isinstance(value, list | tuple):
        return [_plist_value(request_type, f"{path}[{i}]", v, depth + 1, budget) for i, v in enumerate(value)]
    if value is None:
        raise InvalidCommand(request_type, f"{path} is null, which a property list cannot carry")
    raise InvalidCommand(request_type, f"{path} is {_type(value)}, which a property list cannot carry")


def _pin(request_type: str, key: str, value: object) -> str:
    if not isinstance(value, str) or not _PIN.fullmatch(value):
        raise InvalidCommand(request_type, f"{key} must be six digits", key)
    return value


def _profile_payload(request_type: str, key: str, value: object) -> bytes:
    payload = _profile_bytes(request_type, key, value)
    profile_from_payload(payload, request_type)
    return payload


def _profile_bytes(request_type: str, key: str, value: object) -> bytes:
    if isinstance(value, str) and value.lstrip().startswith("<"):
        try:
            payload = value.encode("utf-8")  # the .mobileconfig XML itself
        except UnicodeEncodeError:
            raise InvalidCommand(request_type, f"{key} is text that is not valid Unicode", key) from None
    else:
        payload = _bytes_or_base64(request_type, key, value)
    if len(payload) > MAX_PROFILE_BYTES:
        raise InvalidCommand(request_type, f"{key} is larger than {MAX_PROFILE_BYTES} bytes", key)
    return payload


def profile_from_payload(payload: bytes, request_type: str = "InstallProfile") -> dict[str, Any]:
    """The configuration profile inside an InstallProfile Payload, CMS-signed or not.

    The signature is not verified (the device does that); raise `InvalidCommand` if it is not a profile.
    """
    if not isinstance(payload, bytes | bytearray | memoryview) or not payload:
        raise InvalidCommand(request_type, "Payload is empty or not data", "Payload")
    content = bytes(payload)
    if content[0] == _ASN1_SEQUENCE:
        try:
            content = cms.signed_content(content)
        except InvalidSignature as exc:
            raise InvalidCommand(
                request_type, f"Payload is not a usable CMS SignedData ({exc.reason})", "Payload"
            ) from None
    profile = load_plist(
        content, lambda reason: InvalidCommand(request_type, f"Payload: {reason}", "Payload")
    )
    if not isinstance(profile, dict):
        raise InvalidCommand(request_type, "Payload is not a dictionary property list", "Payload")
    if profile.get("PayloadType") != "Configuration":
        raise InvalidCommand(
            request_type,
            "Payload is not a configuration profile (its PayloadType is not Configuration)",
            "Payload",
        )
    identifier = profile.get("PayloadIdentifier")
    if not isinstance(identifier, str) or not identifier.strip():
        raise InvalidCommand(request_type, "the profile in Payload has no PayloadIdentifier", "Payload")
    return profile


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


_SPECS: dict[str, dict[str, _Check]] = {
    "DeviceInformation": {"Queries": _identifiers, "DeviceAttestationNonce": _data(MAX_NONCE_BYTES)},
    "InstalledApplicationList": {
        "Identifiers": _identifiers,
        "ManagedAppsOnly": _boolean,
        "Items": _identifiers,
    },
    "ManagedApplicationList": {"Identifiers": _identifiers},
    "ProfileList": {"ManagedOnly": _boolean},
    "CertificateList": {"ManagedOnly": _boolean},
    "SecurityInfo": {},
    "InstallProfile": {"Payload": _profile_payload},
    "RemoveProfile": {"Identifier": _identifier},
    "InstallApplication": {
        "iTunesStoreID": _store_id,
        "Identifier": _identifier,
        "ManifestURL": _manifest_url,
        "Options": _options,
        "ManagementFlags": _one_of(0, 1, 4, 5),
        "Configuration": _plist_dictionary,
        "Attributes": _attributes,
        "ChangeManagementState": _one_of("Managed"),
    },
    "RemoveApplication": {"Identifier": _identifier},
    "DeviceLock": {"Message": _text(), "PhoneNumber": _text(64), "PIN": _pin},
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


# --- User Enrollment -------------------------------------------------------------------------


def check_for_user_enrollment(request_type: str, command: Mapping[str, Any]) -> None:
    """Raise `ForbiddenForUserEnrollment` if this command must not go to a user-enrolled device.

    `command` may be the built Command or the keys given to `build_command` (Payload as bytes or
    base64 text); call it before `build_command` to refuse forbidden request types Quince cannot build.
    """
    _check_request_type_for_user_enrollment(request_type)
    if not isinstance(command, Mapping):
        raise InvalidCommand(request_type, "the command keys must be a dictionary")
    check = _UE_CHECKS.get(request_type)
    if check is not None:
        check(command)


def _check_request_type_for_user_enrollment(request_type: str) -> None:
    if ue.is_command_allowed_for_user_enrollment(request_type):
        return
    if request_type in ue.FORBIDDEN_COMMANDS:
        reason = "Apple User Enrollment forbids it"
    elif request_type in ue.NOT_ON_IOS_COMMANDS:
        reason = "it is a macOS command; iPhone and iPad do not have it"
    else:
        reason = "Apple does not list it among the commands User Enrollment allows"
    raise ForbiddenForUserEnrollment(_cut(str(request_type)), reason)


def _ue_device_information(command: Mapping[str, Any]) -> None:
    queries = command.get("Queries")
    if queries is None:
        return  # build_command asks the default queries, all allowed
    names = _identifiers("DeviceInformation", "Queries", queries)
    refused = ue.disallowed_device_information_queries(names)
    if refused:
        raise ForbiddenForUserEnrollment(
            "DeviceInformation",
            f"Apple User Enrollment forbids the quer{'ies' if len(refused) > 1 else 'y'} {_names(refused)}",
        )


def _ue_settings(command: Mapping[str, Any]) -> None:
    settings = command.get("Settings")
    if settings is None:
        return
    if not isinstance(settings, list | tuple):
        raise InvalidCommand("Settings", f"Settings must be an array, not {_type(settings)}", "Settings")
    refused = []
    for index, setting in enumerate(settings):
        item = setting.get("Item") if isinstance(setting, Mapping) else None
        if not isinstance(item, str):
            raise InvalidCommand("Settings", f"Settings item {index} has no Item name", "Settings")
        if not ue.is_settings_item_allowed_for_user_enrollment(item):
            refused.append(item)
    if refused:
        items = "items" if len(refused) > 1 else "item"
        raise ForbiddenForUserEnrollment(
            "Settings", f"Apple User Enrollment forbids the Settings {items} {_names(refused)}"
        )


def _ue_install_application(command: Mapping[str, Any]) -> None:
    for key in sorted(ue.FORBIDDEN_INSTALL_APPLICATION_KEYS):
        if command.get(key) is not None:
            raise ForbiddenForUserEnrollment(
                "InstallApplication",
                f"{key} is forbidden: User Enrollment cannot take over an app the user installed",
            )
    if command.get("ManifestURL") is not None:
        raise ForbiddenForUserEnrollment(
            "InstallApplication", "in-house apps (ManifestURL) are not supported on user-enrolled devices"
        )
    options = command.get("Options")
    method = options.get("PurchaseMethod") if isinstance(options, Mapping) else None
    if method != VPP_PURCHASE_METHOD or isinstance(method, bool):
        raise ForbiddenForUserEnrollment(
            "InstallApplication",
            "only Apps and Books (VPP) apps with user-based licences install under User Enrollment: "
            f"set Options.PurchaseMethod to {VPP_PURCHASE_METHOD}",
        )


def _ue_install_profile(command: Mapping[str, Any]) -> None:
    value = command.get("Payload")
    if value is None:
        raise InvalidCommand("InstallProfile", "Payload is required", "Payload")
    profile = profile_from_payload(_profile_bytes("InstallProfile", "Payload", value))
    if "EncryptedPayloadContent" in profile:
        raise ForbiddenForUserEnrollment(
            "InstallProfile",
            "its payloads are encrypted, so Quince cannot check them against User Enrollment",
        )
    problems = ue.profile_violations_for_user_enrollment(profile)
    if problems:
        raise ForbiddenForUserEnrollment(
            "InstallProfile", "the profile breaks Apple User Enrollment rules: " + "; ".join(problems)
        )


_UE_CHECKS: dict[str, Callable[[Mapping[str, Any]], None]] = {
    "DeviceInformation": _ue_device_information,
    "Settings": _ue_settings,
    "InstallApplication": _ue_install_application,
    "InstallProfile": _ue_install_profile,
}


# --- results into inventory ------------------------------------------------------------------

# SecurityInfo keys a user-enrolled device does not answer (reference §3a) or that identify the
# hardware; dropped if a device sends them anyway.
_UE_FORBIDDEN_SECURITY_INFO = frozenset(
    {
        "PasscodePresent",
        "PasscodeCompliantWithProfiles",
        "PasscodeLockGracePeriod",
        "PasscodeLockGracePeriodEnforced",
        "AutoLockTime",
        "FDE_PersonalRecoveryKeyDeviceKey",  # the serial number (macOS)
    }
)
# Escrowed secrets are not inventory, whoever owns the device.
_SECRET_SECURITY_INFO = frozenset({"FDE_PersonalRecoveryKeyCMS"})
_PROFILE_KEYS = (
    "PayloadIdentifier",
    "PayloadUUID",
    "PayloadDisplayName",
    "PayloadOrganization",
    "PayloadDescription",
    "PayloadVersion",
    "PayloadRemovalDisallowed",
    "HasRemovalPasscode",
    "IsEncrypted",
    "IsManaged",
    "Source",
)
_PROFILE_PAYLOAD_KEYS = (
    "PayloadType",
    "PayloadIdentifier",
    "PayloadUUID",
    "PayloadDisplayName",
    "PayloadOrganization",
    "PayloadDescription",
    "PayloadVersion",
)
_CERTIFICATE_KEYS = ("CommonName", "IsIdentity")
_SCALAR = (str, bool, int, float, datetime.datetime)
# Sections merged key by key (a DeviceInformation answers only the queries asked); others replace.
_MERGED_SECTIONS = frozenset({"DeviceInformation"})


def inventory_update(
    request_type: str, response_fields: Mapping[str, Any], *, user_enrolled: bool
) -> dict[str, object]:
    """What an Acknowledged result adds to the device inventory: `{section: JSON value}`, or {}.

    Sections are named after the request type (DeviceInformation holds the QueryResponses). For a
    user-enrolled device only UE-allowed keys are kept, so hardware identifiers a device might send
    (UDID, SerialNumber, IMEI, ...) never reach the inventory. Data is dropped or base64, dates ISO.
    Never raises for device input: a malformed part is left out. Apply it with `merge_inventory`.
    """
    if not isinstance(response_fields, Mapping):
        return {}
    build = _INVENTORY.get(request_type)
    if build is None:
        return {}
    section = build(response_fields, user_enrolled)
    return {} if section is None else {request_type: section}


def merge_inventory(current: Mapping[str, Any] | None, update: Mapping[str, object]) -> dict[str, object]:
    """`current` with `update` applied: DeviceInformation merged key by key, other sections replaced."""
    merged: dict[str, object] = dict(current or {})
    for section, value in update.items():
        existing = merged.get(section)
        if section in _MERGED_SECTIONS and isinstance(existing, Mapping) and isinstance(value, Mapping):
            merged[section] = {**existing, **value}
        else:
            merged[section] = value
    return merged


def _device_information_section(fields: Mapping[str, Any], user_enrolled: bool) -> dict[str, object] | None:
    answers = fields.get("QueryResponses")
    if not isinstance(answers, Mapping):
        return None
    return {
        key: json_safe(value)
        for key, value in answers.items()
        if isinstance(key, str)
        and (not user_enrolled or ue.is_device_information_query_allowed_for_user_enrollment(key))
    }


def _installed_applications_section(fields: Mapping[str, Any], user_enrolled: bool) -> list[object] | None:
    apps = fields.get("InstalledApplicationList")
    if not isinstance(apps, list):
        return None
    return [
        {
            key: json_safe(value)
            for key, value in app.items()
            if isinstance(key, str) and isinstance(value, _SCALAR)
        }
        for app in apps
        if isinstance(app, Mapping)
    ]


def _managed_applications_section(fields: Mapping[str, Any], user_enrolled: bool) -> dict[str, object] | None:
    apps = fields.get("ManagedApplicationList")
    if not isinstance(apps, Mapping):
        return None
    return {
        bundle_id: json_safe(state)
        for bundle_id, state in apps.items()
        if isinstance(bundle_id, str) and isinstance(state, Mapping)
    }


def _profiles_section(fields: Mapping[str, Any], user_enrolled: bool) -> list[object] | None:
    profiles = fields.get("ProfileList")
    if not isinstance(profiles, list):
        return None
    section: list[object] = []
    for profile in profiles:
        if not isinstance(profile, Mapping):
            continue
        item = _pick(profile, _PROFILE_KEYS)
        payloads = profile.get("PayloadContent")
        if isinstance(payloads, list):
            item["PayloadContent"] = [
                _pick(p, _PROFILE_PAYLOAD_KEYS) for p in payloads if isinstance(p, Mapping)
            ]
        section.append(item)
    return section


def _certificates_section(fields: Mapping[str, Any], user_enrolled: bool) -> list[object] | None:
    certificates = fields.get("CertificateList")
    if not isinstance(certificates, list):
        return None
    return [_pick(c, _CERTIFICATE_KEYS) for c in certificates if isinstance(c, Mapping)]


def _security_section(fields: Mapping[str, Any], user_enrolled: bool) -> dict[str, object] | None:
    info = fields.get("SecurityInfo")
    if not isinstance(info, Mapping):
        return None
    dropped = _SECRET_SECURITY_INFO | (_UE_FORBIDDEN_SECURITY_INFO if user_enrolled else frozenset())
    return {
        key: json_safe(value) for key, value in info.items() if isinstance(key, str) and key not in dropped
    }


def _pick(source: Mapping[str, Any], keys: tuple[str, ...]) -> dict[str, object]:
    return {key: json_safe(source[key]) for key in keys if isinstance(source.get(key), _SCALAR)}


_INVENTORY: dict[str, Callable[[Mapping[str, Any], bool], object | None]] = {
    "DeviceInformation": _device_information_section,
    "InstalledApplicationList": _installed_applications_section,
    "ManagedApplicationList": _managed_applications_section,
    "ProfileList": _profiles_section,
    "CertificateList": _certificates_section,
    "SecurityInfo": _security_section,
}


# --- JSON storage of a Command ---------------------------------------------------------------


def command_json(command: Mapping[str, Any]) -> dict[str, object]:
    """A Command as JSON for storage: data becomes {"$data": base64}, dates {"$date": ISO 8601}."""
    result = _to_json(command)
    assert isinstance(result, dict)
    return result


def command_from_json(stored: Mapping[str, Any]) -> dict[str, Any]:
    """The Command `command_json` stored, with its data and dates back (ready for `command_plist`)."""
    result = _from_json(stored)
    assert isinstance(result, dict)
    return result


def _to_json(value: object) -> object:
    if isinstance(value, bytes | bytearray | memoryview):
        return {_DATA_TAG: base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, datetime.datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=datetime.UTC)
        return {_DATE_TAG: aware.isoformat()}
    if isinstance(value, Mapping):
        return {str(k): _to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_to_json(v) for v in value]
    return value


def _from_json(value: object) -> object:
    if isinstance(value, Mapping):
        if len(value) == 1 and isinstance(tagged := value.get(_DATA_TAG), str):
            return base64.b64decode(tagged)
        if len(value) == 1 and isinstance(tagged := value.get(_DATE_TAG), str):
            # Back to the naive UTC datetime plistlib writes.
            return datetime.datetime.fromisoformat(tagged).astimezone(datetime.UTC).replace(tzinfo=None)
        return {k: _from_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_json(v) for v in value]
    return value


# --- messages --------------------------------------------------------------------------------


def _type(value: object) -> str:
    names = {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "an array",
        tuple: "an array",
        dict: "a dictionary",
        bytes: "data",
        type(None): "null",
    }
    for kind, name in names.items():
        if type(value) is kind:
            return name
    return f"a {type(value).__name__}"


def _cut(text: str, limit: int = 64) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def _shown(value: object) -> str:
    return repr(_cut(value, 40)) if isinstance(value, str) else _type(value)


def _names(names: list[str] | tuple[str, ...], limit: int = 8) -> str:
    shown = [_cut(name, 40) for name in names[:limit]]
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(shown) + more
