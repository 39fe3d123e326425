"""The MachineInfo body of the account-driven enrollment POST (reference §5, steps 4 and 7).

A device sends a plist with LANGUAGE, PRODUCT and VERSION, wrapped in a CMS SignedData made with its
built-in identity (Content-Type `application/pkcs7-signature`); Apple's example shows the bare plist,
so both are accepted. The typed value keeps only what a user-enrolled device may tell Quince: no
UDID, serial number, IMEI or MEID ever reaches Quince's records from here.
"""

from __future__ import annotations

import plistlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509

from quince.apple import cms
from quince.apple.errors import InvalidSignature, MalformedMachineInfo

CONTENT_TYPE = "application/pkcs7-signature"
# Keys that identify the hardware; a user enrollment must not store them (DESIGN.md rule 3).
HARDWARE_IDENTIFIER_KEYS = frozenset({"UDID", "SERIAL", "IMEI", "MEID", "DEVICE_ID"})
_TYPED_KEYS = {
    "LANGUAGE": "language",
    "PRODUCT": "product",
    "VERSION": "version",
    "OS_VERSION": "os_version",
    "SOFTWARE_VERSION": "software_version",
}
_ASN1_SEQUENCE = 0x30


@dataclass(frozen=True)
class MachineInfo:
    """What Quince may keep about the enrolling device; `version` is the OS build (e.g. 22C161)."""

    language: str | None = None
    product: str | None = None
    version: str | None = None
    os_version: str | None = None
    software_version: str | None = None

    def as_record(self) -> dict[str, str]:
        """The present fields under Apple's key names, ready to store with the enrollment session."""
        return {key: value for key, attr in _TYPED_KEYS.items() if (value := getattr(self, attr)) is not None}


@dataclass(frozen=True)
class MachineInfoMessage:
    """A parsed MachineInfo body: the typed `info`, everything the device sent, and who signed it.

    `raw` may hold hardware identifiers; keep it out of storage and logs (use `redacted()`).
    """

    info: MachineInfo
    raw: Mapping[str, Any] = field(repr=False)
    signer_certificate: x509.Certificate | None = field(default=None, repr=False, compare=False)

    @property
    def signed(self) -> bool:
        return self.signer_certificate is not None

    def redacted(self) -> dict[str, Any]:
        """`raw` without the hardware identifiers."""
        return {key: value for key, value in self.raw.items() if key.upper() not in HARDWARE_IDENTIFIER_KEYS}


def parse_machine_info(body: bytes, *, verify_signature: bool = True) -> MachineInfoMessage:
    """Parse a CMS-signed or bare MachineInfo plist; raise `MalformedMachineInfo` for anything else.

    With `verify_signature` the CMS signature must check against the certificate it carries (the
    device's built-in identity); whether that certificate chains to Apple is not checked here.
    """
    if not isinstance(body, bytes | bytearray | memoryview):
        raise MalformedMachineInfo("the body must be bytes")
    data = bytes(body)
    if not data.strip():
        raise MalformedMachineInfo("the body is empty")
    signer: x509.Certificate | None = None
    if data[0] == _ASN1_SEQUENCE:
        try:
            if verify_signature:
                data, signer = cms.verify_attached(data)
            else:
                data = cms.signed_content(data)
        except InvalidSignature as exc:
            raise MalformedMachineInfo(f"it is not a valid CMS SignedData ({exc.reason})") from None
    raw = _load_plist(data)
    return MachineInfoMessage(info=_typed(raw), raw=raw, signer_certificate=signer)


def _load_plist(data: bytes) -> dict[str, Any]:
    try:
        value = plistlib.loads(data)
    except Exception as exc:
        # plistlib reports bad input as InvalidFileException, ExpatError, ValueError, TypeError,
        # OverflowError, ... depending on the format; all of them mean "not a plist".
        raise MalformedMachineInfo(f"the content is not a property list ({type(exc).__name__})") from None
    if not isinstance(value, dict):
        raise MalformedMachineInfo(f"the property list is a {type(value).__name__}, not a dictionary")
    if not all(isinstance(key, str) for key in value):
        raise MalformedMachineInfo("the property list has keys that are not strings")
    return value


def _typed(raw: Mapping[str, Any]) -> MachineInfo:
    values: dict[str, str] = {}
    for key, attr in _TYPED_KEYS.items():
        value = raw.get(key)
        if value is None:
            continue
        if not isinstance(value, str):
            raise MalformedMachineInfo(f"{key} is a {type(value).__name__}, not a string")
        values[attr] = value
    return MachineInfo(**values)
