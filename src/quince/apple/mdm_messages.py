"""What a device PUTs to the check-in and connect endpoints (reference §1, §2), and Quince's replies.

A device body is hostile until parsed. Every way it can be wrong (not a plist, not a dictionary,
a missing or mistyped key, an oversized string, a tree too deep or too big) raises
`MalformedMessage` with a readable reason and nothing else, so the endpoints answer 400 (never 500,
and never 401, which a device takes for "you are unenrolled").

One typed identity at the edge: each message carries a `DeviceIdentity` built from `UDID`
(device enrollment) or `EnrollmentID` (user enrollment) before anything else looks at it. Each
parsed message keeps the exact body (`raw`) and the decoded plist (`fields`).
"""

from __future__ import annotations

import base64
import datetime
import json
import math
import plistlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar, TypeAlias

from quince.apple.errors import InvalidCommand, MalformedMessage

CHECKIN_CONTENT_TYPE = "application/x-apple-aspen-mdm-checkin"
CONNECT_CONTENT_TYPE = "application/x-apple-aspen-mdm"
COMMAND_CONTENT_TYPE = "application/xml"
UNRECOGNIZED_DEVICE_CODE = "com.apple.unrecognized.device"
UNRECOGNIZED_DEVICE_CONTENT_TYPE = "application/json"

# Limits for hostile input. Identifiers are refused rather than cut when too long (a cut identifier
# names another thing); the sizes fit the store's columns (devices.udid 128, commands.uuid 64,
# device_messages.message_type 48, devices.topic/push_magic 255, devices.push_token 512 hex digits).
MAX_STRING_BYTES = 4096
MAX_ID_LENGTH = 128
MAX_COMMAND_UUID_LENGTH = 64
MAX_MESSAGE_TYPE_LENGTH = 48
MAX_TOPIC_LENGTH = 255
MAX_PUSH_MAGIC_LENGTH = 255
MAX_TOKEN_BYTES = 256
MAX_DEPTH = 64
MAX_VALUES = 250_000

# Keys a user-enrolled device must never send (reference §1); a device enrollment may.
HARDWARE_IDENTIFIER_KEYS: tuple[str, ...] = ("SerialNumber", "IMEI", "MEID")

# Printable ASCII without spaces: UDIDs, EnrollmentIDs and CommandUUIDs are hex, dashes and such.
_ID = re.compile(rf"[\x21-\x7e]{{1,{MAX_ID_LENGTH}}}")
_COMMAND_UUID = re.compile(rf"[\x21-\x7e]{{1,{MAX_COMMAND_UUID_LENGTH}}}")
_MESSAGE_TYPE = re.compile(rf"[A-Za-z][A-Za-z0-9._-]{{0,{MAX_MESSAGE_TYPE_LENGTH - 1}}}")
_TOKEN_TEXT = re.compile(r"[\x21-\x7e]+")
_SCALARS = (str, bytes, bool, int, float, datetime.datetime)
_PLIST_KINDS: tuple[tuple[type, str], ...] = (
    (bool, "a boolean"),  # before int: bool is an int subclass
    (int, "an integer"),
    (float, "a real"),
    (str, "a string"),
    (bytes, "data"),
    (datetime.datetime, "a date"),
    (list, "an array"),
    (dict, "a dictionary"),
)


# --- identity --------------------------------------------------------------------------------


class IdentityKind(StrEnum):
    DEVICE = "device"  # device enrollment, identified by UDID
    USER_ENROLLMENT = "user_enrollment"  # user enrollment, identified by EnrollmentID


@dataclass(frozen=True)
class DeviceIdentity:
    """Who sent a message: the UDID of a device enrollment or the EnrollmentID of a user enrollment.

    Rule: `UDID` if present, else `EnrollmentID`; a message with neither is malformed. A message with
    both is a device enrollment (UDID wins): a user-enrolled device never reports its UDID, so a UDID
    can only come from a device enrollment. `user_id` / `enrollment_user_id` are the macOS user
    channel (and Shared iPad) keys, kept for the record; iOS User Enrollment has no user channel.
    """

    kind: IdentityKind
    id: str
    user_id: str | None = None
    enrollment_user_id: str | None = None

    @property
    def is_user_enrollment(self) -> bool:
        return self.kind is IdentityKind.USER_ENROLLMENT

    @property
    def is_user_channel(self) -> bool:
        return self.user_id is not None or self.enrollment_user_id is not None


# --- check-in messages -----------------------------------------------------------------------


