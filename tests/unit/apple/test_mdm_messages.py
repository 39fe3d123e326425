"""Check-in and connect messages: one typed identity, typed messages, hostile input refused as such."""

from __future__ import annotations

import contextlib
import datetime
import json
import plistlib
import struct
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quince.apple.errors import InvalidCommand, MalformedMessage
from quince.apple.mdm_messages.checkin import (
    Authenticate,
    CheckOut,
    DeclarativeManagement,
    GetToken,
    OtherCheckIn,
    TokenUpdate,
    parse_checkin,
)
from quince.apple.mdm_messages.command_report import (
    CommandReport,
    ErrorChainItem,
    ReportStatus,
    parse_report,
)
from quince.apple.mdm_messages.fields import MAX_STRING_BYTES
from quince.apple.mdm_messages.identity import DeviceIdentity, IdentityKind
from quince.apple.mdm_messages.replies import command_plist, parse_command_plist, unrecognized_device_json
from quince.apple.plists import json_safe

TOPIC = "com.apple.mgmt.External.6f1c1d1e-3b9a-5c8e-9f59-0b7c2a4e51d0"
ENROLLMENT_ID = "9B1C4E7A-2D3F-4A5B-8C6D-7E8F9A0B1C2D"
UDID = "00008140-001A2B3C4D5E6F70"
PUSH_MAGIC = "2A3B4C5D-6E7F-4809-9A1B-2C3D4E5F6071"
TOKEN = bytes(range(32))

# What an iOS 18 user-enrolled iPhone sends (reference §9, the Fleet capture).
UE_AUTHENTICATE = {
    "MessageType": "Authenticate",
    "EnrollmentID": ENROLLMENT_ID,
    "Topic": TOPIC,
    "OSVersion": "18.2.1",
    "BuildVersion": "22C161",
    "ProductName": "iPhone17,1",
}
DEVICE_AUTHENTICATE = {
    "MessageType": "Authenticate",
    "UDID": UDID,
    "Topic": TOPIC,
    "OSVersion": "18.2",
    "BuildVersion": "22C152",
    "ProductName": "iPad14,1",
    "SerialNumber": "F2LXK0ABCD12",
    "IMEI": "35 123456 789012 3",
    "MEID": "35123456789012",
    "Model": "MK2K3",
    "ModelName": "iPad",
    "DeviceName": "Front desk iPad",
}
UE_TOKEN_UPDATE = {
    "MessageType": "TokenUpdate",
    "EnrollmentID": ENROLLMENT_ID,
    "Topic": TOPIC,
    "Token": TOKEN,
    "PushMagic": PUSH_MAGIC,
    "AwaitingConfiguration": False,
}


def body(fields: dict[str, Any], fmt: plistlib.PlistFormat = plistlib.FMT_XML) -> bytes:
    return plistlib.dumps(fields, fmt=fmt)


