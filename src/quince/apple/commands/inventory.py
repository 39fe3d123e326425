"""What a command's result adds to the device inventory, as JSON (`inventory_update`, `merge_inventory`)."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping
from typing import Any

from quince.apple import user_enrollment as ue
from quince.apple.plists import json_safe

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