@dataclass(frozen=True)
class _DeviceMessage:
    identity: DeviceIdentity
    raw: bytes = field(kw_only=True, repr=False)
    fields: dict[str, Any] = field(kw_only=True, repr=False)


@dataclass(frozen=True)
class Authenticate(_DeviceMessage):
    """The first check-in. A user-enrolled device sends no SerialNumber, IMEI or MEID (§1)."""

    MESSAGE_TYPE: ClassVar[str] = "Authenticate"
    topic: str
    os_version: str | None = None
    build_version: str | None = None
    product_name: str | None = None
    serial_number: str | None = None
    imei: str | None = None
    meid: str | None = None
    model: str | None = None
    model_name: str | None = None
    device_name: str | None = None

    @property
    def message_type(self) -> str:
        return self.MESSAGE_TYPE

    @property
    def hardware_identifiers(self) -> dict[str, str]:
        """The hardware identifiers the device sent, under Apple's key names; never store them for UE."""
        values = {"SerialNumber": self.serial_number, "IMEI": self.imei, "MEID": self.meid}
        return {key: value for key, value in values.items() if value is not None}


@dataclass(frozen=True)
class TokenUpdate(_DeviceMessage):
    """Push data. `has_unlock_token` says whether an UnlockToken came (forbidden under UE; not kept)."""

    MESSAGE_TYPE: ClassVar[str] = "TokenUpdate"
    topic: str
    token: bytes
    push_magic: str
    has_unlock_token: bool = False
    awaiting_configuration: bool = False

    @property
    def message_type(self) -> str:
        return self.MESSAGE_TYPE

    @property
    def token_hex(self) -> str:
        """The APNs device token as APNs URLs write it."""
        return self.token.hex()


@dataclass(frozen=True)
class CheckOut(_DeviceMessage):
    MESSAGE_TYPE: ClassVar[str] = "CheckOut"
    topic: str

    @property
    def message_type(self) -> str:
        return self.MESSAGE_TYPE


@dataclass(frozen=True)
class GetToken(_DeviceMessage):
    MESSAGE_TYPE: ClassVar[str] = "GetToken"
    token_service_type: str
    token_parameters: dict[str, Any] | None = None

    @property
    def message_type(self) -> str:
        return self.MESSAGE_TYPE


@dataclass(frozen=True)
class DeclarativeManagement(_DeviceMessage):
    """A DDM request; `data` is the (JSON) body the device attached, if any."""

    MESSAGE_TYPE: ClassVar[str] = "DeclarativeManagement"
    endpoint: str
    data: bytes | None = None

    @property
    def message_type(self) -> str:
        return self.MESSAGE_TYPE


@dataclass(frozen=True)
class OtherCheckIn(_DeviceMessage):
    """Any other MessageType (UserAuthenticate, SetBootstrapToken, ...), identified but not interpreted."""

    message_type: str


CheckInMessage: TypeAlias = (
    Authenticate | TokenUpdate | CheckOut | GetToken | DeclarativeManagement | OtherCheckIn
)


# --- connect (command) reports ---------------------------------------------------------------


class ReportStatus(StrEnum):
    IDLE = "Idle"
    ACKNOWLEDGED = "Acknowledged"
    ERROR = "Error"
    COMMAND_FORMAT_ERROR = "CommandFormatError"
    NOT_NOW = "NotNow"


@dataclass(frozen=True)
class ErrorChainItem:
    code: int | None = None
    domain: str | None = None
    localized_description: str | None = None
    us_english_description: str | None = None

    def as_json(self) -> dict[str, object]:
        """The item under Apple's key names, present keys only (what `commands.error_chain` stores)."""
        values: dict[str, object | None] = {
            "ErrorCode": self.code,
            "ErrorDomain": self.domain,
            "LocalizedDescription": self.localized_description,
            "USEnglishDescription": self.us_english_description,
        }
        return {key: value for key, value in values.items() if value is not None}


@dataclass(frozen=True)
class CommandReport(_DeviceMessage):
    """A connect PUT: `Idle` asks for a command; anything else reports on `command_uuid`."""

    status: ReportStatus
    command_uuid: str | None = None
    error_chain: list[ErrorChainItem] = field(default_factory=list)

    @property
    def is_idle(self) -> bool:
        return self.status is ReportStatus.IDLE

    def error_chain_json(self) -> list[dict[str, object]]:
        return [item.as_json() for item in self.error_chain]


# --- parsing ---------------------------------------------------------------------------------


