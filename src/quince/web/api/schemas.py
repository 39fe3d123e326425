"""PascalCase JSON shapes of the REST API, as Workspace ONE's v1 API spells them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.alias_generators import to_pascal

from quince.domain import users as user_rules
from quince.domain.errors import InvalidInput
from quince.domain.og_settings import ChildPermission, CurrentSetting
from quince.services.access import passwords
from quince.services.directory.user_groups import MAX_RANK, MIN_RANK

# Database ids are 32-bit; a larger number can name nothing, and PostgreSQL would reject it.
MAX_ID = 2_147_483_647

DbId = Annotated[int, Field(ge=1, le=MAX_ID)]


class ApiModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_pascal, populate_by_name=True, extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: object) -> object:
        # Databases cannot store NUL characters; refuse them here instead of failing deep down.
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("must not contain NUL characters")
        return value


class ApiError(BaseModel):
    """Every error the API answers with, spelled as Workspace ONE spells it."""

    errorCode: int
    message: str
    activityId: str = Field(description="Quote it to support: it is in the server's log too.")


class IdValue(ApiModel):
    value: int


class Reference(ApiModel):
    """How Workspace ONE points at another object: `{Id: {Value}, Name, Uuid}`."""

    id: IdValue
    name: str
    uuid: str


def wire_time(value: datetime) -> str:
    """Workspace ONE timestamps carry no zone; Quince's are UTC."""
    return value.replace(tzinfo=None).isoformat(timespec="milliseconds")


class Paged(ApiModel):
    page: int
    page_size: int
    total: int


class LocationGroup(ApiModel):
    id: IdValue
    uuid: str
    name: str
    group_id: str
    location_group_type: str
    country: str | None = None
    locale: str | None = None
    parent_location_group: Reference | None = None
    lg_level: int | None = None
    created_on: str
    users: str
    admins: str
    devices: str


class LocationGroupSearch(Paged):
    location_groups: list[LocationGroup]


class LocationGroupCreate(ApiModel):
    name: str = Field(max_length=100)
    group_id: str = Field(max_length=64)
    location_group_type: str = Field("Container", max_length=32)
    country: str | None = Field(None, max_length=64)
    locale: str | None = Field(None, max_length=16)


class LocationGroupUpdate(ApiModel):
    """Fields to change; a new ParentId moves the OG (only while it holds nothing)."""

    name: str | None = Field(None, max_length=100)
    group_id: str | None = Field(None, max_length=64)
    location_group_type: str | None = Field(None, max_length=32)
    parent_id: DbId | None = None
    country: str | None = Field(None, max_length=64)
    locale: str | None = Field(None, max_length=16)


class OrganizationGroupSetting(ApiModel):
    """A setting as seen at one OG: its effective value and where that value comes from."""

    name: str
    description: str
    value: bool | str
    current_setting: CurrentSetting
    child_permission: ChildPermission = Field(
        description="The permission this OG's children are bound by."
    )
    permission_from_parent: ChildPermission | None = Field(
        description="The permission this OG is bound by; null at the root."
    )
    source_location_group: Reference
    allowed_values: list[str]


class OrganizationGroupSettingUpdate(ApiModel):
    """`{"CurrentSetting": "Override", "Value": …, "ChildPermission": …}` to set a value here,
    or `{"CurrentSetting": "Inherit"}` to follow the parent again."""

    current_setting: CurrentSetting
    value: bool | Annotated[str, Field(max_length=64)] | None = None
    child_permission: str | None = Field(None, max_length=32)

    @model_validator(mode="after")
    def _value_only_with_override(self) -> OrganizationGroupSettingUpdate:
        if self.current_setting is CurrentSetting.OVERRIDE and self.value is None:
            raise ValueError("Value is required when CurrentSetting is Override")
        if self.current_setting is CurrentSetting.INHERIT and (
            self.value is not None or self.child_permission is not None
        ):
            raise ValueError("Value and ChildPermission go only with CurrentSetting Override")
        return self


class User(ApiModel):
    """An enrollment user; the password and its hash are never part of it."""

    id: IdValue
    uuid: str
    user_name: str
    email: str
    managed_apple_id: str
    first_name: str
    last_name: str
    status: bool = Field(description="True when the user is active.")
    location_group_id: int = Field(description="The user's enrollment organization group.")
    group: str = Field(description="The name of the enrollment organization group.")
    organization_group_uuid: str
    security_type: Literal["Basic"] = "Basic"
    created_on: str


