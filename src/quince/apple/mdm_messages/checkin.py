"""The check-in messages a device PUTs (Authenticate, TokenUpdate, CheckOut, ...), and `parse_checkin`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, TypeAlias

from quince.apple.errors import MalformedMessage
from quince.apple.mdm_messages.fields import (
    MAX_PUSH_MAGIC_LENGTH,
    MAX_STRING_BYTES,
    MAX_TOKEN_BYTES,
    MAX_TOPIC_LENGTH,
    MESSAGE_TYPE,
    TOKEN_TEXT,
    data_field,
    flag_field,
    kind_of,
    load_message,
    text_field,
)
from quince.apple.mdm_messages.identity import DeviceIdentity, DeviceMessage, identity_of

CHECKIN_CONTENT_TYPE = "application/x-apple-aspen-mdm-checkin"

# Keys a user-enrolled device must never send (reference §1); a device enrollment may.
HARDWARE_IDENTIFIER_KEYS: tuple[str, ...] = ("SerialNumber", "IMEI", "MEID")


@dataclass(frozen=True)
class Authenticate(DeviceMessage):
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
class TokenUpdate(DeviceMessage):
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
class CheckOut(DeviceMessage):
    MESSAGE_TYPE: ClassVar[str] = "CheckOut"
    topic: str

    @property
    def message_type(self) -> str:
        return self.MESSAGE_TYPE


@dataclass(frozen=True)
class GetToken(DeviceMessage):
    MESSAGE_TYPE: ClassVar[str] = "GetToken"
    token_service_type: str
    token_parameters: dict[str, Any] | None = None

    @property
    def message_type(self) -> str:
        return self.MESSAGE_TYPE


@dataclass(frozen=True)
class DeclarativeManagement(DeviceMessage):
    """A DDM request; `data` is the (JSON) body the device attached, if any."""

    MESSAGE_TYPE: ClassVar[str] = "DeclarativeManagement"
    endpoint: str
    data: bytes | None = None

    @property
    def message_type(self) -> str:
        return self.MESSAGE_TYPE


@dataclass(frozen=True)
class OtherCheckIn(DeviceMessage):
    """Any other MessageType (UserAuthenticate, SetBootstrapToken, ...), identified but not interpreted."""

    message_type: str


CheckInMessage: TypeAlias = (
    Authenticate | TokenUpdate | CheckOut | GetToken | DeclarativeManagement | OtherCheckIn
)


def parse_checkin(body: bytes) -> CheckInMessage:
    """Parse a check-in body (XML or binary plist); raise `MalformedMessage` for anything else."""
    raw, fields = load_message(body)
    message_type = text_field(fields, "MessageType", required=True, pattern=MESSAGE_TYPE)
    assert message_type is not None
    identity = identity_of(fields)
    parser = _CHECKIN_PARSERS.get(message_type)
    if parser is None:
        return OtherCheckIn(identity, message_type, raw=raw, fields=fields)
    return parser(identity, fields, raw)


def _authenticate(identity: DeviceIdentity, fields: dict[str, Any], raw: bytes) -> Authenticate:
    return Authenticate(
        identity,
        _topic(fields),
        os_version=text_field(fields, "OSVersion"),
        build_version=text_field(fields, "BuildVersion"),
        product_name=text_field(fields, "ProductName"),
        serial_number=text_field(fields, "SerialNumber"),
        imei=text_field(fields, "IMEI"),
        meid=text_field(fields, "MEID"),
        model=text_field(fields, "Model"),
        model_name=text_field(fields, "ModelName"),
        device_name=text_field(fields, "DeviceName"),
        raw=raw,
        fields=fields,
    )


def _token_update(identity: DeviceIdentity, fields: dict[str, Any], raw: bytes) -> TokenUpdate:
    token = data_field(fields, "Token", required=True, limit=MAX_TOKEN_BYTES)
    push_magic = text_field(
        fields, "PushMagic", required=True, limit=MAX_PUSH_MAGIC_LENGTH, pattern=TOKEN_TEXT
    )
    assert token is not None and push_magic is not None
    unlock_token = data_field(fields, "UnlockToken", limit=MAX_STRING_BYTES)
    return TokenUpdate(
        identity,
        _topic(fields),
        token,
        push_magic,
        has_unlock_token=unlock_token is not None,
        awaiting_configuration=bool(flag_field(fields, "AwaitingConfiguration")),
        raw=raw,
        fields=fields,
    )


def _check_out(identity: DeviceIdentity, fields: dict[str, Any], raw: bytes) -> CheckOut:
    return CheckOut(identity, _topic(fields), raw=raw, fields=fields)


def _get_token(identity: DeviceIdentity, fields: dict[str, Any], raw: bytes) -> GetToken:
    service_type = text_field(fields, "TokenServiceType", required=True)
    assert service_type is not None
    parameters = fields.get("TokenParameters")
    if parameters is not None and not isinstance(parameters, dict):
        raise MalformedMessage(f"TokenParameters is {kind_of(parameters)}, not a dictionary")
    return GetToken(identity, service_type, parameters, raw=raw, fields=fields)


def _declarative_management(
    identity: DeviceIdentity, fields: dict[str, Any], raw: bytes
) -> DeclarativeManagement:
    endpoint = text_field(fields, "Endpoint", required=True)
    assert endpoint is not None
    # Data is JSON the device attaches (declaration status reports can be large): no 4 KB limit.
    data = data_field(fields, "Data", limit=None)
    return DeclarativeManagement(identity, endpoint, data, raw=raw, fields=fields)


_CHECKIN_PARSERS: dict[str, Callable[[DeviceIdentity, dict[str, Any], bytes], CheckInMessage]] = {
    "Authenticate": _authenticate,
    "TokenUpdate": _token_update,
    "CheckOut": _check_out,
    "GetToken": _get_token,
    "DeclarativeManagement": _declarative_management,
}


def _topic(fields: dict[str, Any]) -> str:
    topic = text_field(fields, "Topic", required=True, limit=MAX_TOPIC_LENGTH, pattern=TOKEN_TEXT)
    assert topic is not None
    return topic
