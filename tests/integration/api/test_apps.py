"""/API/mam/apps, a device's apps and a user's Apps and Books user, over HTTP: the catalog in
Workspace ONE's shapes, assignments, on-demand installs, and the rules on user-enrolled devices
(rule 6) as the device app list shows them."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from quince.domain.app_statuses import DeviceAppStatus
from quince.services.apps import catalog as apps
from quince.store.models import AppRow, DeviceRow, VppTokenRow, VppUserRow
from tests.fixtures.live_server import ApiClientFactory
from tests.integration.api.support import World, assert_error, snapshot

A = "/API/mam/apps"
ADAM_ID = "284882215"


def purchased_body(og_id: int, **extra: Any) -> dict[str, Any]:
    return {"ApplicationName": "Work Mail", "BundleId": "com.acme.mail", "AppStoreId": ADAM_ID,
            "LocationGroupId": og_id, "Purchased": 50, "Redeemed": 3, **extra}


async def _device(session: AsyncSession, og_id: int, user_id: int, *, user_enrolled: bool = True) -> int:
    row = DeviceRow(og_id=og_id, enrollment_user_id=user_id, udid=f"EID-{user_id}-{og_id}",
                    enrollment_status="Enrolled", ownership="E" if user_enrolled else "C",
                    is_user_enrolled=user_enrolled, license_type_eligibility=2 if user_enrolled else 0)
    session.add(row)
    await session.commit()
    return row.id


async def test_apps_of_each_kind_are_added_and_shown_in_workspace_one_shapes(
    api_client: ApiClientFactory, world: World
) -> None:
    client = await api_client(og_id=world.acme)
    bought = await client.post(f"{A}/purchased", json=purchased_body(world.acme,
                                                                    DeviceBasedLicensingEnabled=True))
    assert bought.status_code == 201, bought.text
    app = bought.json()
    assert app["AppType"] == "Purchased" and app["Platform"] == 2
    assert app["ManagedDistribution"] == {"Purchased": 50, "Redeemed": 3, "Burned": 3, "OnHold": 0,
                                          "Available": 47}
    assert (app["AdamId"], app["LocationGroupId"], app["DeviceBasedLicensingEnabled"]) == (
        ADAM_ID, world.acme, True)
    public = await client.post(f"{A}/public", json={
        "ApplicationName": "Notes", "BundleId": "com.example.notes", "AppStoreId": "361309726",
        "LocationGroupId": world.eng})
    internal = await client.post(f"{A}/internal", json={
        "ApplicationName": "Lab Tool", "BundleId": "com.acme.labtool", "LocationGroupId": world.eng,
        "ManifestUrl": "https://apps.acme.example/labtool.plist"})
    assert (public.status_code, internal.status_code) == (201, 201)
    assert "ManagedDistribution" not in public.json()
    assert internal.json()["AppType"] == "Internal"

    found = (await client.get(f"{A}/purchased/search", params={"applicationname": "mail"})).json()
    assert (found["Total"], [a["Id"]["Value"] for a in found["Application"]]) == (1, [app["Id"]["Value"]])
    assert set(found) == {"Application", "Page", "PageSize", "Total"}
    assert (await client.get(f"{A}/purchased/{app['Id']['Value']}")).json() == app
    everything = (await client.get(f"{A}/search", params={"locationgroupid": world.eng})).json()
    assert {a["AppType"] for a in everything["Application"]} == {"Public", "Internal"}
    # A public app is not a purchased one.
    assert_error(await client.get(f"{A}/purchased/{public.json()['Id']['Value']}"), 404)


async def test_a_bundle_already_in_the_catalog_is_a_conflict(
    api_client: ApiClientFactory, world: World, engine: AsyncEngine
) -> None:
    client = await api_client(og_id=world.acme)
    assert (await client.post(f"{A}/purchased", json=purchased_body(world.acme))).status_code == 201
    before = await snapshot(engine)
    body = assert_error(await client.post(f"{A}/purchased", json=purchased_body(world.acme)), 409)
    assert "already holds 'com.acme.mail'" in body["message"]
    assert await snapshot(engine) == before


async def test_assignments_are_added_listed_and_removed(
    api_client: ApiClientFactory, world: World
) -> None:
    client = await api_client(og_id=world.acme)
    app_id = (await client.post(f"{A}/purchased", json=purchased_body(world.acme))).json()["Id"]["Value"]
    to_og = await client.post(f"{A}/{app_id}/assignments", json={"LocationGroupId": world.eng})
    to_group = await client.post(f"{A}/{app_id}/assignments",
                                 json={"UserGroupId": world.sales_team, "Mode": "OnDemand"})
    assert (to_og.status_code, to_group.status_code) == (201, 201), to_og.text
    assert to_og.json()["TargetName"] == "Engineering" and to_og.json()["Mode"] == "Automatic"
    listed = (await client.get(f"{A}/{app_id}/assignments")).json()["Assignments"]
    assert [(a["LocationGroupId"], a["UserGroupId"], a["Mode"]) for a in listed] == [
        (world.eng, None, "Automatic"), (None, world.sales_team, "OnDemand")]
    assert_error(await client.post(f"{A}/{app_id}/assignments", json={"LocationGroupId": world.eng}), 409)
    removed = await client.delete(f"{A}/{app_id}/assignments/{to_og.json()['Id']['Value']}")
    assert removed.status_code == 204
    assert len((await client.get(f"{A}/{app_id}/assignments")).json()["Assignments"]) == 1


async def test_an_og_outside_the_apps_branch_cannot_be_assigned(
    api_client: ApiClientFactory, world: World
) -> None:
    client = await api_client(og_id=world.acme)
    eng_app = (await client.post(f"{A}/purchased", json=purchased_body(world.eng))).json()["Id"]["Value"]
    body = assert_error(await client.post(f"{A}/{eng_app}/assignments",
                                          json={"LocationGroupId": world.sales}), 422)
    assert "could never reach its devices" in body["message"]


async def test_the_device_app_list_shows_statuses_with_reasons_and_user_licences(
    api_client: ApiClientFactory, world: World, session: AsyncSession
) -> None:
    device = await _device(session, world.eng, world.carol)
    public = AppRow(og_id=world.eng, kind="public", name="Notes", bundle_id="com.example.notes",
                    adam_id="361309726")
    mail = AppRow(og_id=world.eng, kind="purchased", name="Work Mail", bundle_id="com.acme.mail",
                  adam_id=ADAM_ID, device_licensing_enabled=True)
    session.add_all([public, mail])
    await session.flush()
    await apps.set_device_app_status(session, device, public.id, DeviceAppStatus.NOT_SUPPORTED,
                                     "Public App Store apps cannot be installed on a user-enrolled device.")
    # Even a stored device licence is shown as a user licence on a user-enrolled device (rule 6).
    await apps.set_device_app_status(session, device, mail.id, DeviceAppStatus.INSTALL_QUEUED, "", "device",
                                     "CMD-1")
    await session.commit()
    client = await api_client(og_id=world.acme)
    listed = (await client.get(f"/API/mdm/devices/{device}/apps")).json()
    assert (listed["Total"], listed["Page"], listed["PageSize"]) == (2, 0, 500)
    notes, work_mail = listed["DeviceApps"]
    assert (notes["Status"], notes["Type"], notes["LicenseType"], notes["AppStoreVendable"]) == (
        "NotSupported", "Public", None, False)
    assert notes["StatusReason"].startswith("Public App Store apps cannot be installed")
    assert (work_mail["ApplicationIdentifier"], work_mail["LicenseType"], work_mail["DeviceBasedVPP"],
            work_mail["Type"], work_mail["IsManaged"]) == ("com.acme.mail", "User", False, "Purchased", False)
    page = (await client.get(f"/API/mdm/devices/{device}/apps", params={"pagesize": 1, "page": 1})).json()
    assert [a["ApplicationName"] for a in page["DeviceApps"]] == ["Work Mail"]
    sales = await api_client(og_id=world.sales)
    assert_error(await sales.get(f"/API/mdm/devices/{device}/apps"), 404)


async def test_an_on_demand_install_gives_a_user_enrolled_device_a_user_licence(
    api_client: ApiClientFactory, world: World, session: AsyncSession
) -> None:
    device = await _device(session, world.eng, world.carol)
    client = await api_client(og_id=world.acme)
    app = (await client.post(f"{A}/purchased", json=purchased_body(
        world.eng, DeviceBasedLicensingEnabled=True))).json()["Id"]["Value"]
    response = await client.post(f"{A}/purchased/{app}/install", json={"DeviceId": device})
    assert response.status_code == 202, response.text
    [status] = response.json()["DeviceApps"]
    assert (status["DeviceId"], status["LicenseType"], status["DeviceBasedVPP"]) == (device, "User", False)
    assert status["Status"] in {"WaitingForVppUser", "WaitingForLicense", "InstallQueued"}
    by_user = await client.post(f"{A}/purchased/{app}/install", json={"UserId": world.carol})
    assert by_user.status_code == 202, by_user.text
    assert [s["DeviceId"] for s in by_user.json()["DeviceApps"]] == [device]
    assert_error(await client.post(f"{A}/purchased/{app}/install",
                                   json={"DeviceId": device, "UserId": world.carol}), 400)


async def test_the_vpp_user_of_a_user_is_shown_with_its_status_and_never_the_token(
    api_client: ApiClientFactory, world: World, session: AsyncSession
) -> None:
    token = VppTokenRow(og_id=world.acme, token_encrypted=b"very-secret-token", token_sha256="f" * 64)
    session.add(token)
    await session.flush()
    session.add(VppUserRow(token_id=token.id, enrollment_user_id=world.bob, client_user_id="cu-bob",
                           managed_apple_id="bob@acme.appleid.example", status="Associated"))
    await session.commit()
    acme = await api_client(og_id=world.acme)
    response = await acme.get(f"/API/system/users/{world.bob}/vppuser")
    assert response.status_code == 200, response.text
    [vpp_user] = response.json()["VppUsers"]
    assert (vpp_user["ClientUserId"], vpp_user["Status"], vpp_user["ManagedAppleId"]) == (
        "cu-bob", "Associated", "bob@acme.appleid.example")
    assert vpp_user["TokenLocationGroup"]["Id"]["Value"] == world.acme
    assert "secret" not in response.text and "f" * 64 not in response.text
    eng = await api_client(og_id=world.eng)
    narrow = (await eng.get(f"/API/system/users/{world.bob}/vppuser")).json()["VppUsers"]
    assert narrow[0]["TokenLocationGroup"] is None
    assert (await acme.get(f"/API/system/users/{world.carol}/vppuser")).json() == {"VppUsers": []}
