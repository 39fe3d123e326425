"""Admins and API keys: turning REST credentials into a Scope."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from quince.domain.errors import Conflict, InvalidInput, NotFound
from quince.services import admins
from quince.services.admins import AuthenticationFailed
from quince.services.scope import Scope
from quince.store.models import AdminRow, ApiKeyRow, OrgGroupRow
from tests.integration.services.conftest import PASSWORD, Tenant


async def path_of(session: AsyncSession, og_id: int) -> str:
    row = await session.get(OrgGroupRow, og_id)
    assert row is not None
    return row.path


async def test_admin_and_key_at_the_same_og_give_that_subtree(
    session: AsyncSession, tenant: Tenant
) -> None:
    got = await admins.api_scope(session, "ACME-admin", PASSWORD, tenant.api_key)
    assert got == Scope(og_id=tenant.acme, path=await path_of(session, tenant.acme), can_write=True,
                        actor="admin 'acme-admin'")


async def test_a_key_below_the_admins_og_narrows_the_scope_to_the_key(
    session: AsyncSession, scope: Scope, tenant: Tenant
) -> None:
    _row, key = await admins.create_api_key(session, scope, og_id=tenant.sales)
    got = await admins.api_scope(session, "acme-admin", PASSWORD, key)
    assert (got.og_id, got.path) == (tenant.sales, await path_of(session, tenant.sales))


async def test_an_admin_below_the_keys_og_is_limited_to_their_own_subtree(
    session: AsyncSession, scope: Scope, tenant: Tenant
) -> None:
    await admins.add_admin(session, scope, username="sales-admin", password=PASSWORD, og_id=tenant.sales,
                           role="administrator")
    got = await admins.api_scope(session, "sales-admin", PASSWORD, tenant.api_key)
    assert got.og_id == tenant.sales


async def test_a_key_outside_the_admins_subtree_is_refused(
    session: AsyncSession, scope: Scope, tenant: Tenant
) -> None:
    _row, beta_key = await admins.create_api_key(session, scope, og_id=tenant.beta)
    with pytest.raises(AuthenticationFailed, match="outside your own"):
        await admins.api_scope(session, "acme-admin", PASSWORD, beta_key)
    _row, support_key = await admins.create_api_key(session, scope, og_id=tenant.support)
    await admins.add_admin(session, scope, username="sales-admin", password=PASSWORD, og_id=tenant.sales,
                           role="administrator")
    with pytest.raises(AuthenticationFailed):
        await admins.api_scope(session, "sales-admin", PASSWORD, support_key)


async def test_a_revoked_key_is_refused(session: AsyncSession, scope: Scope, tenant: Tenant) -> None:
    revoked = await admins.revoke_api_key(session, scope, tenant.api_key_id)
    assert revoked.revoked_at is not None
    with pytest.raises(AuthenticationFailed, match="aw-tenant-code"):
        await admins.api_scope(session, "acme-admin", PASSWORD, tenant.api_key)


async def test_an_unknown_key_is_refused(session: AsyncSession, tenant: Tenant) -> None:
    with pytest.raises(AuthenticationFailed, match="aw-tenant-code"):
        await admins.api_scope(session, "acme-admin", PASSWORD, "not-a-key")


async def test_a_wrong_password_is_refused_without_saying_which_part_was_wrong(
    session: AsyncSession, tenant: Tenant
) -> None:
    with pytest.raises(AuthenticationFailed) as wrong:
        await admins.api_scope(session, "acme-admin", "wrong-password", tenant.api_key)
    with pytest.raises(AuthenticationFailed) as unknown:
        await admins.api_scope(session, "nobody", PASSWORD, tenant.api_key)
    assert wrong.value.message == unknown.value.message == "The username or password is not correct."


async def test_an_inactive_admin_is_refused_even_with_the_right_password(
    session: AsyncSession, tenant: Tenant
) -> None:
    admin = await session.scalar(select(AdminRow).where(AdminRow.username == tenant.admin))
    assert admin is not None
    admin.active = False
    await session.flush()
    with pytest.raises(AuthenticationFailed):
        await admins.api_scope(session, "acme-admin", PASSWORD, tenant.api_key)


async def test_a_read_only_admin_gets_a_scope_that_cannot_write(
    session: AsyncSession, scope: Scope, tenant: Tenant
) -> None:
    await admins.add_admin(session, scope, username="viewer", password=PASSWORD, og_id=tenant.acme,
                           role="Read_Only")
    got = await admins.api_scope(session, "viewer", PASSWORD, tenant.api_key)
    assert got.og_id == tenant.acme
    assert got.can_write is False


async def test_the_verified_password_cache_still_refuses_wrong_passwords(
    session: AsyncSession, tenant: Tenant
) -> None:
    cache = admins.VerifiedPasswords()
    for _ in range(2):
        got = await admins.api_scope(session, "acme-admin", PASSWORD, tenant.api_key, cache)
        assert got.og_id == tenant.acme
    with pytest.raises(AuthenticationFailed):
        await admins.api_scope(session, "acme-admin", "wrong-password", tenant.api_key, cache)


async def test_api_keys_are_stored_only_as_hashes(session: AsyncSession, tenant: Tenant) -> None:
    row = await session.get(ApiKeyRow, tenant.api_key_id)
    assert row is not None
    assert tenant.api_key not in (row.key_hash, row.name)
    assert row.key_prefix == tenant.api_key[:6]


async def test_admin_passwords_are_argon2id(session: AsyncSession, tenant: Tenant) -> None:
    admin = await session.scalar(select(AdminRow).where(AdminRow.username == tenant.admin))
    assert admin is not None and admin.password_hash.startswith("$argon2id$")


async def test_admin_usernames_are_unique_ignoring_case_and_roles_are_checked(
    session: AsyncSession, scope: Scope, tenant: Tenant
) -> None:
    with pytest.raises(Conflict):
        await admins.add_admin(session, scope, username="ACME-Admin", password=PASSWORD, og_id=tenant.acme,
                               role="administrator")
    with pytest.raises(InvalidInput, match="Role must be one of"):
        await admins.add_admin(session, scope, username="x", password=PASSWORD, og_id=tenant.acme,
                               role="superuser")


async def test_listing_and_removing_admins_stays_in_scope(
    session: AsyncSession, scope: Scope, tenant: Tenant
) -> None:
    await admins.add_admin(session, scope, username="beta-admin", password=PASSWORD, og_id=tenant.beta,
                           role="administrator")
    acme_scope = await admins.api_scope(session, "acme-admin", PASSWORD, tenant.api_key)
    assert [a.username for a, _og in await admins.list_admins(session, acme_scope)] == ["acme-admin"]
    with pytest.raises(NotFound):
        await admins.remove_admin(session, acme_scope, "beta-admin")
    await admins.remove_admin(session, scope, "BETA-admin")
    assert [a.username for a, _og in await admins.list_admins(session, scope)] == ["acme-admin"]
