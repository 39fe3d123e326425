"""Reading a device message: its body as a plist dictionary, and each key typed and bounded.

Anything wrong raises `MalformedMessage` with a readable reason.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from typing import Any

from quince.apple.errors import MalformedMessage
from quince.apple.plists import load_plist

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

# Printable ASCII without spaces: UDIDs, EnrollmentIDs and CommandUUIDs are hex, dashes and such.
ID = re.compile(rf"[\x21-\x7e]{{1,{MAX_ID_LENGTH}}}")
COMMAND_UUID = re.compile(rf"[\x21-\x7e]{{1,{MAX_COMMAND_UUID_LENGTH}}}")
MESSAGE_TYPE = re.compile(rf"[A-Za-z][A-Za-z0-9._-]{{0,{MAX_MESSAGE_TYPE_LENGTH - 1}}}")
TOKEN_TEXT = re.compile(r"[\x21-\x7e]+")

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


def load_message(body: object) -> tuple[bytes, dict[str, Any]]:
    """The exact body and its plist, which must be a dictionary."""
    if not isinstance(body, bytes | bytearray | memoryview):
        raise MalformedMessage("the body must be bytes")
    raw = bytes(body)
    if not raw.strip():
        raise MalformedMessage("the body is empty")
    value = load_plist(raw, MalformedMessage)
    if not isinstance(value, dict):
        raise MalformedMessage(f"the property list is {kind_of(value)}, not a dictionary")
    return raw, value


def text_field(
    fields: Mapping[str, Any],
    key: str,
    *,
    required: bool = False,
    limit: int = MAX_STRING_BYTES,
    pattern: re.Pattern[str] | None = None,
    where: str = "",
) -> str | None:
    """The string under `key` (None if absent and not required), at most `limit` bytes."""
    value = fields.get(key)
    if value is None:
        if required:
            raise MalformedMessage(f"{where}{key} is missing")
        return None
    if not isinstance(value, str):
        raise MalformedMessage(f"{where}{key} is {kind_of(value)}, not a string")
    if len(value) > limit or len(value.encode("utf-8", "surrogatepass")) > limit:
        raise MalformedMessage(f"{where}{key} is longer than {limit} bytes")
    if required and not value.strip():
        raise MalformedMessage(f"{where}{key} is empty")
    if pattern is not None and not pattern.fullmatch(value):
        raise MalformedMessage(f"{where}{key} is empty or has characters that are not allowed")
    return value


def data_field(
    fields: Mapping[str, Any], key: str, *, required: bool = False, limit: int | None
) -> bytes | None:
    """The data under `key` (None if absent and not required), at most `limit` bytes."""
    value = fields.get(key)
    if value is None:
        if required:
            raise MalformedMessage(f"{key} is missing")
        return None
    if not isinstance(value, bytes):
        raise MalformedMessage(f"{key} is {kind_of(value)}, not data")
    if required and not value:
        raise MalformedMessage(f"{key} is empty")
    if limit is not None and len(value) > limit:
        raise MalformedMessage(f"{key} is longer than {limit} bytes")
    return value


def flag_field(fields: Mapping[str, Any], key: str) -> bool | None:
    """The boolean under `key`, or None if absent."""
    value = fields.get(key)
    if value is not None and not isinstance(value, bool):
        raise MalformedMessage(f"{key} is {kind_of(value)}, not a boolean")
    return value


def kind_of(value: object) -> str:
    """What kind of plist value this is, for a message ("an integer", "a dictionary", ...)."""
    for kind, name in _PLIST_KINDS:
        if isinstance(value, kind):
            return name
    return f"a {type(value).__name__}"


def shown(text: str) -> str:
    """A device-sent string fit for a log line: quoted, cut short."""
    return repr(text[:40] + ("…" if len(text) > 40 else ""))
