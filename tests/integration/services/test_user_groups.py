"""User groups on stored data: members, and ranked mappings to target OGs."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from quince.domain.errors import Conflict, InvalidInput, NotFound
from quince.services.directory import user_groups, users
from quince.services.scope import Scope
from quince.store.paging import PageRequest
from tests.integration.services.conftest import Tenant, snapshot


async def test_a_mapping_may_target_the_groups_own_og_or_below(
    session: AsyncSession, scope: Scope, tenant: Tenant
) -> None:
    own = await user_groups.add_mapping(session, scope, tenant.sellers, tenant.acme, 1)
    deep = await user_groups.add_mapping(session, scope, tenant.sellers, tenant.sales, 2)
    listed = await user_groups.mappings(session, scope, tenant.sellers)
    assert [(m.og_id, m.rank) for m in listed] == [
        (tenant.acme, 1), (tenant.sales, 2), (tenant.sales_eu, 5)
    ]
    assert {own.id, deep.id, tenant.mapping} == {m.id for m in listed}


@pytest.mark.parametrize("target", ["root", "beta", "beta_ops"])
async def test_a_mapping_target_outside_the_groups_og_is_refused(
    session: AsyncSession, scope: Scope, tenant: Tenant, target: str
) -> None:
    before = await snapshot(session)
    with pytest.raises(InvalidInput) as err:
        await user_groups.add_mapping(session, scope, tenant.sellers, getattr(tenant, target), 1)
    assert "lives at 'Acme'" in err.value.message
    assert await snapshot(session) == before


async def test_a_group_below_cannot_map_to_a_sibling_or_its_parent(
    session: AsyncSession, scope: Scope, tenant: Tenant
) -> None:
    eu = await user_groups.create(session, scope, name="EU", og_id=tenant.sales)
    for target in (tenant.support, tenant.acme):
        with pytest.raises(InvalidInput, match="one below it"):
            await user_groups.add_mapping(session, scope, eu.id, target, 1)


async def test_a_duplicate_mapping_is_refused(session: AsyncSession, scope: Scope, tenant: Tenant) -> None:
    before = await snapshot(session)
    with pytest.raises(Conflict, match="already mapped to 'Sales EU'"):
        await user_groups.add_mapping(session, scope, tenant.sellers, tenant.sales_eu, 9)
    assert await snapshot(session) == before


@pytest.mark.parametrize("rank", [0, -1, 1001])
async def test_ranks_outside_1_to_1000_are_refused(
    session: AsyncSession, scope: Scope, tenant: Tenant, rank: int
) -> None:
    before = await snapshot(session)
    with pytest.raises(InvalidInput, match=r"between 1 \(best\) and 1000"):
        await user_groups.add_mapping(session, scope, tenant.sellers, tenant.sales, rank)
    with pytest.raises(InvalidInput, match=r"between 1 \(best\) and 1000"):
        await user_groups.update_mapping(session, scope, tenant.sellers, tenant.mapping, rank)
    assert await snapshot(session) == before


@pytest.mark.parametrize("rank", [1, 1000])
async def test_ranks_1_and_1000_are_accepted(
    session: AsyncSession, scope: Scope, tenant: Tenant, rank: int
) -> None:
    row = await user_groups.add_mapping(session, scope, tenant.sellers, tenant.sales, rank)
    assert row.rank == rank
    updated = await user_groups.update_mapping(session, scope, tenant.sellers, tenant.mapping, rank)
    assert updated.rank == rank


async def test_a_mapping_is_found_only_through_its_own_group(
    session: AsyncSession, scope: Scope, tenant: Tenant
) -> None:
    other = await user_groups.create(session, scope, name="Other", og_id=tenant.acme)
    with pytest.raises(NotFound):
        await user_groups.get_mapping(session, scope, other.id, tenant.mapping)
    with pytest.raises(NotFound):
        await user_groups.remove_mapping(session, scope, other.id, tenant.mapping)
    await user_groups.remove_mapping(session, scope, tenant.sellers, tenant.mapping)
    assert await user_groups.mappings(session, scope, tenant.sellers) == []


async def test_user_group_names_are_unique_within_an_og_ignoring_case(
    session: AsyncSession, scope: Scope, tenant: Tenant
) -> None:
    with pytest.raises(Conflict, match="already exists"):
        await user_groups.create(session, scope, name="SELLERS", og_id=tenant.acme)
    elsewhere = await user_groups.create(session, scope, name="Sellers", og_id=tenant.sales)
    with pytest.raises(InvalidInput, match="Several user groups are named"):
        await user_groups.resolve_ref(session, scope, "sellers")
    assert (await user_groups.resolve_ref(session, scope, str(elsewhere.id))).id == elsewhere.id
    with pytest.raises(InvalidInput, match="user group name must not be empty"):
        await user_groups.create(session, scope, name=" ", og_id=tenant.acme)


async def test_members_are_added_once_and_removed(
    session: AsyncSession, scope: Scope, tenant: Tenant
) -> None:
    assert await user_groups.add_member(session, scope, tenant.sellers, tenant.alice) is False
    bob = await users.add(session, scope, username="bob", email="bob@acme.example", og_id=tenant.support)
    assert await user_groups.add_member(session, scope, tenant.sellers, bob.id) is True
    page = await user_groups.members(session, scope, tenant.sellers, PageRequest())
    assert [u.username for u in page.items] == ["alice", "bob"]
    assert await user_groups.member_counts(session, [tenant.sellers]) == {tenant.sellers: 2}
    await user_groups.remove_member(session, scope, tenant.sellers, bob.id)
    with pytest.raises(NotFound, match="Membership"):
        await user_groups.remove_member(session, scope, tenant.sellers, bob.id)


async def test_deleting_a_group_removes_its_members_and_mappings_but_not_its_users(
    session: AsyncSession, scope: Scope, tenant: Tenant
) -> None:
    await user_groups.delete_group(session, scope, tenant.sellers)
    await session.commit()
    after = await snapshot(session)
    assert after["user_groups"] == []
    assert after["user_group_members"] == []
    assert after["user_group_mappings"] == []
    assert (await users.get(session, scope, tenant.alice)).username == "alice"
