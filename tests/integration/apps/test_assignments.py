"""Assignments on stored data, and which apps reach a device: OG assignments cover the OGs below,
user-group assignments cover their members' devices, and only apps from catalogs at or above the
device's OG apply. Also the per-device app status and a user's Apps and Books users."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from quince.domain.app_eligibility import AppKind, LicenseType
from quince.domain.app_statuses import DeviceAppStatus
from quince.domain.errors import Conflict, InvalidInput, NotFound
from quince.services.apps import catalog as apps
from quince.services.apps import delivery as app_delivery
from quince.services.apps.catalog import NewApp
from quince.services.devices.records import DeviceNotFound
from quince.services.directory import user_groups
from quince.services.scope import Scope
from quince.store.models import AppRow, JobRow, VppTokenRow, VppUserRow
from quince.store.paging import PageRequest
from tests.integration.api.support import World
from tests.integration.apps.conftest import add_device, scope_at


async def _app(session: AsyncSession, scope: Scope, og_id: int, bundle_id: str) -> AppRow:
    return await apps.create(session, scope, NewApp(
        AppKind.PURCHASED, og_id, bundle_id.rsplit(".", 1)[-1].title(), bundle_id, adam_id="1000",
        total_licenses=10))


def _ids(found: list[tuple[AppRow, object]]) -> list[int]:
    return [app.id for app, _ in found]


async def test_an_og_assignment_covers_devices_in_the_ogs_below(
    session: AsyncSession, scope: Scope, world: World
) -> None:
    app = await _app(session, scope, world.acme, "com.acme.mail")
    assignment = await apps.assign(session, scope, app.id, "og", world.eng)
    lab_device = await add_device(session, world.eng_lab, world.bob)
    sales_device = await add_device(session, world.sales, world.alice)
    assert await apps.apps_for_device(session, lab_device) == [(app, assignment)]
    assert await apps.apps_for_device(session, sales_device) == []


async def test_a_user_group_assignment_covers_only_its_members_devices(
    session: AsyncSession, scope: Scope, world: World
) -> None:
    app = await _app(session, scope, world.eng, "com.acme.builder")
    await apps.assign(session, scope, app.id, "user_group", world.eng_team)
    bobs = await add_device(session, world.eng, world.bob)
    carols = await add_device(session, world.eng, world.carol)
    assert _ids(await apps.apps_for_device(session, bobs)) == [app.id]
    assert await apps.apps_for_device(session, carols) == []
    await user_groups.add_member(session, scope, world.eng_team, world.carol)
    assert _ids(await apps.apps_for_device(session, carols)) == [app.id]


async def test_only_apps_from_catalogs_at_or_above_the_devices_og_apply(
    session: AsyncSession, scope: Scope, world: World
) -> None:
    everyone = await user_groups.create(session, scope, name="Everyone", og_id=world.acme)
    for user in (world.alice, world.bob):
        await user_groups.add_member(session, scope, everyone.id, user)
    eng_app = await _app(session, scope, world.eng, "com.acme.builder")
    await apps.assign(session, scope, eng_app.id, "user_group", everyone.id)
    alices = await add_device(session, world.sales, world.alice)
    bobs = await add_device(session, world.eng_lab, world.bob)
    assert await apps.apps_for_device(session, alices) == []
    assert _ids(await apps.apps_for_device(session, bobs)) == [eng_app.id]


async def test_on_demand_assignments_are_not_pushed_automatically(
    session: AsyncSession, scope: Scope, world: World
) -> None:
    app = await _app(session, scope, world.acme, "com.acme.extra")
    await apps.assign(session, scope, app.id, "og", world.acme, "on_demand")
    device = await add_device(session, world.eng, world.bob)
    assert await apps.apps_for_device(session, device) == []
    found = await apps.assignments_for_device(session, device, modes=("automatic", "on_demand"))
    assert _ids(found) == [app.id]


async def test_an_app_assigned_twice_to_a_device_is_listed_once(
    session: AsyncSession, scope: Scope, world: World
) -> None:
    app = await _app(session, scope, world.acme, "com.acme.mail")
    first = await apps.assign(session, scope, app.id, "og", world.acme)
    await apps.assign(session, scope, app.id, "user_group", world.eng_team)
    device = await add_device(session, world.eng, world.bob)
    assert await apps.apps_for_device(session, device) == [(app, first)]


async def test_assignment_targets_must_be_able_to_reach_the_apps_devices(
    session: AsyncSession, scope: Scope, world: World
) -> None:
    app = await _app(session, scope, world.eng, "com.acme.builder")
    with pytest.raises(InvalidInput) as err:
        await apps.assign(session, scope, app.id, "og", world.sales)
    assert "not at or below it" in err.value.message
    with pytest.raises(InvalidInput):
        await apps.assign(session, scope, app.id, "user_group", world.sales_team)
    with pytest.raises(InvalidInput):
        await apps.assign(session, scope, app.id, "device", world.eng)
    with pytest.raises(InvalidInput):
        await apps.assign(session, scope, app.id, "og", world.eng, "sometimes")
    await apps.assign(session, scope, app.id, "og", world.eng_lab)
    with pytest.raises(Conflict):
        await apps.assign(session, scope, app.id, "og", world.eng_lab)


async def test_assignments_are_listed_and_removed_within_scope(
    session: AsyncSession, scope: Scope, world: World
) -> None:
    app = await _app(session, scope, world.acme, "com.acme.mail")
    og_assignment = await apps.assign(session, scope, app.id, "og", world.sales)
    group_assignment = await apps.assign(session, scope, app.id, "user_group", world.eng_team, "on_demand")
    listed = await apps.assignments_of(session, scope, app.id)
    assert [(v.row.id, v.target_name) for v in listed] == [
        (og_assignment.id, "Sales"), (group_assignment.id, "Eng Team")]
    sales = await scope_at(session, world.sales)
    with pytest.raises(NotFound):
        await apps.assign(session, sales, app.id, "og", world.sales)  # the app is Acme's
    with pytest.raises(NotFound):
        await apps.unassign(session, scope, app.id, group_assignment.id + 1000)
    await apps.unassign(session, scope, app.id, og_assignment.id)
    assert [v.row.id for v in await apps.assignments_of(session, scope, app.id)] == [group_assignment.id]


async def test_a_device_app_status_is_recorded_once_and_updated(
    session: AsyncSession, scope: Scope, world: World
) -> None:
    app = await _app(session, scope, world.eng, "com.acme.builder")
    device = await add_device(session, world.eng, world.bob)
    first = await apps.set_device_app_status(session, device.id, app.id, DeviceAppStatus.WAITING_FOR_VPP_USER,
                                             "Registering the user with Apps and Books.")
    again = await apps.set_device_app_status(session, device.id, app.id, DeviceAppStatus.INSTALL_QUEUED, "",
                                             license_type=LicenseType.USER, command_uuid="CMD-1")
    assert first.id == again.id
    assert (again.status, again.license_type, again.command_uuid) == ("InstallQueued", "user", "CMD-1")
    assert await apps.device_app_by_command(session, "CMD-1") is again
    page = await apps.device_apps(session, scope, device.id, PageRequest(0, 10))
    assert page.total == 1
    assert [(d.status, a.bundle_id) for d, a in page.items] == [("InstallQueued", "com.acme.builder")]
    with pytest.raises(DeviceNotFound):
        await apps.device_apps(session, await scope_at(session, world.sales), device.id, PageRequest())


async def test_a_users_apps_and_books_user_is_shown_with_its_token_og(
    session: AsyncSession, scope: Scope, world: World
) -> None:
    token = VppTokenRow(og_id=world.acme, token_encrypted=b"secret", token_sha256="0" * 64)
    session.add(token)
    await session.flush()
    session.add(VppUserRow(token_id=token.id, enrollment_user_id=world.bob,
                           managed_apple_id="bob@acme.appleid.example", status="Associated"))
    await session.flush()
    [view] = await apps.vpp_user_of(session, scope, world.bob)
    assert (view.row.status, view.token_og and view.token_og.id) == ("Associated", world.acme)
    [narrow] = await apps.vpp_user_of(session, await scope_at(session, world.eng), world.bob)
    assert narrow.token_og is None  # Acme lies above an Engineering admin
    assert await apps.vpp_user_of(session, scope, world.carol) == []
    with pytest.raises(NotFound):
        await apps.vpp_user_of(session, await scope_at(session, world.sales), world.bob)


async def test_a_purchased_app_for_a_device_without_a_user_is_not_supported_with_the_reason(
    session: AsyncSession, scope: Scope, world: World
) -> None:
    app = await _app(session, scope, world.acme, "com.acme.shared")
    shared_ipad = await add_device(session, world.eng, None, user_enrolled=False)
    row = await app_delivery.deliver(session, shared_ipad, app)
    assert row.status == "NotSupported"
    assert row.reason == "A user-based licence needs an enrollment user, and this device has none."
    assert await session.scalar(select(func.count()).select_from(JobRow)) == 0  # nothing sent
