"""What a user-enrolled device must not receive, refused before anything is queued (reference §3a, §8).

`check_for_user_enrollment` refuses forbidden request types, forbidden DeviceInformation queries and
Settings items, taking over user-installed apps, apps other than user-licensed VPP apps, and profiles
with forbidden payloads; `quince.apple.user_enrollment` holds Apple's lists.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from quince.apple import user_enrollment as ue
from quince.apple.commands.key_checks import identifiers
from quince.apple.commands.profile_payload import payload_bytes, profile_from_payload
from quince.apple.commands.wording import cut, listed, type_name
from quince.apple.errors import ForbiddenForUserEnrollment, InvalidCommand

# VPP assignment (reference §8): the only PurchaseMethod that installs an app under User Enrollment.
VPP_PURCHASE_METHOD = 1


def check_for_user_enrollment(request_type: str, command: Mapping[str, Any]) -> None:
    """Raise `ForbiddenForUserEnrollment` if this command must not go to a user-enrolled device.

    `command` may be the built Command or the keys given to `build_command` (Payload as bytes or
    base64 text); call it before `build_command` to refuse forbidden request types Quince cannot build.
    """
    check_request_type_for_user_enrollment(request_type)
    if not isinstance(command, Mapping):
        raise InvalidCommand(request_type, "the command keys must be a dictionary")
    check = _UE_CHECKS.get(request_type)
    if check is not None:
        check(command)


def check_request_type_for_user_enrollment(request_type: str) -> None:
    """Raise `ForbiddenForUserEnrollment` if User Enrollment does not allow this request type."""
    if ue.is_command_allowed_for_user_enrollment(request_type):
        return
    if request_type in ue.FORBIDDEN_COMMANDS:
        reason = "Apple User Enrollment forbids it"
    elif request_type in ue.NOT_ON_IOS_COMMANDS:
        reason = "it is a macOS command; iPhone and iPad do not have it"
    else:
        reason = "Apple does not list it among the commands User Enrollment allows"
    raise ForbiddenForUserEnrollment(cut(str(request_type)), reason)


def _ue_device_information(command: Mapping[str, Any]) -> None:
    queries = command.get("Queries")
    if queries is None:
        return  # build_command asks the default queries, all allowed
    names = identifiers("DeviceInformation", "Queries", queries)
    refused = ue.disallowed_device_information_queries(names)
    if refused:
        raise ForbiddenForUserEnrollment(
            "DeviceInformation",
            f"Apple User Enrollment forbids the quer{'ies' if len(refused) > 1 else 'y'} {listed(refused)}",
        )


def _ue_settings(command: Mapping[str, Any]) -> None:
    settings = command.get("Settings")
    if settings is None:
        return
    if not isinstance(settings, list | tuple):
        raise InvalidCommand("Settings", f"Settings must be an array, not {type_name(settings)}", "Settings")
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
            "Settings", f"Apple User Enrollment forbids the Settings {items} {listed(refused)}"
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
    profile = profile_from_payload(payload_bytes("InstallProfile", "Payload", value))
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
