"""Command builders: the keys each request type takes, and everything else refused as invalid."""

from __future__ import annotations

import base64
import plistlib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quince.apple import user_enrollment as ue
from quince.apple.commands.building import (
    DEFAULT_DEVICE_INFORMATION_QUERIES,
    SUPPORTED_REQUEST_TYPES,
    build_command,
)
from quince.apple.commands.profile_payload import profile_from_payload
from quince.apple.errors import ForbiddenForUserEnrollment, InvalidCommand
from quince.apple.mdm_messages.replies import command_plist
from quince.domain.errors import InvalidInput

from .profiles import WIFI_PROFILE, signed

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


# --- any keys, generated ------------------------------------------------------------------------


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
