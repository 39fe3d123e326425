"""Settings writes through services/og_settings: inheritance, child permissions and copies."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from quince.domain.errors import InvalidInput, SettingLocked
from quince.domain.og_settings import SETTINGS, ChildPermission, CurrentSetting, UnknownSetting
from quince.services.directory import og_settings, org_groups
from quince.services.scope import Scope
from quince.store.models import OGSettingRow
from tests.integration.services.conftest import Tenant, snapshot

UE = "user_enrollment_enabled"


async def stored(session: AsyncSession, og_id: int, key: str = UE) -> tuple[object, str] | None:
    """The override stored at og_id, as (value, child permission), or None when it inherits."""
    row = await session.scalar(
        select(OGSettingRow).where(OGSettingRow.og_id == og_id, OGSettingRow.key == key)
    )
    return None if row is None else (row.value, row.child_permission)


async def test_the_root_stores_every_default(session: AsyncSession, scope: Scope, tenant: Tenant) -> None:
    for key, definition in SETTINGS.items():
        assert await stored(session, tenant.root, key) == (definition.default, "InheritOrOverride")


async def test_reading_a_setting_gives_the_value_and_the_og_it_comes_from(
    session: AsyncSession, scope: Scope, tenant: Tenant
) -> None:
    await og_settings.override(session, scope, tenant.acme, UE, "true")
    view = await og_settings.read_one(session, scope, tenant.sales_eu, UE)
    assert view.resolved.value is True
    assert view.source.id == tenant.acme
    assert view.source.name == "Acme"
    assert view.resolved.current is CurrentSetting.INHERIT
    at_acme = await og_settings.read_one(session, scope, tenant.acme, UE)
    assert at_acme.resolved.current is CurrentSetting.OVERRIDE


async def test_read_lists_every_setting(session: AsyncSession, scope: Scope, tenant: Tenant) -> None:
    views = await og_settings.read(session, scope, tenant.sales)
    assert [v.definition.key for v in views] == list(SETTINGS)
    assert all(v.source.id == tenant.root for v in views)


async def test_override_then_inherit_returns_to_the_parents_value(
    session: AsyncSession, scope: Scope, tenant: Tenant
) -> None:
    await og_settings.override(session, scope, tenant.acme, UE, True)
    view = await og_settings.override(session, scope, tenant.sales, UE, "off")
    assert (view.resolved.value, view.source.id) == (False, tenant.sales)
    assert await stored(session, tenant.sales) == (False, "InheritOrOverride")
    view = await og_settings.inherit(session, scope, tenant.sales, UE)
    assert (view.resolved.value, view.source.id) == (True, tenant.acme)
    assert await stored(session, tenant.sales) is None


async def test_overriding_again_updates_the_stored_value_in_place(
    session: AsyncSession, scope: Scope, tenant: Tenant
) -> None:
    await og_settings.override(session, scope, tenant.sales, "default_ownership", "E")
    await og_settings.override(session, scope, tenant.sales, "default_ownership", "s")
    assert await stored(session, tenant.sales, "default_ownership") == ("S", "InheritOrOverride")


async def test_the_root_cannot_inherit(session: AsyncSession, scope: Scope, tenant: Tenant) -> None:
    before = await snapshot(session)
    with pytest.raises(InvalidInput, match="can only override"):
        await og_settings.inherit(session, scope, tenant.root, UE)
    assert await snapshot(session) == before


async def test_inherit_only_refuses_an_override_below_and_changes_nothing(
    session: AsyncSession, scope: Scope, tenant: Tenant
) -> None:
    await og_settings.override(session, scope, tenant.acme, UE, True, "InheritOnly")
    await session.commit()
    before = await snapshot(session)
    for og_id in (tenant.sales, tenant.sales_eu):
        with pytest.raises(SettingLocked) as err:
            await og_settings.override(session, scope, og_id, UE, False)
        assert "'Acme' sets child permission InheritOnly" in err.value.message
    assert await snapshot(session) == before


async def test_inherit_only_forces_the_parents_value_over_an_existing_override(
    session: AsyncSession, scope: Scope, tenant: Tenant
) -> None:
    await og_settings.override(session, scope, tenant.sales, UE, False)
    await og_settings.override(session, scope, tenant.acme, UE, True, "inherit only")
    view = await og_settings.read_one(session, scope, tenant.sales, UE)
    assert (view.resolved.value, view.source.id) == (True, tenant.acme)
    assert view.resolved.permission_from_parent is ChildPermission.INHERIT_ONLY


async def test_override_only_gives_existing_inheriting_children_a_copy(
    session: AsyncSession, scope: Scope, tenant: Tenant
) -> None:
    await og_settings.override(session, scope, tenant.support, UE, False)
    await og_settings.override(session, scope, tenant.acme, UE, True, "OverrideOnly")
    assert await stored(session, tenant.acme) == (True, "OverrideOnly")
    assert await stored(session, tenant.sales) == (True, "InheritOrOverride")  # the copy
    assert await stored(session, tenant.support) == (False, "InheritOrOverride")  # kept its own
    assert await stored(session, tenant.sales_eu) is None  # grandchildren follow their parent
    for og_id, value in ((tenant.sales, True), (tenant.sales_eu, True), (tenant.support, False)):
        assert (await og_settings.read_one(session, scope, og_id, UE)).resolved.value is value


async def test_override_only_refuses_going_back_to_inherit(
    session: AsyncSession, scope: Scope, tenant: Tenant
) -> None:
    await og_settings.override(session, scope, tenant.acme, UE, True, "OverrideOnly")
    await session.commit()
    before = await snapshot(session)
    with pytest.raises(SettingLocked, match="OverrideOnly"):
        await og_settings.inherit(session, scope, tenant.sales, UE)
    assert await snapshot(session) == before
    # Overriding with another value is what OverrideOnly asks for.
    view = await og_settings.override(session, scope, tenant.sales, UE, False)
    assert view.resolved.value is False


async def test_a_new_child_of_an_override_only_og_starts_with_a_copy(
    session: AsyncSession, scope: Scope, tenant: Tenant
) -> None:
    await og_settings.override(session, scope, tenant.acme, UE, True, "OverrideOnly")
    new = await org_groups.create(session, scope, tenant.acme, name="New", group_id="new")
    assert await stored(session, new.id) == (True, "InheritOrOverride")
    assert await stored(session, new.id, "default_ownership") is None


async def test_an_og_moved_below_an_override_only_og_gets_a_copy(
    session: AsyncSession, scope: Scope, tenant: Tenant
) -> None:
    loose = await org_groups.create(session, scope, tenant.root, name="Loose", group_id="loose")
    await og_settings.override(session, scope, tenant.acme, UE, True, "OverrideOnly")
    await org_groups.update(session, scope, loose.id, parent_id=tenant.acme)
    assert await stored(session, loose.id) == (True, "InheritOrOverride")
    with pytest.raises(SettingLocked):
        await og_settings.inherit(session, scope, loose.id, UE)


@pytest.mark.parametrize(
    ("key", "value"),
    [(UE, "maybe"), ("default_ownership", "Z"), ("group_id_assignment_mode", "dropdown")],
)
async def test_bad_values_are_refused_naming_the_setting(
    session: AsyncSession, scope: Scope, tenant: Tenant, key: str, value: str
) -> None:
    before = await snapshot(session)
    with pytest.raises(InvalidInput) as err:
        await og_settings.override(session, scope, tenant.sales, key, value)
    assert repr(key) in err.value.message
    assert await snapshot(session) == before


async def test_unknown_settings_and_child_permissions_are_refused(
    session: AsyncSession, scope: Scope, tenant: Tenant
) -> None:
    with pytest.raises(UnknownSetting):
        await og_settings.override(session, scope, tenant.sales, "wallpaper", True)
    with pytest.raises(UnknownSetting):
        await og_settings.inherit(session, scope, tenant.sales, "wallpaper")
    with pytest.raises(UnknownSetting):
        await og_settings.read_one(session, scope, tenant.sales, "wallpaper")
    with pytest.raises(InvalidInput, match="ChildPermission must be one of"):
        await og_settings.override(session, scope, tenant.sales, UE, True, "Sometimes")


async def test_changing_only_the_value_keeps_the_child_permission(
    session: AsyncSession, scope: Scope, tenant: Tenant
) -> None:
    await og_settings.override(session, scope, tenant.acme, UE, "true", "InheritOnly")
    await og_settings.override(session, scope, tenant.acme, UE, "false")
    assert await stored(session, tenant.acme) == (False, "InheritOnly")
    await og_settings.override(session, scope, tenant.acme, UE, "true", "InheritOrOverride")
    assert await stored(session, tenant.acme) == (True, "InheritOrOverride")
