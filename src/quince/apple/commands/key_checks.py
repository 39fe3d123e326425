"""Checks for the keys of a command: each takes (request type, key, value) and returns the value to send.

Each raises `InvalidCommand` naming the key and the rule; `building` says which key takes which check.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import re
from collections.abc import Callable, Mapping
from typing import Any

from quince.apple.commands.wording import listed, type_name
from quince.apple.errors import InvalidCommand, InvalidServiceURL
from quince.apple.plists import MAX_DEPTH
from quince.apple.urls import check_service_url

MAX_TEXT_LENGTH = 4096
MAX_IDENTIFIER_LENGTH = 255
MAX_LIST_ITEMS = 1000
MAX_PLIST_VALUES = 10_000  # in an app Configuration

# XML plists cannot carry these (plistlib refuses controls and lone surrogates; parsers refuse the
# two non-characters).
_UNWRITABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_IDENTIFIER = re.compile(rf"[^\s\x00-\x1f\x7f\ud800-\udfff\ufffe\uffff]{{1,{MAX_IDENTIFIER_LENGTH}}}")
_PIN = re.compile(r"[0-9]{6}")

Check = Callable[[str, str, object], Any]
"""A key check: (request type, key, value) -> the value to send, or `InvalidCommand`."""


def text(max_length: int = MAX_TEXT_LENGTH) -> Check:
    """A non-empty string of at most `max_length` characters that a plist can carry."""
    def check(request_type: str, key: str, value: object) -> str:
        if not isinstance(value, str):
            raise InvalidCommand(request_type, f"{key} must be a string, not {type_name(value)}", key)
        if not value.strip():
            raise InvalidCommand(request_type, f"{key} is empty", key)
        if len(value) > max_length:
            raise InvalidCommand(request_type, f"{key} is longer than {max_length} characters", key)
        if _UNWRITABLE.search(value):
            raise InvalidCommand(request_type, f"{key} contains control characters", key)
        return value

    return check


def identifier(request_type: str, key: str, value: object) -> str:
    """A bundle id, UUID or query name: 1 to 255 characters, no spaces or control characters."""
    if not isinstance(value, str):
        raise InvalidCommand(request_type, f"{key} must be a string, not {type_name(value)}", key)
    if not _IDENTIFIER.fullmatch(value):
        raise InvalidCommand(
            request_type,
            f"{key} must be 1 to {MAX_IDENTIFIER_LENGTH} characters without spaces or control characters",
            key,
        )
    return value


def identifiers(request_type: str, key: str, value: object) -> list[str]:
    """A non-empty array of identifiers, repeats dropped."""
    if isinstance(value, str | bytes) or not isinstance(value, list | tuple):
        raise InvalidCommand(request_type, f"{key} must be an array of strings, not {type_name(value)}", key)
    if not value:
        raise InvalidCommand(request_type, f"{key} is empty (leave it out instead)", key)
    if len(value) > MAX_LIST_ITEMS:
        raise InvalidCommand(request_type, f"{key} has more than {MAX_LIST_ITEMS} items", key)
    items = [identifier(request_type, f"{key} item {index}", item) for index, item in enumerate(value)]
    return list(dict.fromkeys(items))  # drop repeats, keep the order


def boolean(request_type: str, key: str, value: object) -> bool:
    """A true boolean (not 0 or 1)."""
    if not isinstance(value, bool):
        raise InvalidCommand(request_type, f"{key} must be a boolean, not {type_name(value)}", key)
    return value


def integer(request_type: str, key: str, value: object) -> int:
    """An integer (not a boolean)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidCommand(request_type, f"{key} must be an integer, not {type_name(value)}", key)
    return value


def store_id(request_type: str, key: str, value: object) -> int:
    """An App Store id: a positive 64-bit integer."""
    number = integer(request_type, key, value)
    if not 0 < number < 2**63:
        raise InvalidCommand(request_type, f"{key} must be a positive integer", key)
    return number


def one_of(*allowed: int | str) -> Check:
    """One of `allowed`, of the same type."""
    def check(request_type: str, key: str, value: object) -> int | str:
        if isinstance(value, bool) or value not in allowed or type(value) is not type(allowed[0]):
            shown = ", ".join(str(a) for a in allowed)
            raise InvalidCommand(request_type, f"{key} must be one of {shown}", key)
        assert isinstance(value, int | str)
        return value

    return check


def data(max_bytes: int) -> Check:
    """Non-empty data of at most `max_bytes`, given as bytes or base64 text."""
    def check(request_type: str, key: str, value: object) -> bytes:
        content = bytes_or_base64(request_type, key, value)
        if not content:
            raise InvalidCommand(request_type, f"{key} is empty", key)
        if len(content) > max_bytes:
            raise InvalidCommand(request_type, f"{key} is longer than {max_bytes} bytes", key)
        return content

    return check


