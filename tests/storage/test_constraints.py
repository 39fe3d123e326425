"""The constraints that back the services' checks. Services look first (and refuse with a
message); when two requests race past the same check, the database refuses the second write with
IntegrityError, which the REST API answers with 409. Foreign keys hold on SQLite too: the engine
turns them on for every connection (PRAGMA foreign_keys=ON)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from quince.domain.users import sign_in_name_key, username_key
from quince.services.directory import users
from quince.services.scope import Scope
from quince.store.models import AdminRow, Base, EnrollmentUserRow, OrgGroupRow, SignInNameRow


def _user(og_id: int, username: str) -> EnrollmentUserRow:
    return EnrollmentUserRow(username=username, username_key=username_key(username),
                             email=f"{username}@example.test", managed_apple_id=f"{username}@example.test",
                             og_id=og_id)


def _admin(og_id: int, username: str) -> AdminRow:
    return AdminRow(username=username, username_key=username_key(username), password_hash="x",
                    role="administrator", og_id=og_id)


def _og(parent_id: int, group_id: str) -> OrgGroupRow:
    return OrgGroupRow(name=group_id, group_id=group_id, group_id_key=group_id.casefold(),
                       type="Container", parent_id=parent_id, path="/")


def _sign_in_name(user_id: int, name: str) -> SignInNameRow:
    return SignInNameRow(name_key=sign_in_name_key(name), user_id=user_id)


FOLDED_KEYS: dict[str, tuple[Callable[[int, str], Base], str, str]] = {
    "enrollment usernames": (_user, "alice", "ALICE"),
    "admin usernames": (_admin, "root-admin", "Root-Admin"),
    "group ids": (_og, "acme", "ACME"),
}


@pytest.mark.parametrize("kind", FOLDED_KEYS)
async def test_a_folded_key_is_unique_so_names_that_differ_only_in_case_collide(
    session: AsyncSession, scope: Scope, kind: str
) -> None:
    make, name, shouted = FOLDED_KEYS[kind]
    session.add(make(scope.og_id, name))
    await session.flush()
    session.add(make(scope.og_id, shouted))
    with pytest.raises(IntegrityError):
        await session.flush()


async def test_a_sign_in_name_names_one_user_across_the_install(session: AsyncSession, scope: Scope) -> None:
    alice, bob = _user(scope.og_id, "alice"), _user(scope.og_id, "bob")
    session.add_all([alice, bob])
    await session.flush()
    session.add(_sign_in_name(alice.id, "Alice@Example.test"))
    await session.flush()
    session.add(_sign_in_name(bob.id, " alice@example.TEST"))
    with pytest.raises(IntegrityError):
        await session.flush()


async def test_a_referenced_row_cannot_be_deleted(session: AsyncSession, scope: Scope) -> None:
    session.add(_user(scope.og_id, "alice"))
    await session.commit()
    with pytest.raises(IntegrityError):  # enrollment_users.og_id is ON DELETE RESTRICT
        await session.execute(delete(OrgGroupRow).where(OrgGroupRow.id == scope.og_id))
    await session.rollback()
    assert await session.get(OrgGroupRow, scope.og_id) is not None


async def test_deleting_a_row_deletes_what_cascades_from_it(session: AsyncSession, scope: Scope) -> None:
    alice = await users.add(session, scope, username="alice", email="alice@example.test", og_id=scope.og_id)
    await session.commit()
    assert await session.scalar(select(func.count()).select_from(SignInNameRow)) == 2  # username, email
    await session.execute(delete(EnrollmentUserRow).where(EnrollmentUserRow.id == alice.id))
    await session.commit()
    assert await session.scalar(select(func.count()).select_from(SignInNameRow)) == 0


async def test_a_reference_to_a_missing_row_is_refused(session: AsyncSession) -> None:
    session.add(_user(987_654, "nobody-home"))
    with pytest.raises(IntegrityError):
        await session.flush()
