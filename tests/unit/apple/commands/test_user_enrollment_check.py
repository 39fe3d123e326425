"""The User Enrollment check before queueing: what a user-enrolled device must not receive."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from quince.apple import user_enrollment as ue
from quince.apple.commands.building import SUPPORTED_REQUEST_TYPES, build_command
from quince.apple.commands.user_enrollment_check import check_for_user_enrollment
from quince.apple.errors import ForbiddenForUserEnrollment, InvalidCommand

from .profiles import VPN_PROFILE, WIFI_PROFILE, mobileconfig, signed


@pytest.mark.parametrize("request_type", sorted(ue.FORBIDDEN_COMMANDS))
def test_each_command_user_enrollment_forbids_is_refused_by_name(request_type: str) -> None:
    with pytest.raises(ForbiddenForUserEnrollment) as caught:
        check_for_user_enrollment(request_type, {"RequestType": request_type})
    assert caught.value.message == (
        f"{request_type} is not allowed on a user-enrolled device (Apple User Enrollment forbids it)."
    )
    assert caught.value.request_type == request_type


@pytest.mark.parametrize("request_type", sorted(ue.FORBIDDEN_COMMANDS))
def test_building_a_forbidden_command_for_user_enrollment_is_refused_as_forbidden(request_type: str) -> None:
    with pytest.raises(ForbiddenForUserEnrollment, match=request_type):
        build_command(request_type, {}, for_user_enrollment=True)


@pytest.mark.parametrize("request_type", ["RotateFileVaultKey", "Frobnicate"])
def test_macos_only_and_unknown_commands_are_refused_for_user_enrollment(request_type: str) -> None:
    with pytest.raises(ForbiddenForUserEnrollment, match=f"^{request_type} is not allowed"):
        check_for_user_enrollment(request_type, {})


ALLOWED_SAMPLES: dict[str, dict[str, Any]] = {
    "InstallApplication": {"iTunesStoreID": 361309726, "Options": {"PurchaseMethod": 1}},
    "InstallProfile": {"Payload": WIFI_PROFILE},
    "DeviceInformation": {"Queries": ["OSVersion", "DeviceName"]},
    "Settings": {"Settings": [{"Item": "ApplicationConfiguration", "Identifier": "com.example.mail"}]},
}


@pytest.mark.parametrize("request_type", sorted(ue.ALLOWED_COMMANDS))
def test_each_command_user_enrollment_allows_passes(request_type: str) -> None:
    check_for_user_enrollment(
        request_type, {"RequestType": request_type, **ALLOWED_SAMPLES.get(request_type, {})}
    )


@pytest.mark.parametrize("request_type", sorted(SUPPORTED_REQUEST_TYPES))
def test_every_buildable_command_with_allowed_content_builds_for_user_enrollment(request_type: str) -> None:
    keys = {**ALLOWED_SAMPLES.get(request_type, {})}
    if request_type in ("RemoveProfile", "RemoveApplication"):
        keys["Identifier"] = "com.example.thing"
    assert build_command(request_type, keys, for_user_enrollment=True)["RequestType"] == request_type


def test_forbidden_device_information_queries_are_named() -> None:
    with pytest.raises(ForbiddenForUserEnrollment) as caught:
        build_command(
            "DeviceInformation",
            {"Queries": ["OSVersion", "SerialNumber", "UDID", "IMEI"]},
            for_user_enrollment=True,
        )
    assert caught.value.message == (
        "DeviceInformation is not allowed on a user-enrolled device "
        "(Apple User Enrollment forbids the queries SerialNumber, UDID, IMEI)."
    )


def test_a_single_forbidden_query_is_named_in_the_singular() -> None:
    with pytest.raises(ForbiddenForUserEnrollment, match=r"forbids the query WiFiMAC\)"):
        check_for_user_enrollment("DeviceInformation", {"Queries": ["WiFiMAC"]})


def test_forbidden_settings_items_are_named() -> None:
    command = {"Settings": [{"Item": "Wallpaper"}, {"Item": "ApplicationAttributes"}, {"Item": "DeviceName"}]}
    with pytest.raises(ForbiddenForUserEnrollment, match="forbids the Settings items Wallpaper, DeviceName"):
        check_for_user_enrollment("Settings", command)


def test_settings_items_without_a_name_are_invalid() -> None:
    with pytest.raises(InvalidCommand, match="item 0 has no Item"):
        check_for_user_enrollment("Settings", {"Settings": [{"Value": 1}]})


def test_taking_over_a_user_installed_app_is_refused() -> None:
    keys = {
        "Identifier": "com.example.mail",
        "Options": {"PurchaseMethod": 1},
        "ChangeManagementState": "Managed",
    }
    with pytest.raises(ForbiddenForUserEnrollment, match="ChangeManagementState is forbidden"):
        build_command("InstallApplication", keys, for_user_enrollment=True)
    keys.pop("ChangeManagementState")
    build_command("InstallApplication", keys, for_user_enrollment=True)


@pytest.mark.parametrize(
    ("keys", "reason"),
    [
        ({"iTunesStoreID": 1}, "set Options.PurchaseMethod to 1"),
        ({"iTunesStoreID": 1, "Options": {"PurchaseMethod": 0}}, "Apps and Books (VPP)"),
        (
            {"ManifestURL": "https://apps.example.com/m.plist", "Options": {"PurchaseMethod": 1}},
            "in-house apps",
        ),
    ],
)
def test_only_user_licensed_vpp_apps_install_under_user_enrollment(keys: dict[str, Any], reason: str) -> None:
    with pytest.raises(ForbiddenForUserEnrollment, match=reason.replace("(", r"\(").replace(")", r"\)")):
        build_command("InstallApplication", keys, for_user_enrollment=True)


@pytest.mark.parametrize("sign", [False, True], ids=["unsigned", "signed"])
def test_a_profile_with_a_forbidden_payload_type_is_refused(sign: bool) -> None:
    payload = signed(VPN_PROFILE) if sign else VPN_PROFILE
    with pytest.raises(ForbiddenForUserEnrollment) as caught:
        build_command("InstallProfile", {"Payload": payload}, for_user_enrollment=True)
    assert caught.value.message.startswith("InstallProfile is not allowed on a user-enrolled device")
    assert "com.apple.vpn.managed" in caught.value.message


@pytest.mark.parametrize("sign", [False, True], ids=["unsigned", "signed"])
def test_a_profile_with_allowed_payloads_is_accepted(sign: bool) -> None:
    payload = signed(WIFI_PROFILE) if sign else WIFI_PROFILE
    command = build_command("InstallProfile", {"Payload": payload}, for_user_enrollment=True)
    assert command["Payload"] == payload
    check_for_user_enrollment("InstallProfile", {"Payload": base64.b64encode(payload).decode()})


def test_a_profile_the_user_may_not_remove_is_refused() -> None:
    payload = mobileconfig("com.apple.wifi.managed", PayloadRemovalDisallowed=True)
    with pytest.raises(ForbiddenForUserEnrollment, match="PayloadRemovalDisallowed"):
        check_for_user_enrollment("InstallProfile", {"Payload": payload})


def test_an_encrypted_profile_is_refused_because_it_cannot_be_checked() -> None:
    payload = mobileconfig(EncryptedPayloadContent=b"\x30\x00")
    with pytest.raises(ForbiddenForUserEnrollment, match="encrypted"):
        check_for_user_enrollment("InstallProfile", {"Payload": payload})


def test_an_install_profile_without_payload_is_invalid_not_forbidden() -> None:
    with pytest.raises(InvalidCommand, match="Payload is required"):
        check_for_user_enrollment("InstallProfile", {})
