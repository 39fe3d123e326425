"""The app catalog on stored data: the fields each kind needs, uniqueness, scoping, and the
rules on changing and removing apps."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from quince.domain.app_eligibility import AppKind
from quince.domain.errors import Conflict, InvalidInput, NotFound, ReadOnly
from quince.services.apps import catalog as apps
from quince.services.apps.catalog import AppChanges, NewApp
from quince.services.scope import Scope
from quince.store.models import VppLicenseRow, VppTokenRow, VppUserRow
from quince.store.paging import PageRequest
from tests.integration.api.support import World
from tests.integration.apps.conftest import scope_at

PAGE = PageRequest(0, 500)


def public(og_id: int, bundle_id: str = "com.example.notes") -> NewApp:
    return NewApp(AppKind.PUBLIC, og_id, "Notes", bundle_id, adam_id="361309726")


def purchased(og_id: int, **kw: object) -> NewApp:
    fields: dict[str, object] = {"name": "Work Mail", "bundle_id": "com.example.mail",
                                 "adam_id": "284882215", "total_licenses": 50, "assigned_licenses": 3}
    fields.update(kw)
    return NewApp(AppKind.PURCHASED, og_id, **fields)  # type: ignore[arg-type]


async def test_each_kind_of_app_is_created_with_the_fields_it_needs(
    session: AsyncSession, scope: Scope, world: World
) -> None:
    pub = await apps.create(session, scope, public(world.acme))
    internal = await apps.create(session, scope, NewApp(
        AppKind.IN_HOUSE, world.eng, "Lab Tool", "com.acme.labtool",
        manifest_url="https://apps.acme.example/labtool.plist"))
    bought = await apps.create(session, scope, purchased(world.acme, device_licensing_enabled=True))
    assert (pub.kind, pub.adam_id, pub.manifest_url) == ("public", "361309726", None)
    assert (internal.kind, internal.adam_id, internal.manifest_url) == (
        "in_house", None, "https://apps.acme.example/labtool.plist")
    assert (bought.total_licenses, bought.assigned_licenses, bought.device_licensing_enabled) == (50, 3, True)
    found = await apps.search(session, scope, PAGE, kind=AppKind.PURCHASED)
    assert [a.id for a in found.items] == [bought.id]
    assert (await apps.get(session, scope, bought.id, kind=AppKind.PURCHASED)).id == bought.id
    with pytest.raises(NotFound):
        await apps.get(session, scope, pub.id, kind=AppKind.PURCHASED)


@pytest.mark.parametrize(("new", "field"), [
    (NewApp(AppKind.PUBLIC, 0, "Notes", "com.example.notes"), "AppStoreId"),
    (NewApp(AppKind.PUBLIC, 0, "Notes", "notes", adam_id="1"), "BundleId"),
    (NewApp(AppKind.IN_HOUSE, 0, "Tool", "com.acme.tool"), "ManifestUrl"),
    (NewApp(AppKind.IN_HOUSE, 0, "Tool", "com.acme.tool", manifest_url="http://a.example/m.plist"),
     "ManifestUrl"),
    (NewApp(AppKind.PURCHASED, 0, "Mail", "com.example.mail", adam_id="12", total_licenses=1,
            assigned_licenses=2), "Redeemed"),
    (NewApp(AppKind.PURCHASED, 0, " ", "com.example.mail", adam_id="12"), "ApplicationName"),
])
async def test_an_app_missing_what_its_kind_needs_is_refused(
    session: AsyncSession, scope: Scope, world: World, new: NewApp, field: str
) -> None:
    with pytest.raises(InvalidInput) as err:
        await apps.create(session, scope, NewApp(**{**new.__dict__, "og_id": world.acme}))
    assert err.value.field == field


async def test_a_bundle_id_is_unique_per_catalog_and_kind(
    session: AsyncSession, scope: Scope, world: World
) -> None:
    await apps.create(session, scope, public(world.acme))
    with pytest.raises(Conflict):
        await apps.create(session, scope, public(world.acme))
    # Another OG's catalog, or the same app bought through Apps and Books, is a separate entry.
    await apps.create(session, scope, public(world.eng))
    await apps.create(session, scope, purchased(world.acme, bundle_id="com.example.notes"))


async def test_an_admin_sees_only_apps_of_catalogs_in_their_subtree(
    session: AsyncSession, scope: Scope, world: World
) -> None:
    eng_app = await apps.create(session, scope, public(world.eng))
    sales_app = await apps.create(session, scope, public(world.sales, "com.example.crm"))
    sales = await scope_at(session, world.sales)
    with pytest.raises(NotFound):
        await apps.get(session, sales, eng_app.id)
    assert [a.id for a in (await apps.search(session, sales, PAGE)).items] == [sales_app.id]
    with pytest.raises(NotFound):
        await apps.create(session, sales, public(world.eng, "com.example.other"))
    acme = await scope_at(session, world.acme)
    assert [a.id for a in (await apps.search(session, acme, PAGE, og_id=world.eng)).items] == [eng_app.id]


async def test_a_read_only_admin_cannot_change_the_catalog(
    session: AsyncSession, scope: Scope, world: World
) -> None:
    app = await apps.create(session, scope, public(world.eng))
    reader = await scope_at(session, world.acme, can_write=False)
    with pytest.raises(ReadOnly):
        await apps.create(session, reader, public(world.eng, "com.example.x"))
    with pytest.raises(ReadOnly):
        await apps.delete(session, reader, app.id)
    with pytest.raises(ReadOnly):
        await apps.assign(session, reader, app.id, "og", world.eng)


async def test_device_based_licensing_cannot_be_switched_off_once_enabled(
    session: AsyncSession, scope: Scope, world: World
) -> None:
    app = await apps.create(session, scope, purchased(world.acme))
    await apps.update(session, scope, app.id, AppChanges(device_licensing_enabled=True, total_licenses=80))
    assert (app.device_licensing_enabled, app.total_licenses) == (True, 80)
    with pytest.raises(Conflict):
        await apps.update(session, scope, app.id, AppChanges(device_licensing_enabled=False))
    pub = await apps.create(session, scope, public(world.acme))
    with pytest.raises(InvalidInput):
        await apps.update(session, scope, pub.id, AppChanges(total_licenses=5))


async def test_an_app_whose_licences_users_still_hold_cannot_be_removed(
    session: AsyncSession, scope: Scope, world: World
) -> None:
    app = await apps.create(session, scope, purchased(world.acme))
    token = VppTokenRow(og_id=world.acme, token_encrypted=b"x", token_sha256="0" * 64)
    session.add(token)
    await session.flush()
    vpp_user = VppUserRow(token_id=token.id, enrollment_user_id=world.bob,
                          managed_apple_id="bob@acme.example", status="Associated")
    session.add(vpp_user)
    await session.flush()
    licence = VppLicenseRow(vpp_user_id=vpp_user.id, app_id=app.id, status="Associated")
    session.add(licence)
    await session.flush()
    with pytest.raises(Conflict) as err:
        await apps.delete(session, scope, app.id)
    assert "release them" in err.value.message
    licence.status = "Released"
    await apps.delete(session, scope, app.id)
    with pytest.raises(NotFound):
        await apps.get(session, scope, app.id)
