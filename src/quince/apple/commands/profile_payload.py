"""The configuration profile inside an InstallProfile Payload (bytes, base64 or XML; signed or not)."""

from __future__ import annotations

from typing import Any

from quince.apple import cms
from quince.apple.commands.key_checks import bytes_or_base64
from quince.apple.errors import InvalidCommand, InvalidSignature
from quince.apple.plists import load_plist

MAX_PROFILE_BYTES = 16 * 1024 * 1024

_ASN1_SEQUENCE = 0x30


def check_payload(request_type: str, key: str, value: object) -> bytes:
    """The key check for a Payload: its bytes, which must hold a configuration profile."""
    payload = payload_bytes(request_type, key, value)
    profile_from_payload(payload, request_type)
    return payload


def payload_bytes(request_type: str, key: str, value: object) -> bytes:
    """A Payload's bytes: the .mobileconfig XML as text, or data (bytes or base64), at most 16 MiB."""
    if isinstance(value, str) and value.lstrip().startswith("<"):
        try:
            payload = value.encode("utf-8")  # the .mobileconfig XML itself
        except UnicodeEncodeError:
            raise InvalidCommand(request_type, f"{key} is text that is not valid Unicode", key) from None
    else:
        payload = bytes_or_base64(request_type, key, value)
    if len(payload) > MAX_PROFILE_BYTES:
        raise InvalidCommand(request_type, f"{key} is larger than {MAX_PROFILE_BYTES} bytes", key)
    return payload


def profile_from_payload(payload: bytes, request_type: str = "InstallProfile") -> dict[str, Any]:
    """The configuration profile inside an InstallProfile Payload, CMS-signed or not.

    The signature is not verified (the device does that); raise `InvalidCommand` if it is not a profile.
    """
    if not isinstance(payload, bytes | bytearray | memoryview) or not payload:
        raise InvalidCommand(request_type, "Payload is empty or not data", "Payload")
    content = bytes(payload)
    if content[0] == _ASN1_SEQUENCE:
        try:
            content = cms.signed_content(content)
        except InvalidSignature as exc:
            raise InvalidCommand(
                request_type, f"Payload is not a usable CMS SignedData ({exc.reason})", "Payload"
            ) from None
    profile = load_plist(
        content, lambda reason: InvalidCommand(request_type, f"Payload: {reason}", "Payload")
    )
    if not isinstance(profile, dict):
        raise InvalidCommand(request_type, "Payload is not a dictionary property list", "Payload")
    if profile.get("PayloadType") != "Configuration":
        raise InvalidCommand(
            request_type,
            "Payload is not a configuration profile (its PayloadType is not Configuration)",
            "Payload",
        )
    identifier = profile.get("PayloadIdentifier")
    if not isinstance(identifier, str) or not identifier.strip():
        raise InvalidCommand(request_type, "the profile in Payload has no PayloadIdentifier", "Payload")
    return profile
