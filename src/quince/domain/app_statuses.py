"""Where an app stands on a device, and where a user's Apps and Books user and licences stand at
Apple, as Quince records them (DESIGN.md rules 6 and 7). The values are stored and shown as is."""

from __future__ import annotations

from enum import StrEnum


class DeviceAppStatus(StrEnum):
    """Where one app stands on one device."""

    NOT_SUPPORTED = "NotSupported"
    """The rules refuse the app on this device (the reason says why); nothing was sent."""
    WAITING_FOR_VPP_USER = "WaitingForVppUser"
    WAITING_FOR_LICENSE = "WaitingForLicense"
    INSTALL_QUEUED = "InstallQueued"
    INSTALLED = "Installed"
    FAILED = "Failed"
    REMOVED = "Removed"


UNDER_WAY = frozenset({
    DeviceAppStatus.WAITING_FOR_VPP_USER, DeviceAppStatus.WAITING_FOR_LICENSE,
    DeviceAppStatus.INSTALL_QUEUED, DeviceAppStatus.INSTALLED,
})
"""Delivery is under way or done: a new assignment leaves such a device alone."""


class VppUserStatus(StrEnum):
    """An enrollment user's Apps and Books user under one token."""

    REGISTERING = "Registering"
    ASSOCIATED = "Associated"
    FAILED = "Failed"
    RETIRED = "Retired"


class VppLicenseStatus(StrEnum):
    """A user-based licence of one app, held (or not) by one Apps and Books user."""

    ASSOCIATING = "Associating"
    ASSOCIATED = "Associated"
    RELEASING = "Releasing"
    RELEASED = "Released"
    FAILED = "Failed"


HELD = frozenset({VppLicenseStatus.ASSOCIATING, VppLicenseStatus.ASSOCIATED, VppLicenseStatus.RELEASING})
"""Licences held at Apple (or being given, or being given back)."""


def parse_device_app_status(raw: str) -> DeviceAppStatus | None:
    """The status named `raw` (as stored), or None when no status is called that."""
    try:
        return DeviceAppStatus(raw)
    except ValueError:
        return None
