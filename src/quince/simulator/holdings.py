"""What a simulated iPhone holds: its hardware facts, the managed apps and the installed profiles."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509


@dataclass
class ManagedApp:
    identifier: str
    name: str
    version: str = "1.0"
    short_version: str = "1.0"
    management_flags: int = 0
    has_configuration: bool = False
    store_id: int | None = None


@dataclass
class InstalledProfile:
    plist: dict[str, Any]
    managed: bool  # installed by MDM (the enrollment profile is installed by the person)
    signer: x509.Certificate | None = None

    @property
    def identifier(self) -> str:
        return str(self.plist.get("PayloadIdentifier", ""))


@dataclass
class HardwareFacts:
    """What the iPhone knows about itself; the User Enrollment rules decide what it tells."""

    product_name: str = "iPhone16,2"
    model: str = "MU683"
    model_name: str = "iPhone"
    model_number: str = "MU683"
    os_version: str = "18.2.1"
    build_version: str = "22C161"
    device_name: str = "iPhone"
    capacity_gb: float = 238.3
    available_gb: float = 101.7
    battery_level: float = 0.81
    time_zone: str = "Europe/London"
    serial_number: str = field(default_factory=lambda: "F" + secrets.token_hex(5).upper()[:11])
    udid: str = field(default_factory=lambda: "00008130-" + secrets.token_hex(8).upper())
    imei: str = field(default_factory=lambda: "35" + "".join(str(secrets.randbelow(10)) for _ in range(13)))
    wifi_mac: str = field(default_factory=lambda: ":".join(secrets.token_hex(1) for _ in range(6)))
    bluetooth_mac: str = field(default_factory=lambda: ":".join(secrets.token_hex(1) for _ in range(6)))
    phone_number: str = "+44 7700 900123"
    personal_apps: tuple[tuple[str, str], ...] = (
        ("com.apple.mobilesafari", "Safari"),
        ("net.whatsapp.WhatsApp", "WhatsApp"),
        ("com.spotify.client", "Spotify"),
    )

    def hardware_identifiers(self) -> dict[str, Any]:
        """The keys a user-enrolled device must never report (rule 3)."""
        return {"UDID": self.udid, "SerialNumber": self.serial_number, "IMEI": self.imei,
                "WiFiMAC": self.wifi_mac, "BluetoothMAC": self.bluetooth_mac,
                "PhoneNumber": self.phone_number}

