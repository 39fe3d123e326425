"""Admins and API keys: turning REST credentials into a Scope."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from quince.config import Settings
from quince.domain.errors import Conflict, InvalidInput, NotFound
from quince.services.access import admin_sessions, admins
from quince.services.access.admins import AuthenticationFailed
from quince.services.access.sign_in_throttle import Throttled
from quince.services.access.sign_in_throttle import from_settings as throttle_of
from quince.services.scope import Scope
from quince.store.models import AdminRow, ApiKeyRow, OrgGroupRow
from tests.integration.services.conftest import PASSWORD, Tenant

THROTTLE = throttle_of(Settings())


async def api_scope(session: AsyncSession, username: str, password: str, key: str,
                    cache: admins.VerifiedPasswords | None = None, address: str = "10.0.0.1") -> Scope:
    return await admins.api_scope(session, username, password, key, cache, address=address,
                                  throttle=THROTTLE)


async def path_of(session: AsyncSession, og_id: int) -> str:
    row = await session.get(OrgGroupRow, og_id)
    assert row is not None
    return row.path


async def test_admin_and_key_at_the_same_og_give_that_subtree(
    session: AsyncSession, tenant: Tenant
) -> None:
    got = await api_scope(session, "ACME-admin", PASSWORD, tenant.api_key)
    assert got == Scope(og_id=tenant.acme, path=await path_of(session, tenant.acme), can_write=True,
                        actor="admin 'acme-admin'")


async def test_a_key_below_the_admins_og_narrows_the_scope_to_the_key(
    session: AsyncSession, scope: Scope, tenant: Tenant
) -> None:
    _row, key = await admins.create_api_key(session, scope, og_id=tenant.sales)
    got = await api_scope(session, "acme-admin", PASSWORD, key)
    assert (got.og_id, got.path) == (tenant.sales, await path_of(session, tenant.sales))


async def test_an_admin_below_the_keys_og_is_limited_to_their_own_subtree(
    session: AsyncSession, scope: Scope, tenant: Tenant
) -> None:
    await admins.add_admin(session, scope, username="sales-admin", password=PASSWORD, og_id=tenant.sales,
                           role="administrator")
    got = await api_scope(session, "sales-admin", PASSWORD, tenant.api_key)
    assert got.og_id == tenant.sales


async def test_a_key_outside_the_admins_subtree_is_refused(
    session: AsyncSession, scope: Scope, tenant: Tenant
) -> None:
    _row, beta_key = await admins.create_api_key(session, scope, og_id=tenant.beta)
    with pytest.raises(AuthenticationFailed) as refused:
        await api_scope(session, "acme-admin", PASSWORD, beta_key)
    assert refused.value.message == AuthenticationFailed.MESSAGE
    assert "outside the admin's subtree" in refused.value.reason
    _row, support_key = await admins.create_api_key(session, scope, og_id=tenant.support)
    await admins.add_admin(session, scope, username="sales-admin", password=PASSWORD, og_id=tenant.sales,
                           role="administrator")
    with pytest.raises(AuthenticationFailed):
        await api_scope(session, "sales-admin", PASSWORD, support_key)


async def test_a_revoked_key_is_refused(session: AsyncSession, scope: Scope, tenant: Tenant) -> None:
    revoked = await admins.revoke_api_key(session, scope, tenant.api_key_id)
    assert revoked.revoked_at is not None
    with pytest.raises(AuthenticationFailed) as refused:
        await api_scope(session, "acme-admin", PASSWORD, tenant.api_key)
    assert "not an active API key" in refused.value.reason


async def test_an_unknown_key_is_refused(session: AsyncSession, tenant: Tenant) -> None:
    with pytest.raises(AuthenticationFailed) as refused:
        await api_scope(session, "acme-admin", PASSWORD, "not-a-key")
    assert "not an active API key" in refused.value.reason


async def test_a_wrong_password_is_refused_without_saying_which_part_was_wrong(
    session: AsyncSession, tenant: Tenant
) -> None:
    with pytest.raises(AuthenticationFailed) as wrong:
        await api_scope(session, "acme-admin", "wrong-password", tenant.api_key)
    with pytest.raises(AuthenticationFailed) as unknown:
        await api_scope(session, "nobody", PASSWORD, tenant.api_key)
    assert wrong.value.message == unknown.value.message == AuthenticationFailed.MESSAGE
    assert "wrong password" in wrong.value.reason and "nobody" not in unknown.value.reason


async def test_an_inactive_admin_is_refused_even_with_the_right_password(
    session: AsyncSession, tenant: Tenant
) -> None:
    admin = await session.scalar(select(AdminRow).where(AdminRow.username == tenant.admin))
    assert admin is not None
    admin.active = False
    await session.flush()
    with pytest.raises(AuthenticationFailed):
        await api_scope(session, "acme-admin", PASSWORD, tenant.api_key)


async def test_a_read_only_admin_gets_a_scope_that_cannot_write(
    session: AsyncSession, scope: Scope, tenant: Tenant
) -> None:
    await admins.add_admin(session, scope, username="viewer", password=PASSWORD, og_id=tenant.acme,
                           role="Read_Only")
    got = await api_scope(session, "viewer", PASSWORD, tenant.api_key)
    assert got.og_id == tenant.acme
    assert got.can_write is False


async def test_the_verified_password_cache_still_refuses_wrong_passwords(
    session: AsyncSession, tenant: Tenant
) -> None:
    cache = admins.VerifiedPasswords()
    for _ in range(2):
        got = await api_scope(session, "acme-admin", PASSWORD, tenant.api_key, cache)
        assert got.og_id == tenant.acme
    with pytest.raises(AuthenticationFailed):
        await api_scope(session, "acme-admin", "wrong-password", tenant.api_key, cache)


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
    acme_scope = await api_scope(session, "acme-admin", PASSWORD, tenant.api_key)
    assert [a.username for a, _og in await admins.list_admins(session, acme_scope)] == ["acme-admin"]
    with pytest.raises(NotFound):
        await admins.remove_admin(session, acme_scope, "beta-admin")
    await admins.remove_admin(session, scope, "BETA-admin")
    assert [a.username for a, _og in await admins.list_admins(session, scope)] == ["acme-admin"]


async def test_failed_rest_sign_ins_make_that_admin_wait_from_that_address_even_with_the_right_password(
    session: AsyncSession, tenant: Tenant
) -> None:
    for n in range(THROTTLE.per_account.free_failures):
        with pytest.raises(AuthenticationFailed):
            await api_scope(session, "acme-admin", f"wrong-{n}", tenant.api_key, address="10.7.0.1")
    with pytest.raises(Throttled):
        await api_scope(session, "acme-admin", PASSWORD, tenant.api_key, address="10.7.0.1")
    got = await api_scope(session, "acme-admin", PASSWORD, tenant.api_key, address="10.7.0.2")
    assert got.og_id == tenant.acme


async def test_a_wrong_api_key_counts_as_a_failed_sign_in_of_the_admin(
    session: AsyncSession, tenant: Tenant
) -> None:
    for n in range(THROTTLE.per_account.free_failures):
        with pytest.raises(AuthenticationFailed):
            await api_scope(session, "acme-admin", PASSWORD, f"guessed-key-{n}", address="10.7.1.1")
    with pytest.raises(Throttled):
        await api_scope(session, "acme-admin", PASSWORD, tenant.api_key, address="10.7.1.1")


@pytest.mark.parametrize("change", [{"password": "another-password-1"}, {"role": "read-only"},
                                    {"active": False}])
async def test_a_password_role_or_activation_change_ends_every_console_session_of_that_admin(
    session: AsyncSession, scope: Scope, tenant: Tenant, change: dict[str, object]
) -> None:
    admin = await session.scalar(select(AdminRow).where(AdminRow.username == tenant.admin))
    assert admin is not None
    tokens = [await admin_sessions.start(session, admin, timedelta(hours=1)) for _ in range(2)]
    await session.commit()
    assert all([await admin_sessions.admin_of(session, t) for t in tokens])
    await admins.update_admin(session, scope, tenant.admin, **change)  # type: ignore[arg-type]
    await session.commit()
    assert [await admin_sessions.admin_of(session, t) for t in tokens] == [None, None]


async def test_an_update_that_changes_nothing_keeps_the_sessions(
    session: AsyncSession, scope: Scope, tenant: Tenant
) -> None:
    admin = await session.scalar(select(AdminRow).where(AdminRow.username == tenant.admin))
    assert admin is not None
    token = await admin_sessions.start(session, admin, timedelta(hours=1))
    await admins.update_admin(session, scope, tenant.admin, role="administrator", active=True)
    await session.commit()
    assert await admin_sessions.admin_of(session, token) is not None