def parse_checkin(body: bytes) -> CheckInMessage:
    """Parse a check-in body (XML or binary plist); raise `MalformedMessage` for anything else."""
    raw, fields = _load(body)
    message_type = _text(fields, "MessageType", required=True, pattern=_MESSAGE_TYPE)
    assert message_type is not None
    identity = _identity(fields)
    parser = _CHECKIN_PARSERS.get(message_type)
    if parser is None:
        return OtherCheckIn(identity, message_type, raw=raw, fields=fields)
    return parser(identity, fields, raw)


def parse_report(body: bytes) -> CommandReport:
    """Parse a connect body (Status, CommandUUID, ErrorChain); raise `MalformedMessage` if it is not one."""
    raw, fields = _load(body)
    identity = _identity(fields)
    status_text = _text(fields, "Status", required=True)
    assert status_text is not None
    try:
        status = ReportStatus(status_text)
    except ValueError:
        known = ", ".join(s.value for s in ReportStatus)
        raise MalformedMessage(f"Status {_shown(status_text)} is not one of {known}") from None
    command_uuid = _text(
        fields, "CommandUUID", required=status is not ReportStatus.IDLE, pattern=_COMMAND_UUID
    )
    return CommandReport(
        identity,
        status,
        command_uuid,
        _error_chain(fields),
        raw=raw,
        fields=fields,
    )


def _authenticate(identity: DeviceIdentity, fields: dict[str, Any], raw: bytes) -> Authenticate:
    return Authenticate(
        identity,
        _topic(fields),
        os_version=_text(fields, "OSVersion"),
        build_version=_text(fields, "BuildVersion"),
        product_name=_text(fields, "ProductName"),
        serial_number=_text(fields, "SerialNumber"),
        imei=_text(fields, "IMEI"),
        meid=_text(fields, "MEID"),
        model=_text(fields, "Model"),
        model_name=_text(fields, "ModelName"),
        device_name=_text(fields, "DeviceName"),
        raw=raw,
        fields=fields,
    )


def _token_update(identity: DeviceIdentity, fields: dict[str, Any], raw: bytes) -> TokenUpdate:
    token = _data(fields, "Token", required=True, limit=MAX_TOKEN_BYTES)
    push_magic = _text(fields, "PushMagic", required=True, limit=MAX_PUSH_MAGIC_LENGTH, pattern=_TOKEN_TEXT)
    assert token is not None and push_magic is not None
    unlock_token = _data(fields, "UnlockToken", limit=MAX_STRING_BYTES)
    return TokenUpdate(
        identity,
        _topic(fields),
        token,
        push_magic,
        has_unlock_token=unlock_token is not None,
        awaiting_configuration=bool(_flag(fields, "AwaitingConfiguration")),
        raw=raw,
        fields=fields,
    )


def _check_out(identity: DeviceIdentity, fields: dict[str, Any], raw: bytes) -> CheckOut:
    return CheckOut(identity, _topic(fields), raw=raw, fields=fields)


def _get_token(identity: DeviceIdentity, fields: dict[str, Any], raw: bytes) -> GetToken:
    service_type = _text(fields, "TokenServiceType", required=True)
    assert service_type is not None
    parameters = fields.get("TokenParameters")
    if parameters is not None and not isinstance(parameters, dict):
        raise MalformedMessage(f"TokenParameters is {_kind(parameters)}, not a dictionary")
    return GetToken(identity, service_type, parameters, raw=raw, fields=fields)


def _declarative_management(
    identity: DeviceIdentity, fields: dict[str, Any], raw: bytes
) -> DeclarativeManagement:
    endpoint = _text(fields, "Endpoint", required=True)
    assert endpoint is not None
    # Data is JSON the device attaches (declaration status reports can be large): no 4 KB limit.
    data = _data(fields, "Data", limit=None)
    return DeclarativeManagement(identity, endpoint, data, raw=raw, fields=fields)


_CHECKIN_PARSERS: dict[str, Callable[[DeviceIdentity, dict[str, Any], bytes], CheckInMessage]] = {
    "Authenticate": _authenticate,
    "TokenUpdate": _token_update,
    "CheckOut": _check_out,
    "GetToken": _get_token,
    "DeclarativeManagement": _declarative_management,
}


