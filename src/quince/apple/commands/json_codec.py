"""A Command through a JSON column and back: data as {"$data": base64}, dates as {"$date": ISO 8601}."""

from __future__ import annotations

import base64
import datetime
from collections.abc import Mapping
from typing import Any

_DATA_TAG = "$data"
_DATE_TAG = "$date"


def command_json(command: Mapping[str, Any]) -> dict[str, object]:
    """A Command as JSON for storage: data becomes {"$data": base64}, dates {"$date": ISO 8601}."""
    result = _to_json(command)
    assert isinstance(result, dict)
    return result


def command_from_json(stored: Mapping[str, Any]) -> dict[str, Any]:
    """The Command `command_json` stored, with its data and dates back (ready for `command_plist`)."""
    result = _from_json(stored)
    assert isinstance(result, dict)
    return result


def _to_json(value: object) -> object:
    if isinstance(value, bytes | bytearray | memoryview):
        return {_DATA_TAG: base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, datetime.datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=datetime.UTC)
        return {_DATE_TAG: aware.isoformat()}
    if isinstance(value, Mapping):
        return {str(k): _to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_to_json(v) for v in value]
    return value


def _from_json(value: object) -> object:
    if isinstance(value, Mapping):
        if len(value) == 1 and isinstance(tagged := value.get(_DATA_TAG), str):
            return base64.b64decode(tagged)
        if len(value) == 1 and isinstance(tagged := value.get(_DATE_TAG), str):
            # Back to the naive UTC datetime plistlib writes.
            return datetime.datetime.fromisoformat(tagged).astimezone(datetime.UTC).replace(tzinfo=None)
        return {k: _from_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_json(v) for v in value]
    return value
