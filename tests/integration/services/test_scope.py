"""An admin never sees or changes anything outside their subtree, and a read-only admin changes
nothing: every service write is tried with a sibling's scope, a read-only scope, and (to prove the
refusal is the scope's doing) a writable scope at the right OG."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from quince.domain.errors import NotFound, ReadOnly
from quince.services.access import admins
from quince.services.directory import og_settings, org_groups, user_groups, users
from quince.services.directory.users import UserChanges
from quince.services.scope import Scope
from quince.store.paging import PageRequest
from tests.integration.services.conftest import PASSWORD, Tenant, scope_at, snapshot

UE = "user_enrollment_enabled"


@dataclass(frozen=True)
class World(Tenant):
    """The tenant plus Bob (at Sales EU, in no group), Bea and a user group at Beta;
    UE is overridden at Sales so that it can go back to inheriting."""

    bob: int = 0
    beta_user: int = 0
    beta_group: int = 0


Write = Callable[[AsyncSession, Scope, World], Awaitable[object]]

WRITES: dict[str, Write] = {
    "org_groups.create": lambda s, sc, t: org_groups.create(s, sc, t.sales, name="New", group_id="new"),
    "org_groups.update name": lambda s, sc, t: org_groups.update(s, sc, t.sales, name="Renamed"),
    "org_groups.update group id": lambda s, sc, t: org_groups.update(s, sc, t.sales, group_id="sales2"),
    "org_groups.update move": lambda s, sc, t: org_groups.update(s, sc, t.support, parent_id=t.sales),
    "org_groups.update country": lambda s, sc, t: org_groups.update(s, sc, t.support, country="FR"),
    "org_groups.delete": lambda s, sc, t: org_groups.delete(s, sc, t.support),
    "og_settings.override": lambda s, sc, t: og_settings.override(s, sc, t.support, UE, True),
    "og_settings.inherit": lambda s, sc, t: og_settings.inherit(s, sc, t.sales, UE),
    "users.add": lambda s, sc, t: users.add(
        s, sc, username="bob", email="bob.b@acme.example", og_id=t.sales, password=PASSWORD
    ),
    "users.update": lambda s, sc, t: users.update(s, sc, t.alice, UserChanges(first_name="Al")),
    "users.delete": lambda s, sc, t: users.delete(s, sc, t.alice),
    "user_groups.create": lambda s, sc, t: user_groups.create(s, sc, name="New", og_id=t.acme),
    "user_groups.update": lambda s, sc, t: user_groups.update(s, sc, t.sellers, name="Renamed"),
    "user_groups.delete_group": lambda s, sc, t: user_groups.delete_group(s, sc, t.sellers),
    "user_groups.add_member": lambda s, sc, t: user_groups.add_member(s, sc, t.sellers, t.bob),
    "user_groups.remove_member": lambda s, sc, t: user_groups.remove_member(s, sc, t.sellers, t.alice),
    "user_groups.add_mapping": lambda s, sc, t: user_groups.add_mapping(s, sc, t.sellers, t.sales, 3),
    "user_groups.update_mapping": lambda s, sc, t: user_groups.update_mapping(s, sc, t.sellers, t.mapping, 7),
    "user_groups.remove_mapping": lambda s, sc, t: user_groups.remove_mapping(s, sc, t.sellers, t.mapping),
    "admins.add_admin": lambda s, sc, t: admins.add_admin(
        s, sc, username="new-admin", password=PASSWORD, og_id=t.acme, role="administrator"
    ),
    "admins.update_admin": lambda s, sc, t: admins.update_admin(s, sc, t.admin, role="read-only"),
    "admins.remove_admin": lambda s, sc, t: admins.remove_admin(s, sc, t.admin),
    "admins.create_api_key": lambda s, sc, t: admins.create_api_key(s, sc, og_id=t.acme),
    "admins.revoke_api_key": lambda s, sc, t: admins.revoke_api_key(s, sc, t.api_key_id),
}


@pytest.fixture
async def t(session: AsyncSession, scope: Scope, tenant: Tenant) -> World:
    bob = await users.add(session, scope, username="bob-eu", email="bob@acme.example",
                          og_id=tenant.sales_eu)
    bea = await users.add(session, scope, username="bea", email="bea@beta.example", og_id=tenant.beta)
    beta_group = await user_groups.create(session, scope, name="Beta people", og_id=tenant.beta)
    await og_settings.override(session, scope, tenant.sales, UE, True)
    await session.commit()
    return World(**asdict(tenant), bob=bob.id, beta_user=bea.id, beta_group=beta_group.id)


@pytest.mark.parametrize("write", list(WRITES))
async def test_a_writable_scope_at_the_right_og_can_make_each_change(
    session: AsyncSession, t: World, write: str
) -> None:
    acme_admin = await scope_at(session, t.acme)
    before = await snapshot(session)
    await WRITES[write](session, acme_admin, t)
    assert await snapshot(session) != before


@pytest.mark.parametrize("write", list(WRITES))
async def test_a_sibling_subtrees_scope_cannot_change_anything(
    session: AsyncSession, t: World, write: str
) -> None:
    beta_admin = await scope_at(session, t.beta)
    before = await snapshot(session)
    with pytest.raises(NotFound):
        await WRITES[write](session, beta_admin, t)
    assert await snapshot(session) == before


@pytest.mark.parametrize("write", list(WRITES))
async def test_a_read_only_scope_cannot_change_anything(session: AsyncSession, t: World, write: str) -> None:
    viewer = await scope_at(session, t.acme, can_write=False)
    before = await snapshot(session)
    with pytest.raises(ReadOnly):
        await WRITES[write](session, viewer, t)
    assert await snapshot(session) == before


CROSSINGS: dict[str, Write] = {
    "move an own OG below the sibling": lambda s, sc, t: org_groups.update(
        s, sc, t.beta_ops, parent_id=t.acme
    ),
    "create below the sibling": lambda s, sc, t: org_groups.create(s, sc, t.acme, name="X", group_id="x"),
    "move an own user to the sibling": lambda s, sc, t: users.update(
        s, sc, t.beta_user, UserChanges(og_id=t.sales)
    ),
    "add the siblings user to an own group": lambda s, sc, t: user_groups.add_member(
        s, sc, t.beta_group, t.alice
    ),
    "map an own group to the siblings OG": lambda s, sc, t: user_groups.add_mapping(
        s, sc, t.beta_group, t.acme, 1
    ),
    "remove a mapping through another group": lambda s, sc, t: user_groups.remove_mapping(
        s, sc, t.beta_group, t.mapping
    ),
}


@pytest.mark.parametrize("write", list(CROSSINGS))
async def test_changes_that_reach_into_a_sibling_subtree_are_refused(
    session: AsyncSession, t: World, write: str
) -> None:
    beta_admin = await scope_at(session, t.beta)
    before = await snapshot(session)
    with pytest.raises(NotFound):
        await CROSSINGS[write](session, beta_admin, t)
    assert await snapshot(session) == before


async def test_a_sibling_subtrees_scope_cannot_see_anything(session: AsyncSession, t: World) -> None:
    beta_admin = await scope_at(session, t.beta)
    page = PageRequest()
    for read in (
        org_groups.get(session, beta_admin, t.acme),
        org_groups.get_by_group_id(session, beta_admin, "ACME"),
        org_groups.resolve_ref(session, beta_admin, "sales"),
        org_groups.subtree(session, beta_admin, t.acme),
        og_settings.read(session, beta_admin, t.sales),
        users.get(session, beta_admin, t.alice),
        users.get_by_username(session, beta_admin, "alice"),
        users.search(session, beta_admin, page, og_id=t.sales),
        user_groups.get(session, beta_admin, t.sellers),
        user_groups.resolve_ref(session, beta_admin, "Sellers"),
        user_groups.members(session, beta_admin, t.sellers, page),
        user_groups.mappings(session, beta_admin, t.sellers),
        user_groups.get_mapping(session, beta_admin, t.sellers, t.mapping),
    ):
        with pytest.raises(NotFound):
            await read
    assert [og.name for og in (await org_groups.search(session, beta_admin, page)).items] == [
        "Beta", "Beta Ops"
    ]
    assert (await org_groups.search(session, beta_admin, page, group_id="acme")).total == 0
    assert [u.username for u in (await users.search(session, beta_admin, page)).items] == ["bea"]
    assert [g.name for g in (await user_groups.search(session, beta_admin, page)).items] == ["Beta people"]
    assert await admins.list_admins(session, beta_admin) == []
    assert await admins.list_api_keys(session, beta_admin) == []


async def test_a_scope_sees_its_own_subtree(session: AsyncSession, t: World) -> None:
    sales_admin = await scope_at(session, t.sales, can_write=False)
    names = [og.name for og in (await org_groups.search(session, sales_admin, PageRequest())).items]
    assert names == ["Sales", "Sales EU"]
    found = await users.search(session, sales_admin, PageRequest())
    assert [u.username for u in found.items] == ["alice", "bob-eu"]
    with pytest.raises(NotFound):
        await org_groups.get(session, sales_admin, t.acme)  # the parent is outside the subtree too
