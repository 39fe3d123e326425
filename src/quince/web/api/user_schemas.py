"""PascalCase JSON shapes of the REST API's users, user groups and enrollment preview, as
Workspace ONE's v1 API spells them (the shared base types are in schemas.py)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from quince.domain import users as user_rules
from quince.services.access import passwords
from quince.services.directory.user_groups import MAX_RANK, MIN_RANK
from quince.web.api.fields import Integer, Matches, Name, PlainText, Text, WholeNumber
from quince.web.api.schemas import (
    ApiInput,
    ApiModel,
    DbId,
    EchoedFields,
    IdValue,
    Ignored,
    Paged,
    Reference,
    Ws1Boolean,
    ws1_ignored,
)

UserName = Annotated[str, Matches(
    f"^{user_rules.USERNAME_PATTERN}$", "The username must not contain spaces, slashes or control characters"
), Field(max_length=user_rules.USERNAME_MAX_LENGTH)]
# Quince's own rule, stated as a pattern: it is simpler than `format: email` (RFC 5321), which it
# would be wrong to claim (it takes "ü@例え.jp", which that format refuses).
EmailAddress = Annotated[str, Matches(
    f"^{user_rules.EMAIL_PATTERN}$", "is not an email address (name@domain, without spaces)"
), Field(max_length=user_rules.EMAIL_MAX_LENGTH)]
PersonName = Annotated[PlainText, Field(max_length=user_rules.NAME_MAX_LENGTH)]


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


Password = Annotated[Text, Field(min_length=passwords.MIN_LENGTH, max_length=passwords.MAX_LENGTH)]


class _Ws1UserFields(ApiInput):
    """What Workspace ONE's user create and update carry that a User Enrollment server does not use."""

    security_type: Ignored = ws1_ignored("SecurityType (Quince's users are Basic users)")
    contact_number: Ignored = ws1_ignored("contact number")
    mobile_number: Ignored = ws1_ignored("mobile number")
    role: Ignored = ws1_ignored("self-service role")
    message_type: Ignored = ws1_ignored("enrollment message type")
    message_template_id: Ignored = ws1_ignored("enrollment message template")
    staging_mode: Ignored = ws1_ignored("device staging mode")
    device_staging_enabled: Ignored = ws1_ignored("device staging switch")


class UserCreate(_Ws1UserFields):
    user_name: UserName
    password: Password | None = None
    email: EmailAddress
    managed_apple_id: EmailAddress | None = Field(None, description="Defaults to Email.")
    first_name: PersonName = ""
    last_name: PersonName = ""
    status: Ws1Boolean = True
    location_group_id: DbId = Field(description="The user's enrollment organization group.")
    group: Ignored = ws1_ignored("Group (the enrollment organization group's name; LocationGroupId decides)")


class UserCreated(User):
    """The new user, with its id again as `Value` (as Workspace ONE answers)."""

    value: int


class UserUpdate(EchoedFields, _Ws1UserFields):
    """Fields to change; a new LocationGroupId moves the user to that enrollment OG. What the
    server sets (Id, Uuid, Group, OrganizationGroupUuid, SecurityType, CreatedOn) may be sent back."""

    user_name: UserName | None = None
    password: Password | None = None
    email: EmailAddress | None = None
    managed_apple_id: EmailAddress | None = None
    first_name: PersonName | None = None
    last_name: PersonName | None = None
    status: Ws1Boolean | None = None
    location_group_id: DbId | None = None
    group: Annotated[Text, Field(max_length=100)] | None = None
    organization_group_uuid: Annotated[Text, Field(max_length=36)] | None = None
    created_on: Annotated[Text, Field(max_length=64)] | None = None


class UserGroup(ApiModel):
    id: IdValue
    uuid: str
    name: str
    description: str
    location_group_id: int
    members: int


class UserGroupSearch(Paged):
    """Workspace ONE v1 answers user groups as `ResultSet`; `UserGroups` is Quince's earlier name
    for the same list, kept for scripts written against it."""

    result_set: list[UserGroup]
    user_groups: list[UserGroup]


UserGroupName = Annotated[Name, Field(max_length=100)]
Description = Annotated[Text, Field(max_length=500)]


class UserGroupCreate(ApiInput):
    name: UserGroupName
    description: Description = ""
    location_group_id: DbId


class UserGroupUpdate(EchoedFields):
    """Name and description; Id, Uuid, LocationGroupId and Members may be sent back as read (a
    group's organization group cannot change)."""

    name: UserGroupName | None = None
    description: Description | None = None
    location_group_id: Integer | None = None
    members: Integer | None = None


Rank = Annotated[int, Field(ge=MIN_RANK, le=MAX_RANK, description="1 is the best rank."), WholeNumber]


class UserGroupMapping(ApiModel):
    """A user group sends its members' devices to LocationGroup; rank 1 beats rank 2."""

    id: IdValue
    user_group_id: int
    location_group: Reference
    group_id: str
    rank: int


class UserGroupMappingCreate(ApiInput):
    location_group_id: DbId
    rank: Rank


class UserGroupMappingUpdate(ApiInput):
    rank: Rank


class EnrollmentPreview(ApiModel):
    """Where the user's device would enroll, or why it may not; every key is always present."""

    allowed: bool
    group_id: str | None
    location_group_id: Reference | None
    reason: str
    trace: list[str]
