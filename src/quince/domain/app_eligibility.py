"""Which apps may go to which device, with which Apps and Books licence (DESIGN.md rule 6).

A user-enrolled device only takes Apps and Books (purchased) apps, always with a user-based licence
even when the app has device-based licensing enabled; public App Store and in-house apps are not
supported there, and the reason says what to do instead. Also the field rules of catalog entries.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from quince.domain.characters import CONTROL, WHITESPACE
from quince.domain.errors import InvalidInContext, InvalidInput


class AppKind(StrEnum):
    PUBLIC = "public"
    IN_HOUSE = "in_house"
    PURCHASED = "purchased"


class LicenseType(StrEnum):
    """Apps and Books licence types (`license_type_eligibility` 2 is user, 1 device)."""

    USER = "user"
    DEVICE = "device"


@dataclass(frozen=True)
class Eligible:
    """The app may be installed; purchased apps carry the licence type to use, others None."""

    license_type: LicenseType | None


@dataclass(frozen=True)
class NotSupported:
    """The app cannot go to this device; `reason` is fit to show a helpdesk as is."""

    reason: str


Eligibility = Eligible | NotSupported

PUBLIC_APP_ON_USER_ENROLLED = (
    "Public App Store apps cannot be installed on a user-enrolled device; assign the app "
    "through Apps and Books (user-based licence) instead."
)
IN_HOUSE_APP_ON_USER_ENROLLED = (
    "In-house apps cannot be installed on a user-enrolled device; only Apps and Books apps with "
    "a user-based licence can be."
)


def eligibility(
    app_kind: AppKind, *, device_is_user_enrolled: bool, device_licensing_enabled: bool
) -> Eligibility:
    """Whether an app of this kind may be installed on the device, and with which licence."""
    if device_is_user_enrolled:
        if app_kind is AppKind.PUBLIC:
            return NotSupported(PUBLIC_APP_ON_USER_ENROLLED)
        if app_kind is AppKind.IN_HOUSE:
            return NotSupported(IN_HOUSE_APP_ON_USER_ENROLLED)
        # Rule 6: the app's device-based licensing does not matter; the licence goes to the
        # user's Managed Apple ID.
        return Eligible(LicenseType.USER)
    if app_kind is AppKind.PURCHASED:
        return Eligible(LicenseType.DEVICE if device_licensing_enabled else LicenseType.USER)
    return Eligible(None)


# --- catalog entry fields -----------------------------------------------------------------------

APP_NAME_MAX_LENGTH = 255
BUNDLE_ID_MAX_LENGTH = 255
MANIFEST_URL_MAX_LENGTH = 1024
MAX_LICENSES = 10_000_000
# The REST API states these patterns, anchored, in its OpenAPI document.
BUNDLE_ID_PATTERN = r"[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"
# App Store ids (Adam IDs) are positive integers, up to 10 digits today; the column holds 32.
ADAM_ID_PATTERN = r"[1-9][0-9]{0,19}"
# https, a host name or IPv4 address, an optional port, then anything printable without spaces.
MANIFEST_URL_PATTERN = rf"https://[A-Za-z0-9.-]+(?::[0-9]{{1,5}})?(?:[/?#][^{WHITESPACE}{CONTROL}]*)?"
_BUNDLE_ID = re.compile(BUNDLE_ID_PATTERN)
_ADAM_ID = re.compile(ADAM_ID_PATTERN)
_MANIFEST_URL = re.compile(MANIFEST_URL_PATTERN)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def parse_kind(raw: str) -> AppKind:
    for kind in AppKind:
        if raw.strip().casefold() == kind.value:
            return kind
    allowed = ", ".join(k.value for k in AppKind)
    raise InvalidInput("Kind", f"An app kind is one of {allowed}, not {raw!r}.")


def validate_app_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise InvalidInput("ApplicationName", "The app name must not be empty.")
    if len(name) > APP_NAME_MAX_LENGTH or _CONTROL.search(name):
        raise InvalidInput(
            "ApplicationName",
            f"The app name must be at most {APP_NAME_MAX_LENGTH} characters, without control characters.",
        )
    return name


def validate_bundle_id(bundle_id: str) -> str:
    bundle_id = bundle_id.strip()
    if len(bundle_id) > BUNDLE_ID_MAX_LENGTH or not _BUNDLE_ID.fullmatch(bundle_id):
        raise InvalidInput(
            "BundleId", f"A bundle ID looks like com.example.app, not {bundle_id[:80]!r}."
        )
    return bundle_id


def validate_adam_id(adam_id: str) -> str:
    adam_id = adam_id.strip()
    if not _ADAM_ID.fullmatch(adam_id):
        raise InvalidInput(
            "AppStoreId", f"An App Store id (Adam ID) is a positive number such as 361309726, "
            f"not {adam_id[:40]!r}."
        )
    return adam_id


def validate_manifest_url(url: str) -> str:
    """In-house apps install from a manifest the device fetches over HTTPS (Apple requires it)."""
    url = url.strip()
    if len(url) > MANIFEST_URL_MAX_LENGTH or not _MANIFEST_URL.fullmatch(url):
        raise InvalidInput(
            "ManifestUrl", f"The manifest URL must be an https:// URL of at most "
            f"{MANIFEST_URL_MAX_LENGTH} characters, not {url[:80]!r}."
        )
    return url


def validate_license_counts(total: int, assigned: int) -> tuple[int, int]:
    if not 0 <= total <= MAX_LICENSES:
        raise InvalidInput("Purchased", f"Purchased licences must be between 0 and {MAX_LICENSES}.")
    if not 0 <= assigned <= total:
        error = InvalidInput if assigned < 0 else InvalidInContext  # above Purchased: a relation
        raise error("Redeemed", "Redeemed licences must be between 0 and the number purchased.")
    return total, assigned