class UserSearch(Paged):
    users: list[User]


class UserCreate(ApiModel):
    user_name: str = Field(max_length=user_rules.USERNAME_MAX_LENGTH)
    password: str | None = Field(None, max_length=passwords.MAX_LENGTH)
    email: str = Field(max_length=user_rules.EMAIL_MAX_LENGTH)
    managed_apple_id: str | None = Field(
        None, max_length=user_rules.EMAIL_MAX_LENGTH, description="Defaults to Email."
    )
    first_name: str = Field("", max_length=user_rules.NAME_MAX_LENGTH)
    last_name: str = Field("", max_length=user_rules.NAME_MAX_LENGTH)
    status: bool = True
    location_group_id: DbId = Field(description="The user's enrollment organization group.")


class EchoedFields(ApiModel):
    """Fields a GET returns that the server sets. An update accepts them, so a script can send
    back what it read with some fields changed (read-modify-write, as Workspace ONE scripts do):
    Id and Uuid must name the record in the address; the others are ignored."""

    id: IdValue | None = None
    uuid: str | None = Field(None, max_length=36)

    def check_names(self, record_id: int, record_uuid: str) -> None:
        """InvalidInput when the body's Id or Uuid names another record than the address."""
        if self.id is not None and self.id.value != record_id:
            raise InvalidInput("Id", f"Id {self.id.value} is not the record in the address ({record_id}).")
        if self.uuid is not None and self.uuid.lower() != record_uuid.lower():
            raise InvalidInput("Uuid", f"Uuid {self.uuid} is not the record in the address.")


class UserUpdate(EchoedFields):
    """Fields to change; a new LocationGroupId moves the user to that enrollment OG. What the
    server sets (Id, Uuid, Group, OrganizationGroupUuid, SecurityType, CreatedOn) may be sent back."""

    user_name: str | None = Field(None, max_length=user_rules.USERNAME_MAX_LENGTH)
    password: str | None = Field(None, max_length=passwords.MAX_LENGTH)
    email: str | None = Field(None, max_length=user_rules.EMAIL_MAX_LENGTH)
    managed_apple_id: str | None = Field(None, max_length=user_rules.EMAIL_MAX_LENGTH)
    first_name: str | None = Field(None, max_length=user_rules.NAME_MAX_LENGTH)
    last_name: str | None = Field(None, max_length=user_rules.NAME_MAX_LENGTH)
    status: bool | None = None
    location_group_id: DbId | None = None
    group: str | None = Field(None, max_length=100)
    organization_group_uuid: str | None = Field(None, max_length=36)
    security_type: str | None = Field(None, max_length=16)
    created_on: str | None = Field(None, max_length=64)


class UserGroup(ApiModel):
    id: IdValue
    uuid: str
    name: str
    description: str
    location_group_id: int
    members: int


class UserGroupSearch(Paged):
    user_groups: list[UserGroup]


class UserGroupCreate(ApiModel):
    name: str = Field(max_length=100)
    description: str = Field("", max_length=500)
    location_group_id: DbId


class UserGroupUpdate(EchoedFields):
    """Name and description; Id, Uuid, LocationGroupId and Members may be sent back as read (a
    group's organization group cannot change)."""

    name: str | None = Field(None, max_length=100)
    description: str | None = Field(None, max_length=500)
    location_group_id: int | None = None
    members: int | None = None


class UserGroupMapping(ApiModel):
    """A user group sends its members' devices to LocationGroup; rank 1 beats rank 2."""

    id: IdValue
    user_group_id: int
    location_group: Reference
    group_id: str
    rank: int


class UserGroupMappingCreate(ApiModel):
    location_group_id: DbId
    rank: int = Field(ge=MIN_RANK, le=MAX_RANK, description="1 is the best rank.")


class UserGroupMappingUpdate(ApiModel):
    rank: int = Field(ge=MIN_RANK, le=MAX_RANK, description="1 is the best rank.")


class EnrollmentPreview(ApiModel):
    """Where the user's device would enroll, or why it may not; every key is always present."""

    allowed: bool
    group_id: str | None
    location_group_id: Reference | None
    reason: str
    trace: list[str]
