"""Command builders, the User Enrollment check before queueing, and results into inventory."""

from __future__ import annotations

import base64
import contextlib
import datetime
import json
import plistlib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quince.apple import cms
from quince.apple import user_enrollment as ue
from quince.apple.commands import (
    DEFAULT_DEVICE_INFORMATION_QUERIES,
    SUPPORTED_REQUEST_TYPES,
    build_command,
    check_for_user_enrollment,
    command_from_json,
    command_json,
    inventory_update,
    merge_inventory,
    profile_from_payload,
)
from quince.apple.errors import ForbiddenForUserEnrollment, InvalidCommand
from quince.apple.mdm_messages.replies import command_plist, parse_command_plist
from quince.domain.errors import InvalidInput

from .pki import device_identity


def mobileconfig(*payload_types: str, **top_level: Any) -> bytes:
    """A .mobileconfig with one payload of each type."""
    payloads = [
        {
            "PayloadType": payload_type,
            "PayloadIdentifier": f"com.example.payload.{index}",
            "PayloadUUID": f"00000000-0000-0000-0000-{index:012d}",
            "PayloadVersion": 1,
        }
        for index, payload_type in enumerate(payload_types)
    ]
    profile = {
        "PayloadType": "Configuration",
        "PayloadIdentifier": "com.example.profile",
        "PayloadUUID": "11111111-2222-3333-4444-555555555555",
        "PayloadVersion": 1,
        "PayloadDisplayName": "Work Wi-Fi",
        "PayloadContent": payloads,
        **top_level,
    }
    return plistlib.dumps(profile)


def signed(profile: bytes) -> bytes:
    identity = device_identity("rsa")
    return cms.sign(profile, identity.cert, identity.key)


WIFI_PROFILE = mobileconfig("com.apple.wifi.managed")
VPN_PROFILE = mobileconfig("com.apple.wifi.managed", "com.apple.vpn.managed")


# --- builders: valid keys ----------------------------------------------------------------------


def test_quince_builds_only_commands_user_enrollment_allows() -> None:
    assert len(SUPPORTED_REQUEST_TYPES) == 11
    assert all(ue.is_command_allowed_for_user_enrollment(rt) for rt in SUPPORTED_REQUEST_TYPES)


def test_device_information_defaults_to_the_queries_a_user_enrolled_device_answers() -> None:
    command = build_command("DeviceInformation", {})
    assert command["RequestType"] == "DeviceInformation"
    assert command["Queries"] == list(DEFAULT_DEVICE_INFORMATION_QUERIES)
    assert not ue.disallowed_device_information_queries(command["Queries"])
    assert "DevicePropertiesAttestation" not in command["Queries"]  # asked only on purpose
    assert build_command("DeviceInformation") == command
    assert build_command("DeviceInformation", {"Queries": None}) == command


def test_device_information_keeps_the_queries_asked_without_repeats() -> None:
    command = build_command("DeviceInformation", {"Queries": ["OSVersion", "BatteryLevel", "OSVersion"]})
    assert command == {"RequestType": "DeviceInformation", "Queries": ["OSVersion", "BatteryLevel"]}


def test_device_information_attestation_nonce_accepts_bytes_or_base64() -> None:
    nonce = bytes(range(32))
    for given_nonce in (nonce, base64.b64encode(nonce).decode()):
        command = build_command(
            "DeviceInformation",
            {"Queries": ["DevicePropertiesAttestation"], "DeviceAttestationNonce": given_nonce},
        )
        assert command["DeviceAttestationNonce"] == nonce


