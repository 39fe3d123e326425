"""Organization groups on stored data: Group ID uniqueness, placement, and what blocks a move or
a delete."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from quince.domain.errors import (
    Conflict,
    GroupIdTaken,
    InvalidGroupId,
    InvalidInput,
    InvalidPlacement,
    OrgGroupNotEmpty,
)
from quince.services.access import admins
from quince.services.directory import org_groups, user_groups, users
from quince.services.scope import Scope
from quince.store.paging import PageRequest
from tests.integration.services.conftest import PASSWORD, Tenant, add_device, scope_at, snapshot

# --- Group IDs -------------------------------------------------------------------------------


async def test_new_og_is_stored_below_its_parent_with_a_materialized_path(
    session: AsyncSession, scope: Scope, tenant: Tenant
) -> None:
    sales_eu = await org_groups.get(session, scope, tenant.sales_eu)
    assert sales_eu.path == f"/{tenant.root}/{tenant.acme}/{tenant.sales}/{tenant.sales_eu}/"
    assert sales_eu.parent_id == tenant.sales
    assert sales_eu.type == "Container"
    assert sales_eu.group_id == "sales-eu"


@pytest.mark.parametrize("taken", ["ACME", "Acme", "acme", "GLOBAL", "Sales-EU"])
async def test_group_ids_are_unique_across_the_install_ignoring_case_on_create(
    session: AsyncSession, scope: Scope, tenant: Tenant, taken: str
) -> None:
    before = await snapshot(session)
    with pytest.raises(GroupIdTaken) as err:
        await org_groups.create(session, scope, tenant.beta, name="Copy", group_id=taken)
    assert f"{taken!r}" in err.value.message
    assert "ignoring case" in err.value.message
    assert await snapshot(session) == before


async def test_group_ids_are_unique_across_the_install_ignoring_case_on_rename(
    session: AsyncSession, scope: Scope, tenant: Tenant
) -> None:
    before = await snapshot(session)
    with pytest.raises(GroupIdTaken) as err:
        await org_groups.update(session, scope, tenant.support, group_id="SALES")
    assert "used by organization group 'Sales'" in err.value.message  # the caller can see it
    assert await snapshot(session) == before


async def test_an_og_may_change_the_case_of_its_own_group_id(
    session: AsyncSession, scope: Scope, tenant: Tenant
) -> None:
    row = await org_groups.update(session, scope, tenant.sales, group_id="SALES")
    assert row.group_id == "SALES"
    assert (await org_groups.get_by_group_id(session, scope, "sales")).id == tenant.sales


async def test_group_id_lookup_ignores_case(session: AsyncSession, scope: Scope, tenant: Tenant) -> None:
    assert (await org_groups.get_by_group_id(session, scope, "SALES-eu")).id == tenant.sales_eu
    found = await org_groups.search(session, scope, PageRequest(), group_id="BETA-OPS")
    assert [og.id for og in found.items] == [tenant.beta_ops]


async def test_a_group_id_taken_outside_the_callers_subtree_is_refused_without_naming_its_og(
    session: AsyncSession, tenant: Tenant
) -> None:
    beta_admin = await scope_at(session, tenant.beta)
    with pytest.raises(GroupIdTaken) as err:
        await org_groups.create(session, beta_admin, tenant.beta, name="Copy", group_id="SALES")
    assert err.value.message == (
        "Group ID 'SALES' is already used (Group IDs are unique across the install, ignoring case)."
    )


@pytest.mark.parametrize(
    ("group_id", "rule"),
    [("", "must not be empty"), ("x" * 65, "at most 64 characters"), ("sales eu", "only letters")],
)
async def test_invalid_group_ids_are_refused_on_create_and_rename_naming_the_rule(
    session: AsyncSession, scope: Scope, tenant: Tenant, group_id: str, rule: str
) -> None:
    before = await snapshot(session)
    with pytest.raises(InvalidGroupId, match=rule):
        await org_groups.create(session, scope, tenant.acme, name="New", group_id=group_id)
    with pytest.raises(InvalidGroupId, match=rule):
        await org_groups.update(session, scope, tenant.support, group_id=group_id)
    assert await snapshot(session) == before


async def test_a_64_character_group_id_is_stored(session: AsyncSession, scope: Scope, tenant: Tenant) -> None:
    row = await org_groups.create(session, scope, tenant.acme, name="Long", group_id="L" * 64)
    assert (await org_groups.get_by_group_id(session, scope, "l" * 64)).id == row.id


async def test_the_roots_group_id_cannot_change(session: AsyncSession, scope: Scope, tenant: Tenant) -> None:
    with pytest.raises(Conflict):
        await org_groups.update(session, scope, tenant.root, group_id="World")


async def test_og_names_are_validated_on_create_and_rename(
    session: AsyncSession, scope: Scope, tenant: Tenant
) -> None:
    with pytest.raises(InvalidInput, match="must not be empty"):
        await org_groups.create(session, scope, tenant.acme, name="  ", group_id="blank")
    with pytest.raises(InvalidInput, match="control characters"):
        await org_groups.update(session, scope, tenant.support, name="Sup\x07port")
    renamed = await org_groups.update(session, scope, tenant.support, name="  Helpdesk ")
    assert renamed.name == "Helpdesk"


# --- Placement -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("parent", "og_type"),
    [("sales", "Customer"), ("acme", "Customer"), ("acme", "Partner"), ("acme", "Prospect"),
     ("root", "Global"), ("sales", "Global")],
)
async def test_placement_rules_are_enforced_on_create(
    session: AsyncSession, scope: Scope, tenant: Tenant, parent: str, og_type: str
) -> None:
    before = await snapshot(session)
    with pytest.raises(InvalidPlacement):
        await org_groups.create(session, scope, getattr(tenant, parent), name="X", group_id="x",
                                og_type=og_type)
    assert await snapshot(session) == before


async def test_unknown_og_type_is_refused_listing_the_types(
    session: AsyncSession, scope: Scope, tenant: Tenant
) -> None:
    with pytest.raises(InvalidInput, match="Container") as err:
        await org_groups.create(session, scope, tenant.acme, name="X", group_id="x", og_type="Region")
    assert err.value.field == "LocationGroupType"


async def test_partners_sit_below_global_or_partners_and_customers_below_partners(
    session: AsyncSession, scope: Scope, tenant: Tenant
) -> None:
    partner = await org_groups.create(session, scope, tenant.root, name="Reseller", group_id="reseller",
                                      og_type="partner")
    sub = await org_groups.create(session, scope, partner.id, name="Sub", group_id="sub", og_type="Partner")
    customer = await org_groups.create(session, scope, sub.id, name="Gamma", group_id="gamma",
                                       og_type="Customer")
    assert (partner.type, sub.type, customer.type) == ("Partner", "Partner", "Customer")
    container = await org_groups.create(session, scope, tenant.root, name="Region", group_id="region")
    with pytest.raises(InvalidPlacement, match="Partner"):
        await org_groups.create(session, scope, container.id, name="P", group_id="p", og_type="Partner")


async def test_placement_rules_are_enforced_on_move(
    session: AsyncSession, scope: Scope, tenant: Tenant
) -> None:
    gamma = await org_groups.create(session, scope, tenant.root, name="Gamma", group_id="gamma",
                                    og_type="Customer")
    partner = await org_groups.create(session, scope, tenant.root, name="Reseller", group_id="reseller",
                                      og_type="Partner")
    await session.commit()
    before = await snapshot(session)
    with pytest.raises(InvalidPlacement, match="only Container"):
        await org_groups.update(session, scope, gamma.id, parent_id=tenant.sales)
    with pytest.raises(InvalidPlacement):
        await org_groups.update(session, scope, partner.id, parent_id=tenant.support)
    with pytest.raises(InvalidPlacement):
        await org_groups.update(session, scope, tenant.support, og_type="Customer")
    assert await snapshot(session) == before


async def test_an_empty_og_can_be_moved_and_its_path_follows(
    session: AsyncSession, scope: Scope, tenant: Tenant
) -> None:
    moved = await org_groups.update(session, scope, tenant.support, parent_id=tenant.sales_eu)
    assert moved.parent_id == tenant.sales_eu
    assert moved.path == f"/{tenant.root}/{tenant.acme}/{tenant.sales}/{tenant.sales_eu}/{tenant.support}/"
    sub = [og.id for og, _level in await org_groups.subtree(session, scope, tenant.sales)]
    assert tenant.support in sub


async def test_an_og_cannot_become_its_own_parent(
    session: AsyncSession, scope: Scope, tenant: Tenant
) -> None:
    with pytest.raises(InvalidInput, match="own parent"):
        await org_groups.update(session, scope, tenant.support, parent_id=tenant.support)


async def test_an_empty_container_can_be_retyped_where_the_type_may_sit(
    session: AsyncSession, scope: Scope, tenant: Tenant
) -> None:
    loose = await org_groups.create(session, scope, tenant.root, name="Loose", group_id="loose")
    retyped = await org_groups.update(session, scope, loose.id, og_type="Customer")
    assert retyped.type == "Customer"


# --- The root and the caller's top OG --------------------------------------------------------


async def test_the_root_cannot_be_deleted_moved_or_retyped(
    session: AsyncSession, scope: Scope, tenant: Tenant
) -> None:
    before = await snapshot(session)
    with pytest.raises(Conflict, match="cannot be deleted"):
        await org_groups.delete(session, scope, tenant.root)
    with pytest.raises(Conflict, match="cannot be moved"):
        await org_groups.update(session, scope, tenant.root, parent_id=tenant.acme)
    with pytest.raises(Conflict, match="cannot be moved or retyped"):
        await org_groups.update(session, scope, tenant.root, og_type="Customer")
    assert await snapshot(session) == before


async def test_an_admins_own_top_og_cannot_be_deleted_or_moved(
    session: AsyncSession, scope: Scope, tenant: Tenant
) -> None:
    top = await org_groups.create(session, scope, tenant.acme, name="Branch", group_id="branch")
    await session.commit()
    branch_admin = await scope_at(session, top.id)
    before = await snapshot(session)
    with pytest.raises(Conflict, match="top of your organization groups"):
        await org_groups.delete(session, branch_admin, top.id)
    with pytest.raises(Conflict, match="top of your organization groups"):
        await org_groups.update(session, branch_admin, top.id, parent_id=tenant.support)
    assert await snapshot(session) == before
    # The operator, whose top is Global, may delete it.
    await org_groups.delete(session, scope, top.id)


# --- What an OG holds blocks moving and deleting it ------------------------------------------

Filler = Callable[[AsyncSession, Scope, Tenant, int], Awaitable[object]]


async def _child(session: AsyncSession, scope: Scope, t: Tenant, box: int) -> object:
    return await org_groups.create(session, scope, box, name="Inner", group_id="inner")


async def _user(session: AsyncSession, scope: Scope, t: Tenant, box: int) -> object:
    return await users.add(session, scope, username="bob", email="bob@acme.example", og_id=box)


async def _device(session: AsyncSession, scope: Scope, t: Tenant, box: int) -> object:
    return await add_device(session, box)


async def _admin(session: AsyncSession, scope: Scope, t: Tenant, box: int) -> object:
    return await admins.add_admin(session, scope, username="box-admin", password=PASSWORD, og_id=box,
                                  role="read-only")


async def _api_key(session: AsyncSession, scope: Scope, t: Tenant, box: int) -> object:
    return await admins.create_api_key(session, scope, og_id=box)


async def _user_group(session: AsyncSession, scope: Scope, t: Tenant, box: int) -> object:
    return await user_groups.create(session, scope, name="Box people", og_id=box)


async def _mapping(session: AsyncSession, scope: Scope, t: Tenant, box: int) -> object:
    return await user_groups.add_mapping(session, scope, t.sellers, box, 9)


HOLDINGS: dict[str, Filler] = {
    "child organization groups (1)": _child,
    "users (1)": _user,
    "devices (1)": _device,
    "admins (1)": _admin,
    "API keys (1)": _api_key,
    "user groups (1)": _user_group,
    "user-group mappings (1)": _mapping,
}


@pytest.mark.parametrize("held", list(HOLDINGS))
async def test_deleting_an_og_that_holds_something_is_refused_naming_it(
    session: AsyncSession, scope: Scope, tenant: Tenant, held: str
) -> None:
    box = await org_groups.create(session, scope, tenant.acme, name="Box", group_id="box")
    await HOLDINGS[held](session, scope, tenant, box.id)
    await session.commit()
    before = await snapshot(session)
    with pytest.raises(OrgGroupNotEmpty) as err:
        await org_groups.delete(session, scope, box.id)
    assert err.value.message.startswith("Cannot delete organization group 'Box': it still holds ")
    assert held in err.value.message
    assert sum(err.value.holdings.values()) == 1
    assert await snapshot(session) == before


@pytest.mark.parametrize("held", list(HOLDINGS))
async def test_moving_an_og_that_holds_something_is_refused_naming_it(
    session: AsyncSession, scope: Scope, tenant: Tenant, held: str
) -> None:
    box = await org_groups.create(session, scope, tenant.acme, name="Box", group_id="box")
    await HOLDINGS[held](session, scope, tenant, box.id)
    await session.commit()
    before = await snapshot(session)
    with pytest.raises(OrgGroupNotEmpty) as err:
        await org_groups.update(session, scope, box.id, parent_id=tenant.support)
    assert held in err.value.message
    assert "move" in err.value.message
    assert await snapshot(session) == before


async def test_every_holding_is_listed_at_once(session: AsyncSession, scope: Scope, tenant: Tenant) -> None:
    with pytest.raises(OrgGroupNotEmpty) as err:
        await org_groups.delete(session, scope, tenant.sales)
    # Sales holds Sales EU and Alice.
    assert "child organization groups (1)" in err.value.message
    assert "users (1)" in err.value.message
    assert "devices" not in err.value.message


async def test_an_empty_og_is_deleted_with_its_settings(
    session: AsyncSession, scope: Scope, tenant: Tenant
) -> None:
    from quince.services.directory import og_settings

    box = await org_groups.create(session, scope, tenant.acme, name="Box", group_id="box")
    await og_settings.override(session, scope, box.id, "user_enrollment_enabled", True)
    await session.commit()
    await org_groups.delete(session, scope, box.id)
    await session.commit()
    after = await snapshot(session)
    assert all(row[0] != box.id for row in after["organization_groups"])
    assert all(row[0] != box.id for row in after["og_settings"])
    # Its Group ID is free again.
    await org_groups.create(session, scope, tenant.acme, name="Box 2", group_id="BOX")


async def test_counts_report_users_admins_and_devices_at_each_og(
    session: AsyncSession, scope: Scope, tenant: Tenant
) -> None:
    await add_device(session, tenant.sales, tenant.alice)
    found = await org_groups.counts(session, [tenant.acme, tenant.sales, tenant.support])
    assert found[tenant.acme] == org_groups.OGCounts(users=0, admins=1, devices=0)
    assert found[tenant.sales] == org_groups.OGCounts(users=1, admins=0, devices=1)
    assert found[tenant.support] == org_groups.OGCounts()
