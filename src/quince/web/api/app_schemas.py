"""PascalCase JSON shapes of the app API (`/API/mam/apps…`, a device's apps, a user's VPP user),
as Workspace ONE's v1 API spells them."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from quince.domain.app_eligibility import (
    ADAM_ID_PATTERN,
    APP_NAME_MAX_LENGTH,
    BUNDLE_ID_MAX_LENGTH,
    BUNDLE_ID_PATTERN,
    MANIFEST_URL_MAX_LENGTH,
    MANIFEST_URL_PATTERN,
    MAX_LICENSES,
)
from quince.web.api.fields import Matches, Name, Text, WholeNumber
from quince.web.api.schemas import ApiInput, ApiModel, DbId, IdValue, Ignored, Paged, Reference, ws1_ignored

AppType = Literal["Public", "Internal", "Purchased"]
# Workspace ONE's DeviceType for iPhone and iPad.
APPLE_PLATFORM = 2


class ManagedDistribution(ApiModel):
    """Licence counts of a purchased app. `Burned` is Workspace ONE's v1 name for `Redeemed`."""

    purchased: int
    redeemed: int
    burned: int
    on_hold: int = 0
    available: int


class Application(ApiModel):
    """An app of an OG's catalog. `AppType` is Public (App Store), Internal (in-house) or
    Purchased (Apps and Books)."""

    id: IdValue
    uuid: str
    application_name: str
    bundle_id: str
    app_type: AppType
    platform: int = Field(APPLE_PLATFORM, description="2: Apple (Workspace ONE's DeviceType).")
    adam_id: str | None = Field(None, description="The App Store id (public and purchased apps).")
    manifest_url: str | None = Field(None, description="Where devices fetch an in-house app's manifest.")
    location_group_id: int = Field(description="The OG whose catalog holds the app.")
    organization_group_uuid: str
    device_based_licensing_enabled: bool | None = Field(
        None, description="Purchased apps: device-based licensing is enabled for the app. A "
                          "user-enrolled device still gets a user-based licence.")
    managed_distribution: ManagedDistribution | None = None
    created_on: str
    synced_on: str | None = None


class ApplicationSearch(Paged):
    """Workspace ONE's v1 search answer names the list `Application` (singular)."""

    application: list[Application]


BundleId = Annotated[str, Matches(
    f"^{BUNDLE_ID_PATTERN}$", "A bundle ID looks like com.example.app (letters, digits and '-', dotted)"
), Field(max_length=BUNDLE_ID_MAX_LENGTH, description="e.g. com.example.app")]


class _NewApp(ApiInput):
    application_name: Annotated[Name, Field(max_length=APP_NAME_MAX_LENGTH)]
    bundle_id: BundleId
    location_group_id: DbId = Field(description="The OG whose catalog takes the app.")


class PublicAppCreate(_NewApp):
    app_store_id: Annotated[str, Matches(
        f"^{ADAM_ID_PATTERN}$", "An App Store id (Adam ID) is a positive number such as 361309726"
    ), Field(description="The App Store id (Adam ID).")]


class InternalAppCreate(_NewApp):
    manifest_url: Annotated[str, Matches(
        f"^{MANIFEST_URL_PATTERN}$",
        "The manifest URL must be an https:// URL of a host name, without spaces or control characters",
    ), Field(max_length=MANIFEST_URL_MAX_LENGTH, description="An https:// URL of the app's manifest.")]


Licences = Annotated[int, Field(ge=0, le=MAX_LICENSES, description="Licences bought."), WholeNumber]


class PurchasedAppCreate(PublicAppCreate):
    purchased: Licences = 0
    redeemed: Annotated[Licences, Field(
        description="Licences already assigned; at most Purchased (422 else).")] = 0
    device_based_licensing_enabled: bool = False


class Assignment(ApiModel):
    """An app assigned to a user group or an OG (and the OGs below it)."""

    id: IdValue
    application_id: int
    user_group_id: int | None = None
    location_group_id: int | None = None
    target_name: str | None = Field(description="Null when the target is outside your "
                                                "organization groups.")
    mode: Literal["Automatic", "OnDemand"]
    created_on: str


class Assignments(ApiModel):
    assignments: list[Assignment]


AssignmentMode = Literal["Automatic", "OnDemand"]


class AssignToUserGroup(ApiInput):
    """Assign to a user group: its members' devices."""

    user_group_id: DbId
    mode: AssignmentMode = "Automatic"


class AssignToLocationGroup(ApiInput):
    """Assign to an OG: its devices and those of the OGs below it."""

    location_group_id: DbId
    mode: AssignmentMode = "Automatic"


AssignmentCreate = AssignToUserGroup | AssignToLocationGroup
"""`{"UserGroupId": n}` or `{"LocationGroupId": n}` (exactly one), with `Mode` Automatic (pushed
on enrollment) or OnDemand."""


class InstallOnDevice(ApiInput):
    """Install on one device. Workspace ONE scripts send the device's Udid, SerialNumber and
    MacAddress beside DeviceId: a Udid must be the device's; the hardware identifiers, which a
    user-enrolled device never reports, are ignored."""

    device_id: DbId
    udid: Annotated[Text, Field(max_length=128)] | None = None
    serial_number: Ignored = ws1_ignored("serial number (never known for a user-enrolled device)")
    mac_address: Ignored = ws1_ignored("MAC address (never known for a user-enrolled device)")


class InstallForUser(ApiInput):
    """Install on every enrolled device of a user."""

    user_id: DbId


InstallRequest = InstallOnDevice | InstallForUser
"""`{"DeviceId": n}` or `{"UserId": n}` (exactly one)."""


class DeviceApp(ApiModel):
    """Where one app stands on one device (Workspace ONE's DeviceApps entry, plus the reason)."""

    id: IdValue
    uuid: str = Field(description="The app's Uuid.")
    application_name: str
    application_identifier: str = Field(description="The bundle ID.")
    device_id: int
    status: str = Field(description="NotSupported, WaitingForVppUser, WaitingForLicense, "
                                    "InstallQueued, Installed, Failed or Removed.")
    status_reason: str = Field(description="Why, in words a helpdesk can pass on.")
    license_type: Literal["User", "Device"] | None
    is_managed: bool
    type: AppType
    app_store_vendable: bool = Field(description="True for Apps and Books (purchased) apps.")
    device_based_vpp: bool = Field(alias="DeviceBasedVPP",
                                   description="Always false on a user-enrolled device.")
    command_uuid: str | None = None
    updated_on: str


class DeviceApps(Paged):
    device_apps: list[DeviceApp]


class InstallResult(ApiModel):
    device_apps: list[DeviceApp]


class VppUser(ApiModel):
    """An enrollment user's Apps and Books user under one token; never the token itself."""

    client_user_id: str
    status: str = Field(description="Registering, Associated or Retired.")
    managed_apple_id: str
    last_error: str | None
    token_location_group: Reference | None = Field(
        description="The OG holding the token (null when it is outside your organization groups).")
    updated_on: str


class VppUsers(ApiModel):
    vpp_users: list[VppUser]

