"""Enrollment users: the people who enroll devices, each living in an enrollment OG."""

from __future__ import annotations

from dataclasses import dataclass, fields

from quince.domain.errors import Conflict, InvalidInput, NotFound
from quince.domain.users import (
    sign_in_name_key,
    username_key,
    validate_email,
    validate_person_name,
    validate_username,
)
from quince.services.access import passwords
from quince.services.directory import org_groups
from quince.services.scope import Scope
from quince.store import users as user_store
from quince.store.database import Db
from quince.store.models import EnrollmentUserRow, OrgGroupRow
from quince.store.paging import Page, PageRequest

ORDER_BY: tuple[str, ...] = tuple(user_store.ORDER_COLUMNS)
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


async def get(session: Db, scope: Scope, user_id: int) -> EnrollmentUserRow:
    row = await session.get(EnrollmentUserRow, user_id)
    og = await session.get(OrgGroupRow, row.og_id) if row is not None else None
    if row is None or og is None or not scope.covers(og.path):
        raise NotFound("User", user_id)
    return row


async def get_by_uuid(session: Db, scope: Scope, uuid: str) -> EnrollmentUserRow:
    """The user with this Uuid; NotFound if there is none in the scope."""
    row = await user_store.user_by_uuid(session, uuid)
    if row is None:
        raise NotFound("User", uuid)
    return await get(session, scope, row.id)


async def find_by_username(session: Db, username: str) -> EnrollmentUserRow | None:
    """Any user with this username, ignoring case, regardless of scope (for sign-in)."""
    return await user_store.user_by_name_key(session, username_key(username))


async def get_by_username(session: Db, scope: Scope, username: str) -> EnrollmentUserRow:
    row = await find_by_username(session, username)
    if row is None:
        raise NotFound("User", username)
    return await get(session, scope, row.id)


async def resolve_ref(session: Db, scope: Scope, ref: str) -> EnrollmentUserRow:
    """A user named by numeric id or username (what people type at the CLI)."""
    if ref.isdigit():
        try:
            return await get(session, scope, int(ref))
        except NotFound:
            pass
    return await get_by_username(session, scope, ref)


def _sign_in_names(row: EnrollmentUserRow) -> dict[str, str]:
    """The names `row` signs in with, by key, each with the field that gives it (for messages)."""
    named: dict[str, str] = {}
    for field, value in (("UserName", row.username), ("Email", row.email),
                         ("ManagedAppleId", row.managed_apple_id)):
        named.setdefault(sign_in_name_key(value), field)
    return named


async def _claim_sign_in_names(
    session: Db, row: EnrollmentUserRow, held: frozenset[str] = frozenset()
) -> None:
    """Make `row`'s sign-in names exactly its current ones (`held`: the ones it had). A name
    another user signs in with is refused before anything is written, with the same words
    wherever that user lives: saying more would tell one tenant's admin about another tenant's
    people (docs/security.md, "One name, one person")."""
    wanted = _sign_in_names(row)
    new = [key for key in wanted if key not in held]
    if new:
        with session.no_autoflush:  # `row` is written only once its names are known to be free
            taken = await user_store.first_name_taken(session, new, row.id)
        if taken is not None:
            raise Conflict(
                f"{wanted[taken]} {taken!r} is already the sign-in name of another user: a username, "
                "email address or managed Apple ID can sign in only one person."
            )
    session.add(row)
    await session.flush()  # `row` has its id
    gone = [key for key in held if key not in wanted]
    if gone:
        await user_store.drop_names(session, row.id, gone)
    if new:
        await user_store.add_names(session, row.id, new)


async def search(
    session: Db,
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
    column = user_store.ORDER_COLUMNS.get(order_by.lower())
    if column is None:
        raise InvalidInput("orderby", f"orderby must be one of {', '.join(user_store.ORDER_COLUMNS)}.")
    og = await org_groups.get(session, scope, og_id) if og_id is not None else None
    return await user_store.search(
        session, scope.path, page,
        contains={"username": username, "first_name": first_name, "last_name": last_name, "email": email},
        text=text, og_id=og.id if og is not None else None, active=active,
        order_column=column, descending=descending,
    )


async def add(
    session: Db,
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
    await _claim_sign_in_names(session, row)
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
    session: Db, scope: Scope, user_id: int, changes: UserChanges
) -> EnrollmentUserRow:
    scope.require_write()
    row = await get(session, scope, user_id)
    held = frozenset(_sign_in_names(row))
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
    await _claim_sign_in_names(session, row, held)
    await session.flush()
    return row


async def delete(session: Db, scope: Scope, user_id: int) -> None:
    """Delete a user who has no device records (those keep the history of who enrolled)."""
    scope.require_write()
    row = await get(session, scope, user_id)
    devices = await user_store.device_count(session, row.id)
    if devices:
        raise Conflict(
            f"User {row.username!r} has {devices} device record(s); deactivate the user instead, "
            "or remove the devices first."
        )
    await session.delete(row)
    await session.flush()


async def enrolled_device_counts(session: Db, user_ids: list[int]) -> dict[int, int]:
    """How many enrolled devices each user of a page has (the page's users are in scope)."""
    return await user_store.enrolled_device_counts(session, user_ids)


async def get_many(session: Db, scope: Scope, user_ids: list[int]) -> list[EnrollmentUserRow]:
    """Those of `user_ids` in scope, by username (the others are left out)."""
    return await user_store.users_within(session, list(dict.fromkeys(user_ids)), scope.path)


@dataclass(frozen=True)
class BulkOutcome:
    """What (de)activating a selection of users did."""

    changed: list[EnrollmentUserRow]
    unchanged: list[EnrollmentUserRow]
    """Already as asked."""
    missing: int
    """Selected users who are not (or no longer) in scope."""


async def set_active_many(session: Db, scope: Scope, user_ids: list[int], active: bool) -> BulkOutcome:
    """Activate or deactivate the selected users of `scope`; a deactivated user can no longer sign
    in to enroll, and their enrolled devices stay enrolled."""
    scope.require_write()
    wanted = list(dict.fromkeys(user_ids))
    rows = await user_store.users_within(session, wanted, scope.path)
    changed = [row for row in rows if row.active != active]
    for row in changed:
        row.active = active
    await session.flush()
    return BulkOutcome(changed, [row for row in rows if row not in changed], len(wanted) - len(rows))


async def og_of(session: Db, row: EnrollmentUserRow) -> OrgGroupRow:
    og = await session.get(OrgGroupRow, row.og_id)
    assert og is not None
    return og
