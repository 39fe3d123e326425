"""/API/system/users/{uuid}: Workspace ONE v2's user paths, by Uuid, in v2's camelCase (pyws1uem
and the WS1 API admin toolbox call them with `Accept: application/json;version=2`)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Response
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from quince.services.directory import org_groups, users
from quince.services.directory.users import UserChanges
from quince.store.models import EnrollmentUserRow
from quince.web.api import errors
from quince.web.api.deps import Caller
from quince.web.api.fields import Text
from quince.web.api.schemas import Ignored, wire_time, ws1_boolean, ws1_ignored
from quince.web.api.user_schemas import EmailAddress, Password, PersonName, UserName
from quince.web.deps import Db

router = APIRouter(prefix="/API/system/users", tags=["Users"], responses=errors.RESPONSES)


class UserV2(BaseModel):
    """An enrollment user as Workspace ONE v2 shows one; never the password or its hash."""

    model_config = ConfigDict(extra="forbid")

    uuid: str
    userName: str
    firstName: str
    lastName: str
    displayName: str
    emailAddress: str
    managedAppleId: str
    status: bool
    securityType: str = "Basic"
    organizationGroupUuid: str
    enrollmentOrganizationGroupUuid: str
    createdOn: str


class UserUpdateV2(BaseModel):
    """Fields to change, in v2's names; `enrollmentOrganizationGroupUuid` moves the user."""

    model_config = ConfigDict(extra="forbid", strict=True)

    userName: UserName | None = None
    password: Password | None = None
    firstName: PersonName | None = None
    lastName: PersonName | None = None
    emailAddress: EmailAddress | None = None
    status: Annotated[bool, BeforeValidator(ws1_boolean)] | None = None
    enrollmentOrganizationGroupUuid: Annotated[Text, Field(max_length=36)] | None = None
    displayName: Ignored = ws1_ignored("display name (Quince shows first and last name)")
    phoneNumber: Ignored = ws1_ignored("phone number")
    externalId: Ignored = ws1_ignored("directory id")
    userPrincipalName: Ignored = ws1_ignored("user principal name")


async def _present(db: Db, row: EnrollmentUserRow) -> UserV2:
    og = await users.og_of(db, row)
    return UserV2(
        uuid=row.uuid, userName=row.username, firstName=row.first_name, lastName=row.last_name,
        displayName=f"{row.first_name} {row.last_name}".strip(), emailAddress=row.email,
        managedAppleId=row.managed_apple_id, status=row.active, organizationGroupUuid=og.uuid,
        enrollmentOrganizationGroupUuid=og.uuid, createdOn=wire_time(row.created_at),
    )


@router.get("/{user_uuid:uuid}", response_model=UserV2)
async def get_user_v2(user_uuid: UUID, db: Db, caller: Caller) -> UserV2:
    """A user by Uuid, in v2's shape."""
    return await _present(db, await users.get_by_uuid(db, caller, str(user_uuid)))


@router.put("/{user_uuid:uuid}", response_model=UserV2, responses=errors.UNPROCESSABLE)
async def update_user_v2(user_uuid: UUID, body: UserUpdateV2, db: Db, caller: Caller) -> UserV2:
    """Change the given fields of a user named by Uuid (v2's names)."""
    row = await users.get_by_uuid(db, caller, str(user_uuid))
    og_id = None
    if body.enrollmentOrganizationGroupUuid is not None:
        og_id = (await org_groups.get_by_uuid(db, caller, body.enrollmentOrganizationGroupUuid)).id
    row = await users.update(db, caller, row.id, UserChanges(
        username=body.userName, email=body.emailAddress, first_name=body.firstName,
        last_name=body.lastName, password=body.password, active=body.status, og_id=og_id))
    await db.commit()
    return await _present(db, row)


@router.delete("/{user_uuid:uuid}", status_code=204)
async def delete_user_v2(user_uuid: UUID, db: Db, caller: Caller) -> Response:
    """Delete a user named by Uuid who has no device records (deactivate the others)."""
    row = await users.get_by_uuid(db, caller, str(user_uuid))
    await users.delete(db, caller, row.id)
    await db.commit()
    return Response(status_code=204)