def with_(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    merged = {**base, **changes}
    return {key: value for key, value in merged.items() if value is not None}


# --- identity ----------------------------------------------------------------------------------


def test_user_enrollment_authenticate_gives_a_user_enrollment_identity() -> None:
    message = parse_checkin(body(UE_AUTHENTICATE))
    assert isinstance(message, Authenticate)
    assert message.identity == DeviceIdentity(IdentityKind.USER_ENROLLMENT, ENROLLMENT_ID)
    assert message.identity.is_user_enrollment
    assert message.topic == TOPIC
    assert (message.os_version, message.build_version, message.product_name) == (
        "18.2.1",
        "22C161",
        "iPhone17,1",
    )
    assert message.hardware_identifiers == {}
    assert message.message_type == "Authenticate"


def test_device_authenticate_gives_a_device_identity_and_reports_its_hardware_identifiers() -> None:
    message = parse_checkin(body(DEVICE_AUTHENTICATE))
    assert isinstance(message, Authenticate)
    assert message.identity == DeviceIdentity(IdentityKind.DEVICE, UDID)
    assert not message.identity.is_user_enrollment
    assert message.hardware_identifiers == {
        "SerialNumber": "F2LXK0ABCD12",
        "IMEI": "35 123456 789012 3",
        "MEID": "35123456789012",
    }
    assert (message.model, message.model_name, message.device_name) == ("MK2K3", "iPad", "Front desk iPad")


def test_a_user_enrolled_device_that_sends_a_serial_number_is_flagged_for_the_caller() -> None:
    message = parse_checkin(body(with_(UE_AUTHENTICATE, SerialNumber="F2LXK0ABCD12")))
    assert isinstance(message, Authenticate)
    assert message.identity.is_user_enrollment
    assert message.hardware_identifiers == {"SerialNumber": "F2LXK0ABCD12"}


def test_udid_wins_when_a_message_carries_both_udid_and_enrollment_id() -> None:
    message = parse_checkin(body(with_(UE_AUTHENTICATE, UDID=UDID)))
    assert message.identity == DeviceIdentity(IdentityKind.DEVICE, UDID)


def test_a_message_naming_no_device_is_malformed() -> None:
    with pytest.raises(MalformedMessage, match="neither UDID nor EnrollmentID"):
        parse_checkin(body(with_(UE_AUTHENTICATE, EnrollmentID=None)))


def test_macos_user_channel_keys_are_kept_in_the_identity() -> None:
    fields = with_(UE_TOKEN_UPDATE, EnrollmentUserID="U-1234", UserID="FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF")
    identity = parse_checkin(body(fields)).identity
    assert identity.id == ENROLLMENT_ID
    assert identity.enrollment_user_id == "U-1234"
    assert identity.user_id == "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF"
    assert identity.is_user_channel
    assert not parse_checkin(body(UE_TOKEN_UPDATE)).identity.is_user_channel


# --- check-in messages -------------------------------------------------------------------------


def test_binary_plists_are_accepted() -> None:
    message = parse_checkin(body(UE_AUTHENTICATE, plistlib.FMT_BINARY))
    assert isinstance(message, Authenticate)
    assert message.identity.id == ENROLLMENT_ID


def test_every_message_keeps_the_exact_body_and_the_decoded_plist() -> None:
    raw = body(UE_AUTHENTICATE, plistlib.FMT_BINARY)
    message = parse_checkin(raw)
    assert message.raw == raw
    assert message.fields == UE_AUTHENTICATE
    report = parse_report(body({"EnrollmentID": ENROLLMENT_ID, "Status": "Idle"}))
    assert report.raw == body({"EnrollmentID": ENROLLMENT_ID, "Status": "Idle"})
    assert report.fields == {"EnrollmentID": ENROLLMENT_ID, "Status": "Idle"}


def test_token_update_carries_the_token_bytes_push_magic_and_topic() -> None:
    message = parse_checkin(body(UE_TOKEN_UPDATE))
    assert isinstance(message, TokenUpdate)
    assert message.token == TOKEN
    assert message.token_hex == TOKEN.hex()
    assert message.push_magic == PUSH_MAGIC
    assert message.topic == TOPIC
    assert not message.awaiting_configuration
    assert not message.has_unlock_token


def test_token_update_tells_whether_an_unlock_token_came_and_awaiting_configuration() -> None:
    fields = with_(UE_TOKEN_UPDATE, UDID=UDID, UnlockToken=b"\x01" * 64, AwaitingConfiguration=True)
    message = parse_checkin(body(fields))
    assert isinstance(message, TokenUpdate)
    assert message.has_unlock_token
    assert message.awaiting_configuration


def test_check_out_carries_identity_and_topic() -> None:
    message = parse_checkin(body({"MessageType": "CheckOut", "EnrollmentID": ENROLLMENT_ID, "Topic": TOPIC}))
    assert message == CheckOut(
        DeviceIdentity(IdentityKind.USER_ENROLLMENT, ENROLLMENT_ID),
        TOPIC,
        raw=message.raw,
        fields=message.fields,
    )


def test_get_token_carries_the_service_type_and_parameters() -> None:
    fields = {
        "MessageType": "GetToken",
        "EnrollmentID": ENROLLMENT_ID,
        "TokenServiceType": "com.apple.maid",
        "TokenParameters": {"Nonce": "abc"},
    }
    message = parse_checkin(body(fields))
    assert isinstance(message, GetToken)
    assert message.token_service_type == "com.apple.maid"
    assert message.token_parameters == {"Nonce": "abc"}


def test_declarative_management_carries_the_endpoint_and_data() -> None:
    data = json.dumps({"StatusItems": {}}).encode()
    fields = {
        "MessageType": "DeclarativeManagement",
        "EnrollmentID": ENROLLMENT_ID,
        "Endpoint": "status",
        "Data": data,
    }
    message = parse_checkin(body(fields))
    assert isinstance(message, DeclarativeManagement)
    assert (message.endpoint, message.data) == ("status", data)
    tokens = parse_checkin(body(with_(fields, Endpoint="tokens", Data=None)))
    assert isinstance(tokens, DeclarativeManagement)
    assert tokens.data is None


def test_other_message_types_are_identified_but_not_interpreted() -> None:
    message = parse_checkin(body({"MessageType": "SetBootstrapToken", "UDID": UDID, "BootstrapToken": b"x"}))
    assert isinstance(message, OtherCheckIn)
    assert message.message_type == "SetBootstrapToken"
    assert message.identity.kind is IdentityKind.DEVICE


MALFORMED_CHECKINS: list[tuple[str, bytes, str]] = [
    ("empty body", b"", "empty"),
    ("whitespace body", b"  \n", "empty"),
    ("not a plist", b"MessageType=Authenticate", "not a property list"),
    ("JSON", json.dumps(UE_AUTHENTICATE).encode(), "not a property list"),
    ("truncated XML", body(UE_AUTHENTICATE)[:-20], "not a property list"),
    ("truncated binary", body(UE_AUTHENTICATE, plistlib.FMT_BINARY)[:-5], "not a property list"),
    ("an array", plistlib.dumps([UE_AUTHENTICATE]), "an array, not a dictionary"),
    ("a string", plistlib.dumps("Authenticate"), "a string, not a dictionary"),
    ("no MessageType", body(with_(UE_AUTHENTICATE, MessageType=None)), "MessageType is missing"),
    ("MessageType not a string", body(with_(UE_AUTHENTICATE, MessageType=1)), "MessageType is an integer"),
    ("MessageType with spaces", body(with_(UE_AUTHENTICATE, MessageType="Auth enticate")), "MessageType"),
    ("Topic missing", body(with_(UE_AUTHENTICATE, Topic=None)), "Topic is missing"),
    ("Topic not a string", body(with_(UE_AUTHENTICATE, Topic=b"com.apple.mgmt.x")), "Topic is data"),
    ("Topic empty", body(with_(UE_AUTHENTICATE, Topic="")), "Topic is empty"),
    ("EnrollmentID not a string", body(with_(UE_AUTHENTICATE, EnrollmentID=5)), "EnrollmentID is an integer"),
    ("EnrollmentID with a space", body(with_(UE_AUTHENTICATE, EnrollmentID="a b")), "EnrollmentID"),
    ("EnrollmentID too long", body(with_(UE_AUTHENTICATE, EnrollmentID="A" * 129)), "EnrollmentID"),
    ("UDID empty", body(with_(UE_AUTHENTICATE, UDID="")), "UDID"),
    (
        "OSVersion a date",
        body(with_(UE_AUTHENTICATE, OSVersion=datetime.datetime(2025, 1, 1))),
        "OSVersion is a date",
    ),
    (
        "oversized string",
        body(with_(UE_AUTHENTICATE, DeviceName="x" * (MAX_STRING_BYTES + 1))),
        "longer than 4096",
    ),
    ("oversized multibyte string", body(with_(UE_AUTHENTICATE, DeviceName="é" * 2049)), "longer than 4096"),
    ("Token not data", body(with_(UE_TOKEN_UPDATE, Token=TOKEN.hex())), "Token is a string, not data"),
    ("Token missing", body(with_(UE_TOKEN_UPDATE, Token=None)), "Token is missing"),
    ("Token empty", body(with_(UE_TOKEN_UPDATE, Token=b"")), "Token is empty"),
    ("Token too long", body(with_(UE_TOKEN_UPDATE, Token=b"x" * 257)), "Token is longer"),
    ("PushMagic missing", body(with_(UE_TOKEN_UPDATE, PushMagic=None)), "PushMagic is missing"),
    ("PushMagic not a string", body(with_(UE_TOKEN_UPDATE, PushMagic=7)), "PushMagic is an integer"),
    ("AwaitingConfiguration a string", body(with_(UE_TOKEN_UPDATE, AwaitingConfiguration="no")), "boolean"),
    ("UnlockToken a string", body(with_(UE_TOKEN_UPDATE, UnlockToken="x")), "UnlockToken is a string"),
    (
        "TokenParameters an array",
        body({"MessageType": "GetToken", "UDID": UDID, "TokenServiceType": "x", "TokenParameters": []}),
        "TokenParameters",
    ),
    (
        "GetToken without service",
        body({"MessageType": "GetToken", "UDID": UDID}),
        "TokenServiceType is missing",
    ),
    (
        "DDM without endpoint",
        body({"MessageType": "DeclarativeManagement", "UDID": UDID}),
        "Endpoint is missing",
    ),
    (
        "DDM Data a string",
        body({"MessageType": "DeclarativeManagement", "UDID": UDID, "Endpoint": "status", "Data": "{}"}),
        "Data",
    ),
]


@pytest.mark.parametrize(
    ("case", "raw", "reason"), MALFORMED_CHECKINS, ids=[c[0] for c in MALFORMED_CHECKINS]
)
def test_malformed_check_ins_raise_malformed_message_with_a_reason(
    case: str, raw: bytes, reason: str
) -> None:
    with pytest.raises(MalformedMessage) as caught:
        parse_checkin(raw)
    assert reason in caught.value.reason
    assert caught.value.message.startswith("The device message is malformed: ")


def test_a_body_that_is_not_bytes_is_malformed() -> None:
    with pytest.raises(MalformedMessage, match="must be bytes"):
        parse_checkin("<plist/>")  # type: ignore[arg-type]


def test_a_binary_plist_whose_keys_are_not_strings_is_malformed() -> None:
    # {1: "x"}: one dict object whose key is an integer (plistlib cannot write this, devices never do).
    objects = [b"\xd1\x01\x02", b"\x10\x01", b"\x51x"]
    raw = _binary_plist(objects, top=0)
    with pytest.raises(MalformedMessage, match="key is not a string"):
        parse_checkin(raw)


def test_a_binary_plist_that_contains_itself_is_malformed_not_a_crash() -> None:
    # {"a": <itself>}: object 0 is a dict whose value refers back to object 0.
    raw = _binary_plist([b"\xd1\x01\x00", b"\x51a"], top=0)
    with pytest.raises(MalformedMessage, match="nested more than"):
        parse_checkin(raw)


def test_a_small_binary_plist_standing_for_a_huge_tree_is_malformed() -> None:
    # plistlib writes a repeated object once: 40 levels of [x, x] are a few hundred bytes but 2**40 values.
    node: list[Any] = []
    for _ in range(40):
        node = [node, node]
    raw = plistlib.dumps(
        {"MessageType": "Authenticate", "UDID": UDID, "Topic": TOPIC, "X": node}, fmt=plistlib.FMT_BINARY
    )
    assert len(raw) < 2000
    with pytest.raises(MalformedMessage, match="more than"):
        parse_checkin(raw)


def _binary_plist(objects: list[bytes], top: int) -> bytes:
    """A binary plist from raw object encodings (one-byte offsets and references)."""
    data = bytearray(b"bplist00")
    offsets = []
    for encoded in objects:
        offsets.append(len(data))
        data += encoded
    table_offset = len(data)
    data += bytes(offsets)
    data += struct.pack(">6xBBQQQ", 1, 1, len(objects), top, table_offset)
    return bytes(data)


# --- connect reports -----------------------------------------------------------------------------


def report_body(**fields: Any) -> bytes:
    return body({"EnrollmentID": ENROLLMENT_ID, **fields})


def test_idle_needs_no_command_uuid() -> None:
    report = parse_report(report_body(Status="Idle"))
    assert report.status is ReportStatus.IDLE
    assert report.is_idle
    assert report.command_uuid is None
    assert report.error_chain == []
    assert report.identity == DeviceIdentity(IdentityKind.USER_ENROLLMENT, ENROLLMENT_ID)


def test_acknowledged_carries_the_command_uuid_and_the_response_fields() -> None:
    report = parse_report(
        report_body(Status="Acknowledged", CommandUUID="c-1", QueryResponses={"OSVersion": "18.2"})
    )
    assert report.status is ReportStatus.ACKNOWLEDGED
    assert not report.is_idle
    assert report.command_uuid == "c-1"
    assert report.fields["QueryResponses"] == {"OSVersion": "18.2"}


def test_error_carries_its_error_chain() -> None:
    chain = [
        {
            "ErrorCode": 12021,
            "ErrorDomain": "MCMDMErrorDomain",
            "LocalizedDescription": "Commande non valide",
            "USEnglishDescription": "Invalid request type",
        },
        {"ErrorCode": 4001, "ErrorDomain": "MCProfileErrorDomain"},
    ]
    report = parse_report(report_body(Status="Error", CommandUUID="c-2", ErrorChain=chain))
    assert report.status is ReportStatus.ERROR
    assert report.error_chain == [
        ErrorChainItem(12021, "MCMDMErrorDomain", "Commande non valide", "Invalid request type"),
        ErrorChainItem(4001, "MCProfileErrorDomain"),
    ]
    assert report.error_chain_json() == chain


@pytest.mark.parametrize(
    ("status", "expected"),
    [("CommandFormatError", ReportStatus.COMMAND_FORMAT_ERROR), ("NotNow", ReportStatus.NOT_NOW)],
)
def test_command_format_error_and_not_now_are_reports_on_a_command(
    status: str, expected: ReportStatus
) -> None:
    report = parse_report(report_body(Status=status, CommandUUID="c-3"))
    assert report.status is expected
    assert report.command_uuid == "c-3"


def test_a_device_enrolled_report_is_identified_by_udid() -> None:
    report = parse_report(body({"UDID": UDID, "Status": "Idle"}, plistlib.FMT_BINARY))
    assert report.identity == DeviceIdentity(IdentityKind.DEVICE, UDID)


MALFORMED_REPORTS: list[tuple[str, bytes, str]] = [
    ("unknown status", report_body(Status="Done", CommandUUID="c"), "Status 'Done' is not one of"),
    ("status missing", report_body(CommandUUID="c"), "Status is missing"),
    ("status not a string", report_body(Status=1), "Status is an integer"),
    ("result without CommandUUID", report_body(Status="Acknowledged"), "CommandUUID is missing"),
    ("CommandUUID not a string", report_body(Status="NotNow", CommandUUID=1), "CommandUUID is an integer"),
    ("CommandUUID too long", report_body(Status="NotNow", CommandUUID="c" * 65), "CommandUUID"),
    ("no identity", body({"Status": "Idle"}), "neither UDID nor EnrollmentID"),
    (
        "ErrorChain not an array",
        report_body(Status="Error", CommandUUID="c", ErrorChain={}),
        "ErrorChain is a",
    ),
    ("ErrorChain item not a dict", report_body(Status="Error", CommandUUID="c", ErrorChain=["x"]), "item 0"),
    (
        "ErrorCode not an integer",
        report_body(Status="Error", CommandUUID="c", ErrorChain=[{"ErrorCode": "12021"}]),
        "ErrorCode is a string",
    ),
    (
        "ErrorDomain not a string",
        report_body(Status="Error", CommandUUID="c", ErrorChain=[{"ErrorDomain": 1}]),
        "ErrorDomain is an integer",
    ),
    ("not a plist", b"\x00\x01\x02", "not a property list"),
]


@pytest.mark.parametrize(("case", "raw", "reason"), MALFORMED_REPORTS, ids=[c[0] for c in MALFORMED_REPORTS])
def test_malformed_reports_raise_malformed_message_with_a_reason(case: str, raw: bytes, reason: str) -> None:
    with pytest.raises(MalformedMessage) as caught:
        parse_report(raw)
    assert reason in caught.value.reason


# --- replies -------------------------------------------------------------------------------------


def test_command_plist_round_trips() -> None:
    command = {
        "RequestType": "InstallProfile",
        "Payload": b"<plist/>",
        "Nested": {"When": datetime.datetime(2025, 1, 1)},
    }
    raw = command_plist("c-9", command)
    assert raw.startswith(b"<?xml")
    assert plistlib.loads(raw) == {"CommandUUID": "c-9", "Command": command}
    assert parse_command_plist(raw) == ("c-9", command)


@pytest.mark.parametrize(
    ("uuid", "command", "reason"),
    [
        ("c", {"Queries": []}, "no RequestType"),
        ("c", {"RequestType": ""}, "no RequestType"),
        ("", {"RequestType": "ProfileList"}, "CommandUUID"),
        ("c" * 65, {"RequestType": "ProfileList"}, "CommandUUID"),
        ("c", {"RequestType": "DeviceLock", "Message": None}, "cannot carry"),
        ("c", {"RequestType": "DeviceLock", "Message": "\x00"}, "cannot carry"),
    ],
)
def test_command_plist_refuses_what_a_device_could_not_read(
    uuid: str, command: dict[str, Any], reason: str
) -> None:
    with pytest.raises(InvalidCommand, match=reason):
        command_plist(uuid, command)


def test_parse_command_plist_refuses_a_reply_without_a_command() -> None:
    with pytest.raises(MalformedMessage, match="Command is"):
        parse_command_plist(body({"CommandUUID": "c"}))


def test_the_unrecognized_device_body_follows_apples_schema() -> None:
    assert json.loads(unrecognized_device_json()) == {"code": "com.apple.unrecognized.device"}
    assert json.loads(unrecognized_device_json("no such enrollment", "Contact IT")) == {
        "code": "com.apple.unrecognized.device",
        "description": "no such enrollment",
        "message": "Contact IT",
    }


def test_json_safe_turns_data_and_dates_into_text() -> None:
    value = {
        "d": b"\x00\xff",
        "t": datetime.datetime(2025, 1, 2, 3, 4, 5),
        "n": float("nan"),
        "l": [1, 2.5, True],
    }
    assert json_safe(value) == {"d": "AP8=", "t": "2025-01-02T03:04:05+00:00", "n": None, "l": [1, 2.5, True]}
    json.dumps(json_safe(value), allow_nan=False)


# --- hostile input, generated --------------------------------------------------------------------

plist_scalars = (
    st.text(max_size=40)
    | st.binary(max_size=40)
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False)
    | st.datetimes(min_value=datetime.datetime(1900, 1, 1), max_value=datetime.datetime(2100, 1, 1))
)
plist_values = st.recursive(
    plist_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)
