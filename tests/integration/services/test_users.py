"""Enrollment users on stored data: unique usernames, managed Apple IDs, passwords, deletion."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from quince.domain.errors import Conflict, InvalidInput, NotFound
from quince.services.access import passwords
from quince.services.directory import user_groups, users
from quince.services.directory.users import UserChanges
from quince.services.scope import Scope
from quince.store.models import EnrollmentUserRow, UserGroupMemberRow
from quince.store.paging import PageRequest
from tests.integration.services.conftest import PASSWORD, Tenant, add_device, snapshot


@pytest.mark.parametrize("username", ["ALICE", "Alice", "alice"])
async def test_usernames_are_unique_ignoring_case_on_add(
    session: AsyncSession, scope: Scope, tenant: Tenant, username: str
) -> None:
    before = await snapshot(session)
    with pytest.raises(Conflict, match="already exists"):
        await users.add(session, scope, username=username, email="other@acme.example", og_id=tenant.sales)
    assert await snapshot(session) == before


async def test_usernames_are_unique_ignoring_case_on_rename(
    session: AsyncSession, scope: Scope, tenant: Tenant
) -> None:
    bob = await users.add(session, scope, username="bob", email="bob@acme.example", og_id=tenant.sales)
    await session.commit()
    before = await snapshot(session)
    with pytest.raises(Conflict, match="already exists"):
        await users.update(session, scope, bob.id, UserChanges(username="ALICE"))
    assert await snapshot(session) == before
    renamed = await users.update(session, scope, tenant.alice, UserChanges(username="Alice"))
    assert renamed.username == "Alice"


async def test_users_are_found_by_username_ignoring_case(
    session: AsyncSession, scope: Scope, tenant: Tenant
) -> None:
    assert (await users.get_by_username(session, scope, "ALICE")).id == tenant.alice
    assert (await users.find_by_username(session, "aLiCe")) is not None
    with pytest.raises(NotFound):
        await users.get_by_username(session, scope, "nobody")


async def test_the_managed_apple_id_defaults_to_the_email(
    session: AsyncSession, scope: Scope, tenant: Tenant
) -> None:
    alice = await users.get(session, scope, tenant.alice)
    assert alice.managed_apple_id == "alice@acme.example"


async def test_a_given_managed_apple_id_is_kept_and_validated(
    session: AsyncSession, scope: Scope, tenant: Tenant
) -> None:
    bob = await users.add(session, scope, username="bob", email="bob@acme.example", og_id=tenant.sales,
                          managed_apple_id="bob@appleid.acme.example")
    assert bob.managed_apple_id == "bob@appleid.acme.example"
    with pytest.raises(InvalidInput) as err:
        await users.add(session, scope, username="carol", email="carol@acme.example", og_id=tenant.sales,
                        managed_apple_id="carol")
    assert err.value.field == "ManagedAppleId"


async def test_the_managed_apple_id_follows_an_email_change_when_it_was_the_default(
    session: AsyncSession, scope: Scope, tenant: Tenant
) -> None:
    alice = await users.update(session, scope, tenant.alice, UserChanges(email="alice@new.example"))
    assert (alice.email, alice.managed_apple_id) == ("alice@new.example", "alice@new.example")


async def test_a_custom_managed_apple_id_stays_when_the_email_changes(
    session: AsyncSession, scope: Scope, tenant: Tenant
) -> None:
    await users.update(session, scope, tenant.alice, UserChanges(managed_apple_id="alice@appleid.example"))
    alice = await users.update(session, scope, tenant.alice, UserChanges(email="alice@new.example"))
    assert alice.managed_apple_id == "alice@appleid.example"


async def test_an_explicit_managed_apple_id_wins_over_following_the_email(
    session: AsyncSession, scope: Scope, tenant: Tenant
) -> None:
    alice = await users.update(session, scope, tenant.alice, UserChanges(
        email="alice@new.example", managed_apple_id="alice@appleid.example"
    ))
    assert alice.managed_apple_id == "alice@appleid.example"


async def test_passwords_are_stored_as_argon2id_and_never_plain(
    session: AsyncSession, scope: Scope, tenant: Tenant
) -> None:
    alice = await users.get(session, scope, tenant.alice)
    assert alice.password_hash is not None
    assert alice.password_hash.startswith("$argon2id$")
    assert PASSWORD not in alice.password_hash
    assert passwords.verify_password(alice.password_hash, PASSWORD)
    assert not passwords.verify_password(alice.password_hash, "wrong-password")
    every_value = repr(await snapshot(session))
    assert PASSWORD not in every_value


async def test_a_changed_password_is_hashed_again(
    session: AsyncSession, scope: Scope, tenant: Tenant
) -> None:
    old = (await users.get(session, scope, tenant.alice)).password_hash
    alice = await users.update(session, scope, tenant.alice, UserChanges(password="new-secret-42"))
    assert alice.password_hash != old
    assert alice.password_hash is not None and alice.password_hash.startswith("$argon2id$")
    assert "new-secret-42" not in alice.password_hash
    assert passwords.verify_password(alice.password_hash, "new-secret-42")
    assert not passwords.verify_password(alice.password_hash, PASSWORD)


async def test_short_passwords_are_refused(session: AsyncSession, scope: Scope, tenant: Tenant) -> None:
    with pytest.raises(InvalidInput, match="at least 8 characters"):
        await users.add(session, scope, username="bob", email="bob@acme.example", og_id=tenant.sales,
                        password="short")


async def test_a_user_without_a_password_stores_no_hash(
    session: AsyncSession, scope: Scope, tenant: Tenant
) -> None:
    bob = await users.add(session, scope, username="bob", email="bob@acme.example", og_id=tenant.sales)
    assert bob.password_hash is None


async def test_invalid_fields_are_refused_on_add(session: AsyncSession, scope: Scope, tenant: Tenant) -> None:
    before = await snapshot(session)
    with pytest.raises(InvalidInput, match="username must not contain"):
        await users.add(session, scope, username="bob smith", email="bob@acme.example", og_id=tenant.sales)
    with pytest.raises(InvalidInput, match="not an email address"):
        await users.add(session, scope, username="bob", email="bob", og_id=tenant.sales)
    with pytest.raises(NotFound):
        await users.add(session, scope, username="bob", email="bob@acme.example", og_id=99_999)
    assert await snapshot(session) == before


async def test_a_user_with_devices_cannot_be_deleted(
    session: AsyncSession, scope: Scope, tenant: Tenant
) -> None:
    await add_device(session, tenant.sales, tenant.alice)
    await session.commit()
    before = await snapshot(session)
    with pytest.raises(Conflict, match="1 device record"):
        await users.delete(session, scope, tenant.alice)
    assert await snapshot(session) == before


async def test_deleting_a_user_removes_their_memberships(
    session: AsyncSession, scope: Scope, tenant: Tenant
) -> None:
    await users.delete(session, scope, tenant.alice)
    await session.commit()
    assert await session.get(EnrollmentUserRow, tenant.alice) is None
    assert (await session.scalars(select(UserGroupMemberRow))).all() == []
    members = await user_groups.members(session, scope, tenant.sellers, PageRequest())
    assert members.total == 0


async def test_a_user_can_move_to_another_og_and_be_deactivated(
    session: AsyncSession, scope: Scope, tenant: Tenant
) -> None:
    alice = await users.update(session, scope, tenant.alice, UserChanges(og_id=tenant.support, active=False))
    assert (alice.og_id, alice.active) == (tenant.support, False)
    found = await users.search(session, scope, PageRequest(), active=False)
    assert [u.id for u in found.items] == [tenant.alice]