def _identity(fields: dict[str, Any]) -> DeviceIdentity:
    udid = _text(fields, "UDID", pattern=_ID)
    enrollment_id = _text(fields, "EnrollmentID", pattern=_ID)
    user_id = _text(fields, "UserID", pattern=_ID)
    enrollment_user_id = _text(fields, "EnrollmentUserID", pattern=_ID)
    if udid is not None:
        return DeviceIdentity(IdentityKind.DEVICE, udid, user_id, enrollment_user_id)
    if enrollment_id is not None:
        return DeviceIdentity(IdentityKind.USER_ENROLLMENT, enrollment_id, user_id, enrollment_user_id)
    raise MalformedMessage("the message names no device: it has neither UDID nor EnrollmentID")


def _topic(fields: dict[str, Any]) -> str:
    topic = _text(fields, "Topic", required=True, limit=MAX_TOPIC_LENGTH, pattern=_TOKEN_TEXT)
    assert topic is not None
    return topic


def _error_chain(fields: dict[str, Any]) -> list[ErrorChainItem]:
    chain = fields.get("ErrorChain")
    if chain is None:
        return []
    if not isinstance(chain, list):
        raise MalformedMessage(f"ErrorChain is {_kind(chain)}, not an array")
    items = []
    for index, entry in enumerate(chain):
        if not isinstance(entry, dict):
            raise MalformedMessage(f"ErrorChain item {index} is {_kind(entry)}, not a dictionary")
        code = entry.get("ErrorCode")
        if code is not None and (isinstance(code, bool) or not isinstance(code, int)):
            raise MalformedMessage(f"ErrorChain item {index}: ErrorCode is {_kind(code)}, not an integer")
        where = f"ErrorChain item {index}: "
        items.append(
            ErrorChainItem(
                code=code,
                domain=_text(entry, "ErrorDomain", where=where),
                localized_description=_text(entry, "LocalizedDescription", where=where),
                us_english_description=_text(entry, "USEnglishDescription", where=where),
            )
        )
    return items


def _load(body: object) -> tuple[bytes, dict[str, Any]]:
    if not isinstance(body, bytes | bytearray | memoryview):
        raise MalformedMessage("the body must be bytes")
    raw = bytes(body)
    if not raw.strip():
        raise MalformedMessage("the body is empty")
    value = load_plist(raw, MalformedMessage)
    if not isinstance(value, dict):
        raise MalformedMessage(f"the property list is {_kind(value)}, not a dictionary")
    return raw, value


def load_plist(data: bytes, error: Callable[[str], Exception]) -> Any:
    """`plistlib.loads` for hostile bytes, with its tree checked; failures become `error(reason)`.

    Shared with `commands` (profiles given by administrators). Beyond plistlib: every dictionary key
    is a string, no UID values, at most `MAX_DEPTH` levels and `MAX_VALUES` values (a binary plist
    can reference one object many times, or itself, so a small body can stand for a huge tree).
    """
    try:
        value = plistlib.loads(data)
    except Exception as exc:
        # plistlib reports bad input as InvalidFileException, ExpatError, ValueError, TypeError,
        # OverflowError, RecursionError, ... depending on the format; all mean "not a plist".
        raise error(f"it is not a property list ({type(exc).__name__})") from None
    reason = _tree_problem(value)
    if reason is not None:
        raise error(reason)
    return value


def _tree_problem(root: object) -> str | None:
    budget = MAX_VALUES
    stack: list[tuple[object, int]] = [(root, 1)]
    while stack:
        value, depth = stack.pop()
        budget -= 1
        if budget < 0:
            return f"the property list holds more than {MAX_VALUES} values"
        if depth > MAX_DEPTH:
            return f"the property list is nested more than {MAX_DEPTH} levels deep"
        if isinstance(value, dict):
            for key, item in value.items():
                if not isinstance(key, str):
                    return "a dictionary key is not a string"
                stack.append((item, depth + 1))
        elif isinstance(value, list):
            stack.extend((item, depth + 1) for item in value)
        elif not isinstance(value, _SCALARS):
            return f"the property list holds a value of type {type(value).__name__}"
    return None


def _text(
    fields: Mapping[str, Any],
    key: str,
    *,
    required: bool = False,
    limit: int = MAX_STRING_BYTES,
    pattern: re.Pattern[str] | None = None,
    where: str = "",
) -> str | None:
    value = fields.get(key)
    if value is None:
        if required:
            raise MalformedMessage(f"{where}{key} is missing")
        return None
    if not isinstance(value, str):
        raise MalformedMessage(f"{where}{key} is {_kind(value)}, not a string")
    if len(value) > limit or len(value.encode("utf-8", "surrogatepass")) > limit:
        raise MalformedMessage(f"{where}{key} is longer than {limit} bytes")
    if required and not value.strip():
        raise MalformedMessage(f"{where}{key} is empty")
    if pattern is not None and not pattern.fullmatch(value):
        raise MalformedMessage(f"{where}{key} is empty or has characters that are not allowed")
    return value