KNOWN_KEYS = [
    "MessageType",
    "UDID",
    "EnrollmentID",
    "EnrollmentUserID",
    "UserID",
    "Topic",
    "Token",
    "PushMagic",
    "UnlockToken",
    "AwaitingConfiguration",
    "TokenServiceType",
    "TokenParameters",
    "Endpoint",
    "Data",
    "Status",
    "CommandUUID",
    "ErrorChain",
    "SerialNumber",
]
likely_values = (
    st.sampled_from(
        [
            "Authenticate",
            "TokenUpdate",
            "CheckOut",
            "GetToken",
            "DeclarativeManagement",
            "Idle",
            "Error",
            "NotNow",
            "Acknowledged",
            UDID,
            TOPIC,
            "",
        ]
    )
    | plist_values
)
VALID_TEMPLATES: list[dict[str, Any]] = [
    UE_AUTHENTICATE,
    DEVICE_AUTHENTICATE,
    UE_TOKEN_UPDATE,
    {"MessageType": "CheckOut", "EnrollmentID": ENROLLMENT_ID, "Topic": TOPIC},
    {"MessageType": "GetToken", "EnrollmentID": ENROLLMENT_ID, "TokenServiceType": "com.apple.maid"},
    {"MessageType": "DeclarativeManagement", "UDID": UDID, "Endpoint": "tokens"},
    {"EnrollmentID": ENROLLMENT_ID, "Status": "Idle"},
    {
        "UDID": UDID,
        "Status": "Error",
        "CommandUUID": "c",
        "ErrorChain": [{"ErrorCode": 1, "ErrorDomain": "d"}],
    },
]