@pytest.mark.parametrize(
    ("request_type", "keys", "expected"),
    [
        (
            "InstalledApplicationList",
            {"Identifiers": ["com.example.mail"], "ManagedAppsOnly": True, "Items": ["Name", "Version"]},
            {"Identifiers": ["com.example.mail"], "ManagedAppsOnly": True, "Items": ["Name", "Version"]},
        ),
        ("InstalledApplicationList", {}, {}),
        (
            "ManagedApplicationList",
            {"Identifiers": ["com.example.mail"]},
            {"Identifiers": ["com.example.mail"]},
        ),
        ("ManagedApplicationList", {}, {}),
        ("ProfileList", {"ManagedOnly": True}, {"ManagedOnly": True}),
        ("ProfileList", {}, {}),
        ("CertificateList", {"ManagedOnly": False}, {"ManagedOnly": False}),
        ("SecurityInfo", {}, {}),
        ("RemoveProfile", {"Identifier": "com.example.profile"}, {"Identifier": "com.example.profile"}),
        ("RemoveApplication", {"Identifier": "com.example.mail"}, {"Identifier": "com.example.mail"}),
        ("DeviceLock", {}, {}),
        (
            "DeviceLock",
            {"Message": "Found? Call IT.\nThanks", "PhoneNumber": "+41 44 000 00 00", "PIN": "123456"},
            {"Message": "Found? Call IT.\nThanks", "PhoneNumber": "+41 44 000 00 00", "PIN": "123456"},
        ),
        (
            "InstallApplication",
            {"iTunesStoreID": 361309726, "Options": {"PurchaseMethod": 1}, "ManagementFlags": 1},
            {"iTunesStoreID": 361309726, "Options": {"PurchaseMethod": 1}, "ManagementFlags": 1},
        ),
        ("InstallApplication", {"Identifier": "com.example.mail"}, {"Identifier": "com.example.mail"}),
        (
            "InstallApplication",
            {"ManifestURL": "https://apps.example.com/mail.plist", "ManagementFlags": 5},
            {"ManifestURL": "https://apps.example.com/mail.plist", "ManagementFlags": 5},
        ),
        (
            "InstallApplication",
            {
                "iTunesStoreID": 1,
                "Configuration": {"server": "mail.example.com", "port": 993, "tls": True, "tags": ["a", "b"]},
                "Attributes": {"VPNUUID": "A-1", "AssociatedDomains": ["example.com"], "Removable": False},
                "ChangeManagementState": "Managed",
            },
            {
                "iTunesStoreID": 1,
                "Configuration": {"server": "mail.example.com", "port": 993, "tls": True, "tags": ["a", "b"]},
                "Attributes": {"VPNUUID": "A-1", "AssociatedDomains": ["example.com"], "Removable": False},
                "ChangeManagementState": "Managed",
            },
        ),
    ],
)
def test_builders_accept_valid_keys(
    request_type: str, keys: dict[str, Any], expected: dict[str, Any]
) -> None:
    assert build_command(request_type, keys) == {"RequestType": request_type, **expected}


def test_a_matching_request_type_among_the_keys_is_accepted() -> None:
    assert build_command("ProfileList", {"RequestType": "ProfileList"}) == {"RequestType": "ProfileList"}


@pytest.mark.parametrize(
    ("form", "sign"),
    [("bytes", False), ("bytes", True), ("base64", False), ("base64", True), ("xml text", False)],
)
def test_install_profile_accepts_a_profile_as_bytes_base64_or_xml_signed_or_not(
    form: str, sign: bool
) -> None:
    payload = signed(WIFI_PROFILE) if sign else WIFI_PROFILE
    given_payload: object = payload
    if form == "base64":
        given_payload = base64.b64encode(payload).decode()
    elif form == "xml text":
        given_payload = payload.decode()
    command = build_command("InstallProfile", {"Payload": given_payload})
    assert command == {"RequestType": "InstallProfile", "Payload": payload}
    assert profile_from_payload(command["Payload"])["PayloadIdentifier"] == "com.example.profile"


# --- builders: invalid keys --------------------------------------------------------------------

