"""PascalCase JSON shapes of the REST API, as Workspace ONE's v1 API spells them."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator
from pydantic.alias_generators import to_pascal

from quince.domain.errors import InvalidInContext
from quince.domain.og_settings import SETTINGS, ChildPermission, CurrentSetting
from quince.domain.org_groups import GROUP_ID_MAX_LENGTH, GROUP_ID_PATTERN, NAME_MAX_LENGTH, OGType
from quince.web.api.fields import (
    AnyCase,
    Integer,
    Matches,
    Name,
    Text,
    Uuid,
    WholeNumber,
    one_of,
    spelled,
)

# Database ids are 32-bit; a larger number can name nothing, and PostgreSQL would reject it.
MAX_ID = 2_147_483_647

DbId = Annotated[int, Field(ge=1, le=MAX_ID), WholeNumber]

GroupId = Annotated[str, Matches(
    f"^{GROUP_ID_PATTERN}$", "Group ID: only letters A-Z and a-z, digits, '-', '_' and '.' are allowed"
), Field(max_length=GROUP_ID_MAX_LENGTH)]
OgName = Annotated[Name, Field(max_length=NAME_MAX_LENGTH)]
OgType = Annotated[str, AnyCase([t.value for t in OGType], "type")]
# Global is the root's type only.
NewOgType = Annotated[str, AnyCase([t.value for t in OGType if t is not OGType.GLOBAL], "LocationGroupType")]


class ApiModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_pascal, populate_by_name=True, extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: object) -> object:
        # Databases cannot store NUL characters; refuse them here instead of failing deep down.
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("must not contain NUL characters")
        return value


log = logging.getLogger("quince.api")


def ws1_ignored(what: str) -> Any:
    """A field Workspace ONE clients send that Quince has no use for: accepted (any JSON value)
    and ignored, so a script written for Workspace ONE runs unchanged; logged at debug."""
    return Field(None, description=f"Workspace ONE's {what}: accepted and ignored by Quince.")


# A value Workspace ONE clients send for a field Quince ignores: any JSON value.
Ignored = Annotated[Any, "ignored"]


class ApiInput(ApiModel):
    """A request body: JSON types are taken as the document states them (no "1" for 1, no 0 for
    false), so a request the document calls invalid is refused. Fields Workspace ONE clients
    send and Quince does not use are declared `Ignored` (listed in the document as such)."""

    model_config = ConfigDict(strict=True)

    @model_validator(mode="after")
    def _log_ignored(self) -> ApiInput:
        ignored = sorted(
            info.alias or name for name, info in type(self).model_fields.items()
            if "ignored" in info.metadata and name in self.model_fields_set
        )
        if ignored:
            log.debug("ignored Workspace ONE fields in %s: %s", type(self).__name__, ", ".join(ignored))
        return self


def ws1_boolean(value: object) -> object:
    """Workspace ONE's .NET binder takes "true" and "false" for a boolean; PowerShell scripts send them."""
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return value


# A boolean a client may also send as the string "true" or "false" (any case).
Ws1Boolean = Annotated[bool, BeforeValidator(ws1_boolean),
                       Field(json_schema_extra={"description": 'true or false; "true" and "false" too.'})]


class ApiError(BaseModel):
    """Every error the API answers with, spelled as Workspace ONE spells it."""

    errorCode: int
    message: str
    activityId: str = Field(description="Quote it to support: it is in the server's log too.")


class IdValue(ApiModel):
    model_config = ConfigDict(strict=True)  # sent back in bodies too (EchoedFields)

    value: Integer


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


class OrganizationGroupV2(ApiModel):
    """An organization group as Workspace ONE v2 shows one: `Id` is a plain number."""

    id: int
    uuid: str
    name: str
    group_id: str
    location_group_type: str
    country: str | None = None
    locale: str | None = None
    parent_location_group_uuid: str | None = None
    created_on: str
    users: str
    admins: str
    devices: str


class OrganizationGroupSearchV2(ApiModel):
    """v2's OG search (`Accept: application/json;version=2`): `OrganizationGroups` and
    `TotalResults`, with v1's paging keys."""

    organization_groups: list[OrganizationGroupV2]
    total_results: int
    page: int
    page_size: int


class LocationGroupCreate(ApiInput):
    name: OgName
    group_id: GroupId
    location_group_type: NewOgType = "Container"
    country: Annotated[Text, Field(max_length=64)] | None = None
    locale: Annotated[Text, Field(max_length=16)] | None = None
    add_default_location: Ignored = ws1_ignored("default location for the group")


class LocationGroupCreated(LocationGroup):
    """The new group, with its id again as `Value`: what Workspace ONE answers a create with, and
    what its clients read."""

    value: int


class LocationGroupUpdate(ApiInput):
    """Fields to change; a new ParentId moves the OG (only while it holds nothing)."""

    name: OgName | None = None
    group_id: GroupId | None = None
    location_group_type: NewOgType | None = None
    parent_id: DbId | None = None
    country: Annotated[Text, Field(max_length=64)] | None = None
    locale: Annotated[Text, Field(max_length=16)] | None = None


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


def _setting_values() -> list[str]:
    """What some setting takes as text: its words in any case, or its own pattern."""
    words = sorted({w for d in SETTINGS.values() for w in d.words})
    return [*(spelled(w, any_case=True) for w in words),
            *(d.pattern for d in SETTINGS.values() if d.pattern is not None)]


SettingText = Annotated[str, Matches(
    one_of(_setting_values()),
    "Value must be true or false, one of the setting's AllowedValues, or an app bundle ID",
), Field(max_length=64)]


class SettingOverride(ApiInput):
    """Set the value here; ChildPermission binds the OG's children (default: kept as it was, or
    InheritOrOverride for a new override). Which values fit depends on the setting (422 else):
    see its AllowedValues."""

    current_setting: Literal[CurrentSetting.OVERRIDE]
    value: bool | SettingText
    child_permission: Annotated[
        str, AnyCase([p.value for p in ChildPermission], "ChildPermission")
    ] | None = None


class SettingInherit(ApiInput):
    """Follow the parent's value again."""

    current_setting: Literal[CurrentSetting.INHERIT]


OrganizationGroupSettingUpdate = Annotated[
    SettingOverride | SettingInherit, Field(discriminator="current_setting")
]


class EchoedFields(ApiInput):
    """Fields a GET returns that the server sets. An update accepts them, so a script can send
    back what it read with some fields changed (read-modify-write, as Workspace ONE scripts do):
    Id and Uuid must name the record in the address; the others are ignored."""

    id: IdValue | None = None
    uuid: Uuid | None = None

    def check_names(self, record_id: int, record_uuid: str) -> None:
        """InvalidInContext when the body's Id or Uuid names another record than the address."""
        if self.id is not None and self.id.value != record_id:
            raise InvalidInContext(
                "Id", f"Id {self.id.value} is not the record in the address ({record_id}).")
        if self.uuid is not None and self.uuid.lower() != record_uuid.lower():
            raise InvalidInContext("Uuid", f"Uuid {self.uuid} is not the record in the address.")
