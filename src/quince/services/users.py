"""Enrollment users: the people who enroll devices, each living in an enrollment OG."""

from __future__ import annotations

from dataclasses import dataclass, fields

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from quince.domain.errors import Conflict, InvalidInput, NotFound
from quince.domain.users import (
    username_key,
    validate_email,
    validate_person_name,
    validate_username,
)
from quince.services import org_groups, passwords
from quince.services.paging import Page, PageRequest, paginate
from quince.services.scope import Scope
from quince.store.models import DeviceRow, EnrollmentUserRow, OrgGroupRow

_ORDER_COLUMNS = {
    "id": EnrollmentUserRow.id,
    "username": EnrollmentUserRow.username_key,
    "email": EnrollmentUserRow.email,
    "firstname": EnrollmentUserRow.first_name,
    "lastname": EnrollmentUserRow.last_name,
}
ORDER_BY: tuple[str, ...] = tuple(_ORDER_COLUMNS)
"""The `orderby` keys a search takes (any case)."""


@dataclass(frozen=True)
class UserChanges:
    """Fields to set; None leaves a field as it is."""

    username: str | None = None
    email: str | None = None
    managed_apple_id: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    password: str | None = None
    active: bool | None = None
    og_id: int | None = None


def _in_scope(scope: Scope) -> ColumnElement[bool]:
    return EnrollmentUserRow.og_id.in_(scope.og_ids())


async def get(session: AsyncSession, scope: Scope, user_id: int) -> EnrollmentUserRow:
    row = await session.get(EnrollmentUserRow, user_id)
    og = await session.get(OrgGroupRow, row.og_id) if row is not None else None
    if row is None or og is None or not scope.covers(og.path):
        raise NotFound("User", user_id)
    return row


async def find_by_username(session: AsyncSession, username: str) -> EnrollmentUserRow | None:
    """Any user with this username, ignoring case, regardless of scope (for sign-in)."""
    row: EnrollmentUserRow | None = await session.scalar(
        select(EnrollmentUserRow).where(EnrollmentUserRow.username_key == username_key(username))
    )
    return row


async def get_by_username(session: AsyncSession, scope: Scope, username: str) -> EnrollmentUserRow:
    row = await find_by_username(session, username)
    if row is None:
        raise NotFound("User", username)
    return await get(session, scope, row.id)


async def resolve_ref(session: AsyncSession, scope: Scope, ref: str) -> EnrollmentUserRow:
    """A user named by numeric id or username (what people type at the CLI)."""
    if ref.isdigit():
        try:
            return await get(session, scope, int(ref))
        except NotFound:
            pass
    return await get_by_username(session, scope, ref)


async def search(
    session: AsyncSession,
    scope: Scope,
    page: PageRequest,
    *,
    username: str | None = None,
    first_name: str | None = None,
    last_name: str | None = None,
    email: str | None = None,
    og_id: int | None = None,
    active: bool | None = None,
    order_by: str = "username",
    descending: bool = False,
    text: str | None = None,
) -> Page[EnrollmentUserRow]:
    """Users in scope; text filters match part of the field, ignoring case (`text` matches any of
    username, email, managed Apple ID, first and last name)."""
    column = _ORDER_COLUMNS.get(order_by.lower())
    if column is None:
        raise InvalidInput("orderby", f"orderby must be one of {', '.join(_ORDER_COLUMNS)}.")
    stmt = select(EnrollmentUserRow).where(_in_scope(scope))
    for col, value in (
        (EnrollmentUserRow.username, username),
        (EnrollmentUserRow.first_name, first_name),
        (EnrollmentUserRow.last_name, last_name),
        (EnrollmentUserRow.email, email),
    ):
        if value:
            stmt = stmt.where(col.icontains(value, autoescape=True))
    if text:
        stmt = stmt.where(or_(*(
            col.icontains(text, autoescape=True)
            for col in (EnrollmentUserRow.username, EnrollmentUserRow.email,
                        EnrollmentUserRow.managed_apple_id, EnrollmentUserRow.first_name,
                        EnrollmentUserRow.last_name)
        )))
    if og_id is not None:
        og = await org_groups.get(session, scope, og_id)
        stmt = stmt.where(EnrollmentUserRow.og_id == og.id)
    if active is not None:
        stmt = stmt.where(EnrollmentUserRow.active.is_(active))
    stmt = stmt.order_by(column.desc() if descending else column.asc(), EnrollmentUserRow.id)
    return await paginate(session, stmt, page)