INVALID: list[tuple[str, dict[str, Any], str]] = [
    ("DeviceInformation", {"Query": ["OSVersion"]}, "unknown key Query"),
    ("DeviceInformation", {"Queries": "OSVersion"}, "Queries must be an array"),
    ("DeviceInformation", {"Queries": []}, "Queries is empty"),
    ("DeviceInformation", {"Queries": [1]}, "Queries item 0 must be a string"),
    ("DeviceInformation", {"Queries": ["OS Version"]}, "without spaces"),
    (
        "DeviceInformation",
        {"Queries": ["OSVersion"], "DeviceAttestationNonce": b"n"},
        "needs DevicePropertiesAttestation",
    ),
    (
        "DeviceInformation",
        {"Queries": ["DevicePropertiesAttestation"], "DeviceAttestationNonce": b"n" * 33},
        "longer than 32 bytes",
    ),
    (
        "DeviceInformation",
        {"Queries": ["DevicePropertiesAttestation"], "DeviceAttestationNonce": "%%"},
        "not base64",
    ),
    ("InstalledApplicationList", {"ManagedAppsOnly": "yes"}, "ManagedAppsOnly must be a boolean"),
    ("InstalledApplicationList", {"ManagedAppsOnly": 1}, "ManagedAppsOnly must be a boolean"),
    ("InstalledApplicationList", {"Identifiers": "com.example.mail"}, "Identifiers must be an array"),
    ("ManagedApplicationList", {"ManagedAppsOnly": True}, "unknown key ManagedAppsOnly"),
    ("ProfileList", {"ManagedOnly": "true"}, "ManagedOnly must be a boolean"),
    ("CertificateList", {"Foo": 1, "Bar": 2}, "unknown keys Bar, Foo"),
    ("SecurityInfo", {"Queries": ["x"]}, "SecurityInfo takes no keys"),
    ("InstallProfile", {}, "Payload is required"),
    ("InstallProfile", {"Payload": 5}, "Payload must be data"),
    ("InstallProfile", {"Payload": "not base64!"}, "Payload is not base64"),
    ("InstallProfile", {"Payload": b"hello"}, "not a property list"),
    ("InstallProfile", {"Payload": plistlib.dumps(["x"])}, "not a dictionary"),
    (
        "InstallProfile",
        {"Payload": plistlib.dumps({"PayloadType": "com.apple.wifi.managed"})},
        "not a configuration",
    ),
    ("InstallProfile", {"Payload": plistlib.dumps({"PayloadType": "Configuration"})}, "no PayloadIdentifier"),
    ("InstallProfile", {"Payload": b"\x30\x03\x02\x01\x01"}, "CMS SignedData"),
    ("RemoveProfile", {}, "Identifier is required"),
    ("RemoveProfile", {"Identifier": ""}, "Identifier must be 1 to 255"),
    ("RemoveProfile", {"Identifier": 3}, "Identifier must be a string"),
    ("RemoveApplication", {"Identifier": "a" * 256}, "Identifier must be 1 to 255"),
    ("InstallApplication", {}, "exactly one of iTunesStoreID, Identifier or ManifestURL"),
    ("InstallApplication", {"iTunesStoreID": 1, "Identifier": "x"}, "(it has iTunesStoreID, Identifier)"),
    ("InstallApplication", {"iTunesStoreID": "361309726"}, "iTunesStoreID must be an integer"),
    ("InstallApplication", {"iTunesStoreID": True}, "iTunesStoreID must be an integer"),
    ("InstallApplication", {"iTunesStoreID": 0}, "positive"),
    ("InstallApplication", {"ManifestURL": "http://apps.example.com/m.plist"}, "must use https"),
    ("InstallApplication", {"ManifestURL": 3}, "ManifestURL must be a string"),
    (
        "InstallApplication",
        {"iTunesStoreID": 1, "Options": {"PurchaseMethod": 2}},
        "PurchaseMethod must be one of 0, 1",
    ),
    (
        "InstallApplication",
        {"iTunesStoreID": 1, "Options": {"PurchaseMethod": True}},
        "PurchaseMethod must be one of",
    ),
    ("InstallApplication", {"iTunesStoreID": 1, "Options": {"NotManaged": True}}, "Options has unknown keys"),
    ("InstallApplication", {"iTunesStoreID": 1, "Options": 1}, "Options must be a dictionary"),
    ("InstallApplication", {"iTunesStoreID": 1, "ManagementFlags": 2}, "ManagementFlags must be one of"),
    (
        "InstallApplication",
        {"iTunesStoreID": 1, "ChangeManagementState": "Unmanaged"},
        "must be one of Managed",
    ),
    (
        "InstallApplication",
        {"iTunesStoreID": 1, "Attributes": {"Colour": "red"}},
        "Attributes has unknown keys",
    ),
    (
        "InstallApplication",
        {"iTunesStoreID": 1, "Attributes": {"Removable": "no"}},
        "Removable must be a boolean",
    ),
    ("InstallApplication", {"iTunesStoreID": 1, "Configuration": []}, "Configuration must be a dictionary"),
    ("InstallApplication", {"iTunesStoreID": 1, "Configuration": {"a": None}}, "Configuration.a is null"),
    ("InstallApplication", {"iTunesStoreID": 1, "Configuration": {"a": [{"b": {1, 2}}]}}, "a set"),
    ("InstallApplication", {"iTunesStoreID": 1, "Configuration": {"a": 2**70}}, "64-bit range"),
    ("InstallApplication", {"iTunesStoreID": 1, "Configuration": {"a": "\x00"}}, "control characters"),
    ("InstallApplication", {"iTunesStoreID": 1, "InstallAsManaged": True}, "unknown key InstallAsManaged"),
    ("DeviceLock", {"Message": 42}, "Message must be a string"),
    ("DeviceLock", {"Message": "   "}, "Message is empty"),
    ("DeviceLock", {"Message": "x" * 4097}, "longer than 4096"),
    ("DeviceLock", {"Message": "bell\x07"}, "control characters"),
    ("DeviceLock", {"PhoneNumber": "1" * 65}, "longer than 64"),
    ("DeviceLock", {"PIN": "12345"}, "PIN must be six digits"),
    ("DeviceLock", {"PIN": 123456}, "PIN must be six digits"),
    ("DeviceLock", {"RequestType": "EraseDevice"}, "RequestType 'EraseDevice' does not match"),
]


