"""Command results into the device inventory, as JSON, without hardware identifiers for UE."""

from __future__ import annotations

import datetime
import json
from typing import Any

import pytest

from quince.apple.commands.inventory import inventory_update, merge_inventory

DEVICE_INFORMATION_RESPONSE = {
    "UDID": "00008140-001A2B3C4D5E6F70",
    "CommandUUID": "c-1",
    "Status": "Acknowledged",
    "QueryResponses": {
        "OSVersion": "18.2",
        "DeviceName": "Alice's iPhone",
        "BatteryLevel": 0.81,
        "IsSupervised": False,
        "OrganizationInfo": {"OrganizationName": "Example"},
        "DevicePropertiesAttestation": [b"\x30\x01", b"\x30\x02"],
        "UDID": "00008140-001A2B3C4D5E6F70",
        "SerialNumber": "F2LXK0ABCD12",
        "IMEI": "35 123456 789012 3",
        "WiFiMAC": "aa:bb:cc:dd:ee:ff",
        "LastCloudBackupDate": datetime.datetime(2025, 1, 1, 12, 0),
        "PushToken": b"\x01\x02",
    },
}


def test_inventory_update_drops_hardware_identifiers_for_a_user_enrolled_device() -> None:
    update = inventory_update("DeviceInformation", DEVICE_INFORMATION_RESPONSE, user_enrolled=True)
    assert update == {
        "DeviceInformation": {
            "OSVersion": "18.2",
            "DeviceName": "Alice's iPhone",
            "BatteryLevel": 0.81,
            "IsSupervised": False,
            "OrganizationInfo": {"OrganizationName": "Example"},
            "DevicePropertiesAttestation": ["MAE=", "MAI="],
        }
    }


def test_inventory_update_keeps_everything_for_a_device_enrollment_as_json() -> None:
    update = inventory_update("DeviceInformation", DEVICE_INFORMATION_RESPONSE, user_enrolled=False)
    section = update["DeviceInformation"]
    assert isinstance(section, dict)
    assert section["SerialNumber"] == "F2LXK0ABCD12"
    assert section["LastCloudBackupDate"] == "2025-01-01T12:00:00+00:00"
    assert section["PushToken"] == "AQI="
    json.dumps(update, allow_nan=False)


def test_installed_applications_become_a_list_of_json_items() -> None:
    response = {
        "InstalledApplicationList": [
            {
                "Identifier": "com.example.mail",
                "Name": "Mail",
                "Version": "42",
                "ShortVersion": "4.2",
                "BundleSize": 123,
                "IsValidated": True,
                "Blob": b"\x00",
                "Nested": {"a": 1},
            },
            "not an app",
        ]
    }
    update = inventory_update("InstalledApplicationList", response, user_enrolled=True)
    assert update == {
        "InstalledApplicationList": [
            {
                "Identifier": "com.example.mail",
                "Name": "Mail",
                "Version": "42",
                "ShortVersion": "4.2",
                "BundleSize": 123,
                "IsValidated": True,
            }
        ]
    }


def test_managed_applications_become_a_dictionary_by_bundle_id() -> None:
    response = {
        "ManagedApplicationList": {"com.example.mail": {"Status": "Managed", "ManagementFlags": 1}, "x": 3}
    }
    assert inventory_update("ManagedApplicationList", response, user_enrolled=True) == {
        "ManagedApplicationList": {"com.example.mail": {"Status": "Managed", "ManagementFlags": 1}}
    }


def test_profiles_keep_identifiers_and_names_without_signer_certificates() -> None:
    response = {
        "ProfileList": [
            {
                "PayloadIdentifier": "com.example.profile",
                "PayloadUUID": "U-1",
                "PayloadDisplayName": "Work Wi-Fi",
                "PayloadVersion": 1,
                "IsManaged": True,
                "SignerCertificates": [b"\x30\x00"],
                "PayloadContent": [
                    {"PayloadType": "com.apple.wifi.managed", "PayloadIdentifier": "p.0", "Secret": b"x"}
                ],
            }
        ]
    }
    assert inventory_update("ProfileList", response, user_enrolled=True) == {
        "ProfileList": [
            {
                "PayloadIdentifier": "com.example.profile",
                "PayloadUUID": "U-1",
                "PayloadDisplayName": "Work Wi-Fi",
                "PayloadVersion": 1,
                "IsManaged": True,
                "PayloadContent": [{"PayloadType": "com.apple.wifi.managed", "PayloadIdentifier": "p.0"}],
            }
        ]
    }


def test_certificates_keep_name_and_identity_flag_without_the_der() -> None:
    response = {"CertificateList": [{"CommonName": "Quince Device", "IsIdentity": True, "Data": b"\x30\x82"}]}
    assert inventory_update("CertificateList", response, user_enrolled=True) == {
        "CertificateList": [{"CommonName": "Quince Device", "IsIdentity": True}]
    }


def test_security_info_drops_what_user_enrollment_does_not_report() -> None:
    response = {
        "SecurityInfo": {
            "HardwareEncryptionCaps": 3,
            "PasscodeCompliant": True,
            "PasscodePresent": True,
            "PasscodeCompliantWithProfiles": True,
            "ManagementStatus": {"IsUserEnrollment": True},
            "FDE_PersonalRecoveryKeyCMS": b"secret",
        }
    }
    ue_update = inventory_update("SecurityInfo", response, user_enrolled=True)
    assert ue_update == {
        "SecurityInfo": {
            "HardwareEncryptionCaps": 3,
            "PasscodeCompliant": True,
            "ManagementStatus": {"IsUserEnrollment": True},
        }
    }
    device_update = inventory_update("SecurityInfo", response, user_enrolled=False)
    assert device_update == {
        "SecurityInfo": {
            "HardwareEncryptionCaps": 3,
            "PasscodeCompliant": True,
            "PasscodePresent": True,
            "PasscodeCompliantWithProfiles": True,
            "ManagementStatus": {"IsUserEnrollment": True},
        }
    }


@pytest.mark.parametrize(
    ("request_type", "response"),
    [
        ("DeviceInformation", {"QueryResponses": ["OSVersion"]}),
        ("InstalledApplicationList", {"InstalledApplicationList": {}}),
        ("ProfileList", {}),
        ("CertificateList", {"CertificateList": "x"}),
        ("SecurityInfo", {"SecurityInfo": 3}),
        ("InstallProfile", {"Status": "Acknowledged"}),
        ("Frobnicate", {"QueryResponses": {}}),
    ],
)
def test_results_without_inventory_or_malformed_give_no_update(
    request_type: str, response: dict[str, Any]
) -> None:
    assert inventory_update(request_type, response, user_enrolled=True) == {}


def test_merge_inventory_merges_device_information_and_replaces_lists() -> None:
    current = {
        "DeviceInformation": {"OSVersion": "18.1", "DeviceName": "Alice's iPhone"},
        "InstalledApplicationList": [{"Identifier": "old"}],
    }
    update = {
        "DeviceInformation": {"OSVersion": "18.2"},
        "InstalledApplicationList": [{"Identifier": "new"}],
    }
    assert merge_inventory(current, update) == {
        "DeviceInformation": {"OSVersion": "18.2", "DeviceName": "Alice's iPhone"},
        "InstalledApplicationList": [{"Identifier": "new"}],
    }
    assert merge_inventory(None, update) == update