async def add(
    session: AsyncSession,
    scope: Scope,
    *,
    username: str,
    email: str,
    og_id: int,
    password: str | None = None,
    managed_apple_id: str | None = None,
    first_name: str = "",
    last_name: str = "",
    active: bool = True,
) -> EnrollmentUserRow:
    """A new basic user; the managed Apple ID defaults to the email address."""
    scope.require_write()
    username = validate_username(username)
    email = validate_email(email)
    if await find_by_username(session, username) is not None:
        raise Conflict(f"A user named {username!r} already exists (usernames ignore case).")
    og = await org_groups.get(session, scope, og_id)
    row = EnrollmentUserRow(
        username=username,
        username_key=username_key(username),
        email=email,
        managed_apple_id=validate_email(managed_apple_id, "ManagedAppleId")
        if managed_apple_id else email,
        first_name=validate_person_name(first_name, "FirstName"),
        last_name=validate_person_name(last_name, "LastName"),
        password_hash=passwords.hash_password(password) if password else None,
        active=active,
        og_id=og.id,
    )
    session.add(row)
    await session.flush()
    return row


def differs(row: EnrollmentUserRow, changes: UserChanges) -> bool:
    """True when applying `changes` would change the stored user (password compared by hash)."""
    current = {
        "username": row.username, "email": row.email, "managed_apple_id": row.managed_apple_id,
        "first_name": row.first_name, "last_name": row.last_name, "active": row.active,
        "og_id": row.og_id,
    }
    for f in fields(changes):
        value = getattr(changes, f.name)
        if value is None:
            continue
        if f.name == "password":
            if not passwords.verify_password(row.password_hash, value):
                return True
        elif current[f.name] != value:
            return True
    return False


async def update(
    session: AsyncSession, scope: Scope, user_id: int, changes: UserChanges
) -> EnrollmentUserRow:
    scope.require_write()
    row = await get(session, scope, user_id)
    if changes.username is not None:
        name = validate_username(changes.username)
        other = await find_by_username(session, name)
        if other is not None and other.id != row.id:
            raise Conflict(f"A user named {name!r} already exists (usernames ignore case).")
        row.username, row.username_key = name, username_key(name)
    if changes.email is not None:
        old_email, row.email = row.email, validate_email(changes.email)
        if changes.managed_apple_id is None and row.managed_apple_id == old_email:
            row.managed_apple_id = row.email
    if changes.managed_apple_id is not None:
        row.managed_apple_id = validate_email(changes.managed_apple_id, "ManagedAppleId")
    if changes.first_name is not None:
        row.first_name = validate_person_name(changes.first_name, "FirstName")
    if changes.last_name is not None:
        row.last_name = validate_person_name(changes.last_name, "LastName")
    if changes.password is not None:
        row.password_hash = passwords.hash_password(changes.password)
    if changes.active is not None:
        row.active = changes.active
    if changes.og_id is not None and changes.og_id != row.og_id:
        row.og_id = (await org_groups.get(session, scope, changes.og_id)).id
    await session.flush()
    return row


async def delete(session: AsyncSession, scope: Scope, user_id: int) -> None:
    """Delete a user who has no device records (those keep the history of who enrolled)."""
    scope.require_write()
    row = await get(session, scope, user_id)
    devices = await session.scalar(
        select(func.count()).where(DeviceRow.enrollment_user_id == row.id)
    )
    if devices:
        raise Conflict(
            f"User {row.username!r} has {devices} device record(s); deactivate the user instead, "
            "or remove the devices first."
        )
    await session.delete(row)
    await session.flush()


async def og_of(session: AsyncSession, row: EnrollmentUserRow) -> OrgGroupRow:
    og = await session.get(OrgGroupRow, row.og_id)
    assert og is not None
    return og
