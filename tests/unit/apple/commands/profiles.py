"""Configuration profiles for the command tests: a .mobileconfig of given payload types, signed or not."""

from __future__ import annotations

import plistlib
from typing import Any

from quince.apple import cms

from ..pki import device_identity


def mobileconfig(*payload_types: str, **top_level: Any) -> bytes:
    """A .mobileconfig with one payload of each type."""
    payloads = [
        {
            "PayloadType": payload_type,
            "PayloadIdentifier": f"com.example.payload.{index}",
            "PayloadUUID": f"00000000-0000-0000-0000-{index:012d}",
            "PayloadVersion": 1,
        }
        for index, payload_type in enumerate(payload_types)
    ]
    profile = {
        "PayloadType": "Configuration",
        "PayloadIdentifier": "com.example.profile",
        "PayloadUUID": "11111111-2222-3333-4444-555555555555",
        "PayloadVersion": 1,
        "PayloadDisplayName": "Work Wi-Fi",
        "PayloadContent": payloads,
        **top_level,
    }
    return plistlib.dumps(profile)


def signed(profile: bytes) -> bytes:
    identity = device_identity("rsa")
    return cms.sign(profile, identity.cert, identity.key)


WIFI_PROFILE = mobileconfig("com.apple.wifi.managed")
VPN_PROFILE = mobileconfig("com.apple.wifi.managed", "com.apple.vpn.managed")
