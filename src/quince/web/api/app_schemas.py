"""PascalCase JSON shapes of the app API (`/API/mam/apps…`, a device's apps, a user's VPP user),
as Workspace ONE's v1 API spells them."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from quince.domain.app_eligibility import (
    APP_NAME_MAX_LENGTH,
    BUNDLE_ID_MAX_LENGTH,
    MANIFEST_URL_MAX_LENGTH,
    MAX_LICENSES,
)
from quince.web.api.schemas import ApiModel, DbId, IdValue, Paged, Reference

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


class _NewApp(ApiModel):
    application_name: str = Field(min_length=1, max_length=APP_NAME_MAX_LENGTH)
    bundle_id: str = Field(min_length=1, max_length=BUNDLE_ID_MAX_LENGTH,
                           description="e.g. com.example.app")
    location_group_id: DbId = Field(description="The OG whose catalog takes the app.")


class PublicAppCreate(_NewApp):
    app_store_id: str = Field(min_length=1, max_length=20, description="The App Store id (Adam ID).")


class InternalAppCreate(_NewApp):
    manifest_url: str = Field(min_length=1, max_length=MANIFEST_URL_MAX_LENGTH,
                              description="An https:// URL of the app's manifest.")


class PurchasedAppCreate(PublicAppCreate):
    purchased: int = Field(0, ge=0, le=MAX_LICENSES, description="Licences bought.")
    redeemed: int = Field(0, ge=0, le=MAX_LICENSES, description="Licences already assigned.")
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


class AssignmentCreate(ApiModel):
    """`{"UserGroupId": n}` or `{"LocationGroupId": n}`, with `Mode` Automatic (pushed on
    enrollment) or OnDemand."""

    user_group_id: DbId | None = None
    location_group_id: DbId | None = None
    mode: Literal["Automatic", "OnDemand"] = "Automatic"

    @model_validator(mode="after")
    def _one_target(self) -> AssignmentCreate:
        if (self.user_group_id is None) == (self.location_group_id is None):
            raise ValueError("give exactly one of UserGroupId and LocationGroupId")
        return self


class InstallRequest(ApiModel):
    """`{"DeviceId": n}` for one device, or `{"UserId": n}` for every enrolled device of a user."""

    device_id: DbId | None = None
    user_id: DbId | None = None

    @model_validator(mode="after")
    def _one_target(self) -> InstallRequest:
        if (self.device_id is None) == (self.user_id is None):
            raise ValueError("give exactly one of DeviceId and UserId")
        return self


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