@pytest.mark.parametrize(("request_type", "keys", "reason"), INVALID, ids=[f"{c[0]}-{c[2]}" for c in INVALID])
def test_builders_refuse_unknown_keys_and_wrong_types(
    request_type: str, keys: dict[str, Any], reason: str
) -> None:
    with pytest.raises(InvalidCommand) as caught:
        build_command(request_type, keys)
    assert reason in caught.value.message
    assert caught.value.request_type == request_type
    assert isinstance(caught.value, InvalidInput)  # the API answers 400 for it


@pytest.mark.parametrize("request_type", ["EraseDevice", "Frobnicate", "", "InstallMedia"])
def test_request_types_quince_cannot_build_are_refused(request_type: str) -> None:
    with pytest.raises(InvalidCommand):
        build_command(request_type, {})


def test_command_keys_must_be_a_dictionary() -> None:
    with pytest.raises(InvalidCommand, match="must be a dictionary"):
        build_command("ProfileList", ["ManagedOnly"])  # type: ignore[arg-type]


# --- User Enrollment ---------------------------------------------------------------------------


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


# --- results into inventory --------------------------------------------------------------------

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


# --- storage ------------------------------------------------------------------------------------


def test_a_command_with_data_survives_a_json_column_and_becomes_the_same_plist() -> None:
    command = build_command("InstallProfile", {"Payload": signed(WIFI_PROFILE)})
    command["When"] = datetime.datetime(2025, 1, 1, 8, 30)
    stored = json.loads(json.dumps(command_json(command)))
    assert command_from_json(stored) == command
    assert parse_command_plist(command_plist("c-1", command_from_json(stored))) == ("c-1", command)


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(sorted(SUPPORTED_REQUEST_TYPES | {"EraseDevice", "Settings"})),
    st.dictionaries(
        st.sampled_from(
            ["Queries", "Identifier", "Payload", "iTunesStoreID", "Options", "Message", "PIN", "Foo"]
        ),
        st.none()
        | st.booleans()
        | st.integers()
        | st.text(max_size=20)
        | st.binary(max_size=20)
        | st.lists(st.text(max_size=10), max_size=3)
        | st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
        max_size=4,
    ),
    st.booleans(),
)
def test_any_keys_build_or_raise_a_typed_error(request_type: str, keys: dict[str, Any], for_ue: bool) -> None:
    try:
        command = build_command(request_type, keys, for_user_enrollment=for_ue)
    except (InvalidCommand, ForbiddenForUserEnrollment):
        return
    command_plist("c-1", command)  # whatever builds can be sent


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_any_payload_is_a_profile_or_invalid(payload: bytes) -> None:
    with contextlib.suppress(InvalidCommand):
        profile_from_payload(payload)