def bytes_or_base64(request_type: str, key: str, value: object) -> bytes:
    """Bytes as given, or decoded from base64 text (whitespace ignored)."""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    if isinstance(value, str):
        try:
            return base64.b64decode("".join(value.split()), validate=True)
        except (binascii.Error, ValueError):
            raise InvalidCommand(request_type, f"{key} is not base64", key) from None
    raise InvalidCommand(
        request_type, f"{key} must be data (bytes or base64 text), not {type_name(value)}", key
    )


def manifest_url(request_type: str, key: str, value: object) -> str:
    """An in-house app's manifest URL, under the rules for URLs handed to a device."""
    if not isinstance(value, str):
        raise InvalidCommand(request_type, f"{key} must be a string, not {type_name(value)}", key)
    try:
        return check_service_url(value, key)
    except InvalidServiceURL as exc:
        raise InvalidCommand(request_type, f"{key} is not usable: {exc.rule}", key) from None


def options(request_type: str, key: str, value: object) -> dict[str, Any]:
    """InstallApplication Options: only PurchaseMethod (0 or 1)."""
    given = _mapping(request_type, key, value)
    unknown = sorted(k for k in given if k != "PurchaseMethod")
    if unknown:
        raise InvalidCommand(
            request_type, f"{key} has unknown keys {listed(unknown)} (it takes PurchaseMethod)", key
        )
    if "PurchaseMethod" in given:
        return {
            "PurchaseMethod": one_of(0, 1)(request_type, f"{key}.PurchaseMethod", given["PurchaseMethod"])
        }
    return {}


_ATTRIBUTE_CHECKS: dict[str, Check] = {
    "VPNUUID": identifier,
    "ContentFilterUUID": identifier,
    "DNSProxyUUID": identifier,
    "RelayUUID": identifier,
    "CellularSliceUUID": identifier,
    "AssociatedDomains": identifiers,
    "AssociatedDomainsEnableDirectDownloads": boolean,
    "Removable": boolean,
    "Hideable": boolean,
    "Lockable": boolean,
}


def attributes(request_type: str, key: str, value: object) -> dict[str, Any]:
    """InstallApplication Attributes: the keys Quince knows, each checked."""
    given = _mapping(request_type, key, value)
    unknown = sorted(k for k in given if k not in _ATTRIBUTE_CHECKS)
    if unknown:
        raise InvalidCommand(
            request_type,
            f"{key} has unknown keys {listed(unknown)} (it takes {', '.join(_ATTRIBUTE_CHECKS)})",
            key,
        )
    return {k: _ATTRIBUTE_CHECKS[k](request_type, f"{key}.{k}", v) for k, v in given.items()}


def _mapping(request_type: str, key: str, value: object) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise InvalidCommand(request_type, f"{key} must be a dictionary, not {type_name(value)}", key)
    if not all(isinstance(k, str) for k in value):
        raise InvalidCommand(request_type, f"{key} has keys that are not strings", key)
    return {k: v for k, v in value.items() if v is not None}


def plist_dictionary(request_type: str, key: str, value: object) -> dict[str, Any]:
    """An app Configuration: any property list values (JSON null is not one)."""
    if not isinstance(value, Mapping):
        raise InvalidCommand(request_type, f"{key} must be a dictionary, not {type_name(value)}", key)
    budget = [MAX_PLIST_VALUES]
    result = _plist_value(request_type, key, value, 1, budget)
    assert isinstance(result, dict)
    return result


def _plist_value(request_type: str, path: str, value: object, depth: int, budget: list[int]) -> Any:
    budget[0] -= 1
    if budget[0] < 0:
        raise InvalidCommand(request_type, f"{path.split('.')[0]} holds more than {MAX_PLIST_VALUES} values")
    if depth > MAX_DEPTH:
        raise InvalidCommand(request_type, f"{path} is nested more than {MAX_DEPTH} levels deep")
    if isinstance(value, str):
        if _UNWRITABLE.search(value):
            raise InvalidCommand(request_type, f"{path} contains control characters")
        return value
    if isinstance(value, bool | float | datetime.datetime | bytes):
        return value
    if isinstance(value, int):
        if not -(2**63) <= value < 2**64:
            raise InvalidCommand(request_type, f"{path} is an integer out of the 64-bit range")
        return value
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    if isinstance(value, Mapping):
        result = {}
        for k, v in value.items():
            if not isinstance(k, str) or _UNWRITABLE.search(k):
                raise InvalidCommand(request_type, f"{path} has a key that is not a printable string")
            result[k] = _plist_value(request_type, f"{path}.{k}", v, depth + 1, budget)
        return result
    if isinstance(value, list | tuple):
        return [_plist_value(request_type, f"{path}[{i}]", v, depth + 1, budget) for i, v in enumerate(value)]
    if value is None:
        raise InvalidCommand(request_type, f"{path} is null, which a property list cannot carry")
    raise InvalidCommand(request_type, f"{path} is {type_name(value)}, which a property list cannot carry")


def pin(request_type: str, key: str, value: object) -> str:
    """A DeviceLock PIN: six digits."""
    if not isinstance(value, str) or not _PIN.fullmatch(value):
        raise InvalidCommand(request_type, f"{key} must be six digits", key)
    return value