@st.composite
def mutated_messages(draw: st.DrawFn) -> dict[str, Any]:
    """A valid message with some keys removed and some set to random values: reaches every check."""
    fields = dict(draw(st.sampled_from(VALID_TEMPLATES)))
    for key in draw(st.lists(st.sampled_from(sorted(fields)), max_size=2)):
        fields.pop(key, None)
    fields.update(draw(st.dictionaries(st.sampled_from(KNOWN_KEYS), likely_values, max_size=2)))
    return fields


message_dicts = (
    mutated_messages()
    | st.dictionaries(st.sampled_from(KNOWN_KEYS), likely_values, max_size=8)
    | st.dictionaries(st.text(max_size=12), plist_values, max_size=6)
)


def _parses_or_is_malformed(raw: bytes) -> None:
    for parse in (parse_checkin, parse_report):
        with contextlib.suppress(MalformedMessage):
            parse(raw)


@settings(deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_parse_or_raise_malformed_message(raw: bytes) -> None:
    _parses_or_is_malformed(raw)
    _parses_or_is_malformed(b"bplist00" + raw)


@settings(deadline=None)
@given(message_dicts, st.sampled_from([plistlib.FMT_XML, plistlib.FMT_BINARY]))
def test_random_plist_dictionaries_parse_or_raise_malformed_message(
    fields: dict[str, Any], fmt: plistlib.PlistFormat
) -> None:
    try:
        raw = plistlib.dumps(fields, fmt=fmt)
    except ValueError:  # XML cannot carry control characters; the binary form of the same dict is tried too
        raw = plistlib.dumps(fields, fmt=plistlib.FMT_BINARY)
    _parses_or_is_malformed(raw)
    _parses_or_is_malformed(raw[: len(raw) // 2])


@settings(deadline=None)
@given(mutated_messages())
def test_parsed_messages_are_the_type_their_message_type_names(fields: dict[str, Any]) -> None:
    try:
        message = parse_checkin(plistlib.dumps(fields, fmt=plistlib.FMT_BINARY))
    except MalformedMessage:
        return
    assert message.message_type == fields["MessageType"]
    assert message.identity.id in (fields.get("UDID"), fields.get("EnrollmentID"))
    report: CommandReport | None = None
    with contextlib.suppress(MalformedMessage):
        report = parse_report(plistlib.dumps(fields, fmt=plistlib.FMT_BINARY))
    if report is not None:
        assert report.status.value == fields["Status"]