def _data(fields: Mapping[str, Any], key: str, *, required: bool = False, limit: int | None) -> bytes | None:
    value = fields.get(key)
    if value is None:
        if required:
            raise MalformedMessage(f"{key} is missing")
        return None
    if not isinstance(value, bytes):
        raise MalformedMessage(f"{key} is {_kind(value)}, not data")
    if required and not value:
        raise MalformedMessage(f"{key} is empty")
    if limit is not None and len(value) > limit:
        raise MalformedMessage(f"{key} is longer than {limit} bytes")
    return value


def _flag(fields: Mapping[str, Any], key: str) -> bool | None:
    value = fields.get(key)
    if value is not None and not isinstance(value, bool):
        raise MalformedMessage(f"{key} is {_kind(value)}, not a boolean")
    return value


def _kind(value: object) -> str:
    for kind, name in _PLIST_KINDS:
        if isinstance(value, kind):
            return name
    return f"a {type(value).__name__}"


def _shown(text: str) -> str:
    """A device-sent string fit for a log line: quoted, cut short."""
    return repr(text[:40] + ("…" if len(text) > 40 else ""))


# --- replies ---------------------------------------------------------------------------------


def command_plist(command_uuid: str, command: Mapping[str, Any]) -> bytes:
    """The 200 body that delivers a command: `{CommandUUID, Command: {RequestType, ...}}` as XML."""
    request_type = command.get("RequestType") if isinstance(command, Mapping) else None
    if not isinstance(request_type, str) or not request_type:
        raise InvalidCommand("(unnamed)", "the command has no RequestType", "RequestType")
    if not isinstance(command_uuid, str) or not _COMMAND_UUID.fullmatch(command_uuid):
        raise InvalidCommand(
            request_type,
            f"the CommandUUID must be 1 to {MAX_COMMAND_UUID_LENGTH} printable ASCII characters",
            "CommandUUID",
        )
    try:
        return plistlib.dumps({"CommandUUID": command_uuid, "Command": dict(command)}, fmt=plistlib.FMT_XML)
    except (TypeError, ValueError, OverflowError) as exc:
        raise InvalidCommand(request_type, f"it holds a value a property list cannot carry ({exc})") from None


def parse_command_plist(body: bytes) -> tuple[str, dict[str, Any]]:
    """The CommandUUID and Command of a command reply (what a device, or the simulator, reads)."""
    _, fields = _load(body)
    command_uuid = _text(fields, "CommandUUID", required=True, pattern=_COMMAND_UUID)
    command = fields.get("Command")
    if not isinstance(command, dict):
        raise MalformedMessage(f"Command is {_kind(command)}, not a dictionary")
    _text(command, "RequestType", required=True, where="Command: ")
    assert command_uuid is not None
    return command_uuid, command


def unrecognized_device_body(description: str | None = None, message: str | None = None) -> dict[str, str]:
    """The 403 body that makes a device unenroll (DM `mdm/errors/unrecognized.device.yaml`, iOS 17+).

    Apple says to use it instead of a 401. `description` is for the device's logs only; `message`
    is shown to the person.
    """
    body = {"code": UNRECOGNIZED_DEVICE_CODE}
    if description is not None:
        body["description"] = description
    if message is not None:
        body["message"] = message
    return body


def unrecognized_device_json(description: str | None = None, message: str | None = None) -> bytes:
    """`unrecognized_device_body` as a JSON body (Content-Type `application/json`)."""
    return json.dumps(unrecognized_device_body(description, message), separators=(",", ":")).encode()


# --- JSON for storage ------------------------------------------------------------------------


def json_safe(value: object, *, _depth: int = 0) -> object:
    """A plist value as JSON: data as base64 text, dates as ISO 8601 UTC, non-finite reals as null.

    Dictionary keys that are not strings and values of other types are dropped (None).
    """
    if _depth > MAX_DEPTH:
        return None
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, datetime.datetime):
        # plistlib gives naive datetimes that are UTC.
        aware = value if value.tzinfo is not None else value.replace(tzinfo=datetime.UTC)
        return aware.isoformat()
    if isinstance(value, Mapping):
        return {
            key: json_safe(item, _depth=_depth + 1) for key, item in value.items() if isinstance(key, str)
        }
    if isinstance(value, list | tuple):
        return [json_safe(item, _depth=_depth + 1) for item in value]
    return None
