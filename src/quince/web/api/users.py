"""/API/system/users: enrollment users, with Workspace ONE's action-style aliases."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Query, Response

from quince.domain import users as user_rules
from quince.services.directory import users
from quince.services.directory.users import UserChanges
from quince.services.scope import Scope
from quince.store.models import EnrollmentUserRow
from quince.web.api import errors
from quince.web.api.deps import Caller, IdPath, OgFilter, Paging, SortOrder, sort_descending
from quince.web.api.fields import AnyCase, Text
from quince.web.api.schemas import IdValue, wire_time
from quince.web.api.user_schemas import User, UserCreate, UserCreated, UserSearch, UserUpdate
from quince.web.deps import Db

router = APIRouter(prefix="/API/system/users", tags=["Users"], responses=errors.RESPONSES)


async def present(db: Db, rows: Sequence[EnrollmentUserRow]) -> list[User]:
    """Rows as the API's User, with their enrollment OG; never the password or its hash."""
    out = []
    for row in rows:
        og = await users.og_of(db, row)
        out.append(User(
            id=IdValue(value=row.id), uuid=row.uuid, user_name=row.username, email=row.email,
            managed_apple_id=row.managed_apple_id, first_name=row.first_name,
            last_name=row.last_name, status=row.active, location_group_id=og.id, group=og.name,
            organization_group_uuid=og.uuid, created_on=wire_time(row.created_at),
        ))
    return out


async def present_one(db: Db, row: EnrollmentUserRow) -> User:
    return (await present(db, [row]))[0]


@router.get("/search", response_model=UserSearch, responses=errors.UNPROCESSABLE)
async def search_users(
    db: Db,
    caller: Caller,
    paging: Paging,
    og: OgFilter,
    username: Annotated[Text | None, Query(max_length=user_rules.USERNAME_MAX_LENGTH)] = None,
    firstname: Annotated[Text | None, Query(max_length=user_rules.NAME_MAX_LENGTH)] = None,
    lastname: Annotated[Text | None, Query(max_length=user_rules.NAME_MAX_LENGTH)] = None,
    email: Annotated[Text | None, Query(max_length=user_rules.EMAIL_MAX_LENGTH)] = None,
    status: Annotated[bool | None, Query(description="true: active users, false: inactive")] = None,
    orderby: Annotated[Annotated[str, AnyCase(users.ORDER_BY, "orderby")], Query()] = "username",
    sortorder: SortOrder = None,
) -> UserSearch:
    """Users in your organization groups; text filters match part of the field, ignoring case."""
    page = await users.search(
        db, caller, paging, username=username, first_name=firstname, last_name=lastname,
        email=email, og_id=og, active=status, order_by=orderby,
        descending=sort_descending(sortorder),
    )
    return UserSearch(
        users=await present(db, page.items), page=page.page, page_size=page.page_size,
        total=page.total,
    )


@router.post("/adduser", response_model=UserCreated, status_code=201)
async def add_user(body: UserCreate, db: Db, caller: Caller) -> UserCreated:
    """Create a basic user in the enrollment organization group LocationGroupId. The answer is the
    user, with its id again as `Value` (what Workspace ONE answers)."""
    row = await users.add(
        db, caller, username=body.user_name, email=body.email, og_id=body.location_group_id,
        password=body.password, managed_apple_id=body.managed_apple_id,
        first_name=body.first_name, last_name=body.last_name, active=body.status,
    )
    await db.commit()
    user = await present_one(db, row)
    return UserCreated(**user.model_dump(), value=row.id)


@router.get("/{user_id:int}", response_model=User)
async def get_user(user_id: IdPath, db: Db, caller: Caller) -> User:
    return await present_one(db, await users.get(db, caller, user_id))


async def _update(db: Db, caller: Scope, user_id: int, changes: UserChanges,
                  body: UserUpdate | None = None) -> User:
    if body is not None:
        current = await users.get(db, caller, user_id)
        body.check_names(current.id, current.uuid)
    row = await users.update(db, caller, user_id, changes)
    await db.commit()
    return await present_one(db, row)


def _changes(body: UserUpdate) -> UserChanges:
    return UserChanges(
        username=body.user_name, email=body.email, managed_apple_id=body.managed_apple_id,
        first_name=body.first_name, last_name=body.last_name, password=body.password,
        active=body.status, og_id=body.location_group_id,
    )


@router.put("/{user_id:int}", response_model=User, responses=errors.UNPROCESSABLE)
async def update_user(user_id: IdPath, body: UserUpdate, db: Db, caller: Caller) -> User:
    """Change the given fields; a new LocationGroupId moves the user to that enrollment OG. The
    whole User as read may be sent back with some fields changed; an Id or Uuid of another user
    is refused with 422."""
    return await _update(db, caller, user_id, _changes(body), body)


@router.post("/{user_id:int}/update", response_model=User, responses=errors.UNPROCESSABLE)
async def update_user_alias(user_id: IdPath, body: UserUpdate, db: Db, caller: Caller) -> User:
    """Workspace ONE's spelling of `PUT /users/{id}`."""
    return await _update(db, caller, user_id, _changes(body), body)


@router.post("/{user_id:int}/activate", response_model=User)
async def activate_user(user_id: IdPath, db: Db, caller: Caller) -> User:
    return await _update(db, caller, user_id, UserChanges(active=True))


@router.post("/{user_id:int}/deactivate", response_model=User)
async def deactivate_user(user_id: IdPath, db: Db, caller: Caller) -> User:
    """An inactive user cannot enroll devices; their device records stay."""
    return await _update(db, caller, user_id, UserChanges(active=False))


async def _delete(db: Db, caller: Scope, user_id: int) -> Response:
    await users.delete(db, caller, user_id)
    await db.commit()
    return Response(status_code=204)


@router.delete("/{user_id:int}", status_code=204)
async def delete_user(user_id: IdPath, db: Db, caller: Caller) -> Response:
    """Delete a user who has no device records (deactivate the others)."""
    return await _delete(db, caller, user_id)


@router.delete("/{user_id:int}/delete", status_code=204)
async def delete_user_alias(user_id: IdPath, db: Db, caller: Caller) -> Response:
    """Workspace ONE's spelling of `DELETE /users/{id}`."""
    return await _delete(db, caller, user_id)
