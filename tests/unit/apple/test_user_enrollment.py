"""What iOS User Enrollment allows, transcribed from the reference (§3a, §3b)."""

from __future__ import annotations

import pytest

from quince.apple import user_enrollment as ue


def test_the_lists_have_the_sizes_of_the_reference() -> None:
    assert len(ue.ALLOWED_COMMANDS) == 24
    assert len(ue.FORBIDDEN_COMMANDS) == 25
    assert len(ue.NOT_ON_IOS_COMMANDS) == 17
    assert len(ue.FORBIDDEN_PAYLOAD_TYPES) == 16


def test_allowed_and_forbidden_lists_do_not_overlap() -> None:
    assert not ue.ALLOWED_COMMANDS & ue.FORBIDDEN_COMMANDS
    assert not ue.ALLOWED_COMMANDS & ue.NOT_ON_IOS_COMMANDS
    assert not ue.ALLOWED_PAYLOAD_TYPES & ue.FORBIDDEN_PAYLOAD_TYPES
    assert not ue.ALLOWED_DEVICE_INFORMATION_QUERIES & ue.FORBIDDEN_DEVICE_INFORMATION_QUERIES


@pytest.mark.parametrize(
    "request_type",
    [
        "InstallApplication",
        "RemoveApplication",
        "InstalledApplicationList",
        "ManagedApplicationList",
        "InstallProfile",
        "RemoveProfile",
        "DeviceInformation",
        "SecurityInfo",
        "Settings",
        "DeviceLock",
        "DeclarativeManagement",
    ],
)
def test_app_profile_and_inventory_commands_are_allowed(request_type: str) -> None:
    assert ue.is_command_allowed_for_user_enrollment(request_type)


@pytest.mark.parametrize(
    "request_type",
    [
        "EraseDevice",
        "ClearPasscode",
        "Restrictions",
        "DeviceLocation",
        "EnableLostMode",
        "RestartDevice",
        "ScheduleOSUpdate",
        "RequestUnlockToken",
        "UserList",
        "RotateFileVaultKey",
    ],
)
def test_device_wide_commands_are_refused(request_type: str) -> None:
    assert not ue.is_command_allowed_for_user_enrollment(request_type)


@pytest.mark.parametrize("request_type", ["", "installapplication", "MadeUpCommand"])
def test_unknown_commands_are_refused(request_type: str) -> None:
    assert not ue.is_command_allowed_for_user_enrollment(request_type)


@pytest.mark.parametrize(
    "payload_type",
    [
        "com.apple.mdm",
        "com.apple.security.scep",
        "com.apple.wifi.managed",
        "com.apple.vpn.managed.applayer",
        "com.apple.eas.account",
        "com.apple.extensiblesso",
        "com.apple.applicationaccess",
    ],
)
def test_work_data_payloads_are_allowed(payload_type: str) -> None:
    assert ue.is_payload_allowed_for_user_enrollment(payload_type)


@pytest.mark.parametrize(
    "payload_type",
    [
        "com.apple.vpn.managed",
        "com.apple.proxy.http.global",
        "com.apple.cellular",
        "com.apple.app.lock",
        "com.apple.profileRemovalPassword",
        "com.apple.declarations",
        "com.example.unknown",
    ],
)
def test_device_wide_and_unknown_payloads_are_refused(payload_type: str) -> None:
    assert not ue.is_payload_allowed_for_user_enrollment(payload_type)


@pytest.mark.parametrize(
    "query",
    [
        "UDID",
        "SerialNumber",
        "IMEI",
        "MEID",
        "ICCID",
        "PhoneNumber",
        "WiFiMAC",
        "BluetoothMAC",
        "IsActivationLockEnabled",
        "IsMDMLostModeEnabled",
        "PushToken",
        "QuotaSize",
    ],
)
def test_hardware_identity_and_device_wide_queries_are_forbidden(query: str) -> None:
    assert query in ue.FORBIDDEN_DEVICE_INFORMATION_QUERIES
    assert not ue.is_device_information_query_allowed_for_user_enrollment(query)


def test_disallowed_queries_are_picked_out_of_a_device_information_command() -> None:
    queries = ["DeviceName", "OSVersion", "UDID", "ProductName", "SerialNumber", "Unheard"]
    assert ue.disallowed_device_information_queries(queries) == ("UDID", "SerialNumber", "Unheard")


def test_only_app_and_organization_settings_are_usable() -> None:
    assert ue.is_settings_item_allowed_for_user_enrollment("ApplicationConfiguration")
    assert not ue.is_settings_item_allowed_for_user_enrollment("Wallpaper")
    assert not ue.is_settings_item_allowed_for_user_enrollment("DeviceName")


def test_profile_violations_name_each_problem() -> None:
    profile = {
        "PayloadType": "Configuration",
        "PayloadRemovalDisallowed": True,
        "PayloadContent": [
            {"PayloadType": "com.apple.wifi.managed"},
            {"PayloadType": "com.apple.vpn.managed"},
            {"PayloadType": "com.apple.mdm", "AccessRights": 8191},
            "not a payload",
        ],
    }
    assert ue.profile_violations_for_user_enrollment(profile) == (
        "top-level key PayloadRemovalDisallowed is forbidden",
        "payload 1 of type 'com.apple.vpn.managed' is not allowed",
        "com.apple.mdm carries AccessRights, which User Enrollment ignores",
        "payload 3 is not a dictionary",
    )


def test_profile_with_only_allowed_payloads_has_no_violations() -> None:
    profile = {
        "PayloadType": "Configuration",
        "PayloadContent": [{"PayloadType": "com.apple.webClip.managed"}],
    }
    assert ue.profile_violations_for_user_enrollment(profile) == ()
