"""Property lists from hostile bytes (`load_plist`, its tree checked) and plist values as JSON (`json_safe`).

Shared by the device messages, the command builders (profiles given by administrators) and the console.
"""

from __future__ import annotations

import base64
import datetime
import math
import plistlib
from collections.abc import Callable, Mapping
from typing import Any

MAX_DEPTH = 64
MAX_VALUES = 250_000

_SCALARS = (str, bytes, bool, int, float, datetime.datetime)


def load_plist(data: bytes, error: Callable[[str], Exception]) -> Any:
    """`plistlib.loads` for hostile bytes, with its tree checked; failures become `error(reason)`.

    Beyond plistlib: every dictionary key is a string, no UID values, at most `MAX_DEPTH` levels and
    `MAX_VALUES` values (a binary plist can reference one object many times, or itself, so a small
    body can stand for a huge tree).
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
