"""What Quince answers a device: a command to run (`command_plist`), or "unrecognized device"."""

from __future__ import annotations

import json
import plistlib
from collections.abc import Mapping
from typing import Any

from quince.apple.errors import InvalidCommand, MalformedMessage
from quince.apple.mdm_messages.fields import (
    COMMAND_UUID,
    MAX_COMMAND_UUID_LENGTH,
    kind_of,
    load_message,
    text_field,
)

COMMAND_CONTENT_TYPE = "application/xml"
UNRECOGNIZED_DEVICE_CODE = "com.apple.unrecognized.device"
UNRECOGNIZED_DEVICE_CONTENT_TYPE = "application/json"


def command_plist(command_uuid: str, command: Mapping[str, Any]) -> bytes:
    """The 200 body that delivers a command: `{CommandUUID, Command: {RequestType, ...}}` as XML."""
    request_type = command.get("RequestType") if isinstance(command, Mapping) else None
    if not isinstance(request_type, str) or not request_type:
        raise InvalidCommand("(unnamed)", "the command has no RequestType", "RequestType")
    if not isinstance(command_uuid, str) or not COMMAND_UUID.fullmatch(command_uuid):
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
    _, fields = load_message(body)
    command_uuid = text_field(fields, "CommandUUID", required=True, pattern=COMMAND_UUID)
    command = fields.get("Command")
    if not isinstance(command, dict):
        raise MalformedMessage(f"Command is {kind_of(command)}, not a dictionary")
    text_field(command, "RequestType", required=True, where="Command: ")
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
